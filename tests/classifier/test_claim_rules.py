"""Claim rules (classifier/rules/claims.py, claims.toml): each family's true positive and the
legitimate look-alike that stays clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.normalize import normalize
from classifier.rules import CategoryEvidence, RuleError, RuleSet

# A formal report around the one passage that carries the claim (passages are paragraphs).
INTRO = (
    "为做好近期各项工作，现将有关情况通报如下。一是全县各乡镇按照部署开展隐患排查，累计排查点位126处，"
    "整改问题38个。二是加强值班值守，严格落实领导带班制度。\n"
)
OUTRO = "\n下一步，我们将继续压实责任，确保各项措施落实到位。"


def evidence(rules: RuleSet, text: str, category: str) -> CategoryEvidence | None:
    return rules.evaluate(normalize(text).text).categories.get(category)


def rule_ids(rules: RuleSet, text: str, category: str) -> list[str]:
    found = evidence(rules, text, category)
    return found.rule_ids if found else []


def score(rules: RuleSet, text: str, category: str) -> float:
    found = evidence(rules, text, category)
    return found.score if found else 0.0


# --- unsourced claims ---------------------------------------------------------------------------

UNSOURCED = [
    # casualties on a netizen's word
    "据现场网友爆料，事故已造成至少十余人遇难，具体原因正在调查中。",
    # a dam failure from a chat group
    "还有村民说，上游的大坝这两天已经渗水，今晚可能撑不住，住在河边的群众最好先搬到亲戚家。",
    # a subsidy amount and date from an anonymous staff member
    "另据一位不愿透露姓名的工作人员介绍，今年的耕地地力补贴将提高到每亩280元，12月底前一次性发放到卡。",
    # a school-admission change from the parents' group
    "据群里家长消息，今年县一中将取消统招，只招收本学区户籍学生。",
    # a price surge from a self-media blogger
    "有自媒体博主分析，下个月猪肉价格将暴涨50%以上，建议市民提前囤货。",
    # an outbreak count from an insider
    "有内部员工透露，县医院发热门诊这几天已经接诊了四十多名不明原因肺炎患者。",
]

# The same kinds of statement with a source, refuted, or reported in quotation marks.
SOURCED = [
    "据县应急管理局通报，事故已造成3人遇难，具体原因正在调查中。",
    "网友反映城南路口红绿灯故障，小区3栋停电。经核查，系线路老化所致，交警大队已于当日修复。",
    "据县气象台发布，今晚到明天有大到暴雨，局地累计雨量可达100毫米，请群众注意防范。",
    "近日网传县一中将取消统招的消息不实，县教育局表示今年招生政策保持不变。",
    "近日，一条“我市将向全体市民发放每人3000元生活补贴”的消息在微信群中流传，引发关注。",
    "市民王先生说，这次社区改造后，小区停车位增加了60个，出行方便多了。",
    "如有知情者，请与新华派出所联系，82岁老人陈某身高约1.65米。",
    "今天北京市教委介绍了考试安排：中考英语听说机考时间为6月13日至14日。",
]


@pytest.mark.parametrize("passage", UNSOURCED)
def test_a_claim_stated_on_a_vague_source_flags_alone(rules: RuleSet, passage: str) -> None:
    # The source opens the sentence and the claim follows it: the post repeats the hearsay.
    for text in (passage, INTRO + passage + OUTRO):
        found = evidence(rules, text, "unverified")
        assert found is not None and "uv.unsourced_claim" in found.rule_ids, text
        assert rules.claims is not None
        assert found.score == pytest.approx(rules.claims.weight_sentence), text
        assert found.score >= rules.flag_threshold, text


# The source named after the claim, or the claim asked about: evidence that needs the model.
UNSOURCED_CUES = [
    "县医院发热门诊这几天已经接诊了四十多名不明原因肺炎患者，这是有内部员工透露的。",
    "听说明年起农村老人每月可以多领500元养老金，是真的吗？",
    "有网友认为，下个月起全市公交票价将上调到3元。",
]


@pytest.mark.parametrize("passage", UNSOURCED_CUES)
def test_a_reported_or_asked_claim_is_evidence_that_needs_the_model(rules: RuleSet, passage: str) -> None:
    found = evidence(rules, INTRO + passage + OUTRO, "unverified")
    assert found is None or found.score < rules.flag_threshold, passage


@pytest.mark.parametrize("passage", SOURCED)
def test_sourced_refuted_or_quoted_claims_stay_clean(rules: RuleSet, passage: str) -> None:
    for text in (passage, INTRO + passage + OUTRO):
        assert "uv.unsourced_claim" not in rule_ids(rules, text, "unverified"), text


def test_authority_counts_in_its_own_passage_only(rules: RuleSet) -> None:
    rumour = "另据群里消息，上游水库已经出现裂缝，今晚可能会溃坝，下游五个村都要被淹。"
    # The report's own 通报 (another passage) does not source the rumour …
    assert "uv.unsourced_claim" in rule_ids(rules, INTRO + rumour + OUTRO, "unverified")
    # … a monitoring body in the same passage does.
    sourced = "据县水利局监测数据，上游水库水位正常。另据群里消息，上游水库出现裂缝。"
    assert "uv.unsourced_claim" not in rule_ids(rules, INTRO + sourced + OUTRO, "unverified")


def test_a_hedge_is_not_a_debunking(rules: RuleSet) -> None:
    hedged = (
        "据内部人士消息，清明节后我市将对外地车辆实施全天禁行，违者罚款2000元，尚未正式发文，以官方发布为准。"
    )
    assert "uv.unsourced_claim" in rule_ids(rules, hedged, "unverified")


def test_two_claim_cues_weigh_more_and_hearsay_words_are_topped_up(rules: RuleSet) -> None:
    assert rules.claims is not None
    one = "小区旁边的变电站辐射超标，有业主在群里说。"
    two = "本月下旬我市可能发生6级以上地震，有专家称。"
    assert score(rules, one, "unverified") == pytest.approx(rules.claims.weight)
    assert score(rules, two, "unverified") == pytest.approx(rules.claims.weight_multi)
    # 据说 is also a hearsay lexicon cue: the claim rule brings the evidence up to its own
    # weight, never past it (joint evidence here, the sentence weight where it is asserted).
    asked = "明年起农村老人每月可以多领500元养老金？据说是。"
    found = evidence(rules, asked, "unverified")
    assert found is not None and {"uv.hearsay", "uv.unsourced_claim"} <= set(found.rule_ids)
    assert found.score == pytest.approx(rules.claims.weight_multi)
    stated = "据说，明年起60岁以上的农村老人每月可以多领500元养老金。"
    assert score(rules, stated, "unverified") == pytest.approx(rules.claims.weight_sentence)


# --- health myths -------------------------------------------------------------------------------

MYTHS = [
    "螃蟹和柿子一起吃会产生砒霜，请大家务必牢记。",
    "打了新冠疫苗会导致不孕不育，年轻人要慎重。",
    "每天喝一杯芹菜汁，坚持三个月高血压就能停药。",
    "喝姜汤比打疫苗更管用，家里老人孩子都可以试试。",
]
MYTH_LOOKALIKES = [
    "县疾控中心提醒：螃蟹和柿子一起吃会中毒的说法没有科学依据，但螃蟹要蒸熟煮透。",
    "接种疫苗不会导致不孕不育，请适龄人群及时接种。",
    "打流感疫苗会引起流感吗？不会，疫苗中的病毒已经灭活。",
    "高血压患者不能擅自停药，应在医生指导下调整用药。",
]


@pytest.mark.parametrize("text", MYTHS)
def test_health_myth_shapes(rules: RuleSet, text: str) -> None:
    assert "uv.health_myth" in rule_ids(rules, text, "unverified")


@pytest.mark.parametrize("text", MYTH_LOOKALIKES)
def test_refuted_negated_or_asked_myths_stay_clean(rules: RuleSet, text: str) -> None:
    assert "uv.health_myth" not in rule_ids(rules, text, "unverified")


def test_a_myth_on_an_unnamed_experts_word_flags_alone(rules: RuleSet) -> None:
    text = INTRO + "有专家称，每天空腹喝一杯淡盐水，坚持一个月就可以停掉降压药。" + OUTRO
    assert score(rules, text, "unverified") >= rules.flag_threshold


# --- harmful promotion --------------------------------------------------------------------------

# (family, promotion inside a formal post, rule id that must fire, the warning that quotes it)
PROMOTION = [
    (
        "fundraising",
        "另外向大家推荐“金穗理财”项目，年化收益高达15%，保本保息，介绍一位亲友投资还能奖励300元。",
        "hm.fundraising_return",
        "警方提醒：凡是宣称“年化收益15%、保本保息”的理财项目都是非法集资，切勿轻信。",
    ),
    (
        "eldercare card",
        "我镇养老服务中心推出“孝心卡”，老人预存5万元即可每月领取2%的利息，到期本金全额返还。",
        "hm.eldercare_prepaid",
        "市民政局提醒：以养老服务为名，以预存会员卡返还高额利息为诱饵的，多为养老诈骗，请警惕。",
    ),
    (
        "crypto",
        "投资泰达币理财，每天收益3%，一个月回本，欢迎大家参与。",
        "hm.crypto_return",
        "【以案说法】“投资虚拟币，日收益5%”——市民刘某轻信此类宣传被骗46万元，切勿轻信。",
    ),
    (
        "campus loan",
        "需要资金周转的同学可以找“青春贷”，不看征信，身份证就能借，父母不会知道。",
        "hm.campus_loan",
        "反诈中心提醒：“不看征信、借款父母不会知道”的校园贷都是诈骗，大学生切勿上当。",
    ),
    (
        "ghost-writing",
        "毕业论文写不完的同学不用着急，可联系学院门口打印店代写论文，包过审。",
        "hm.ghostwriting",
        "警惕“代写论文、包过审”骗局，学校将依法严肃处理学术不端行为。",
    ),
    (
        "escort",
        "夜间出行的游客如需放松，可联系景区周边的高端伴游服务，美女上门，价格实惠。",
        "hm.escort",
        "市公安局开展扫黄打非专项行动，依法查处“高端伴游服务”等违法犯罪活动。",
    ),
    (
        "gambling cash-out",
        "本县“欢乐棋牌”APP已上线，斗地主、麻将赢的金币可以兑换成现金，直接提现到微信。",
        "hm.gambling_cashout",
        "县公安局依法查处一起利用棋牌APP金币兑换现金的网络赌博案，抓获犯罪嫌疑人5名。",
    ),
    (
        "casino link",
        "更多精彩请访问新葡京娱乐城 www.xpj888.com 注册即送彩金。",
        "hm.casino_link",
        "警方提醒：“新葡京娱乐城”等境外赌博网站都是骗局，切勿注册。",
    ),
    (
        "vigilante",
        "对于在街上乱摆摊的小贩，大家可以直接把他们的摊子掀了，出了事社区负责。",
        "hm.vigilante_call",
        "城管部门提醒：对占道经营要依法劝导，严禁把摊贩的摊子掀了等粗暴执法行为，违法犯罪将被依法处理。",
    ),
    (
        "don't rent or hire",
        "近期盗窃案件多，各出租户不要把房子租给外地人，企业也不要招外地人。",
        "hm.discrimination_exclude",
        "县人社局提醒：用人单位不得以地域、民族为由拒绝招用外地人，违者将依法处理。",
    ),
    (
        "slur",
        "某省来的人都是小偷，大家要多留个心眼。",
        "hm.discrimination_slur",
        "记者报道：某公司在招聘启事中写“某省来的人都是小偷”，被市场监管部门依法查处。",
    ),
    (
        "beat him",
        "这名偷车贼抓到了就该往死里打，打死算他活该，出了问题所里担着！",
        "hm.vigilante_call",
        "派出所提醒：抓获小偷应及时报警，不要私自殴打，更不能往死里打，否则同样违法。",
    ),
    (
        "don't rent to a minority",
        "三、各出租户不得向少数民族人员出租房屋，已经租住的要在月底前劝其搬离。",
        "hm.discrimination_exclude",
        "三、各出租户不得以民族、地域为由拒绝向少数民族人员出租房屋，发现歧视行为可向镇综治中心反映。",
    ),
    (
        "registered elsewhere",
        "5. 本次招聘暂不接收户籍在临川县的考生报名。",
        "hm.discrimination_exclude",
        "5. 本次招聘面向全国，不得以户籍、地域等为由限制报名，请各地考生踊跃参加。",
    ),
    (
        "accent",
        "近期入室盗窃多发，请居民对说外地口音、在楼道徘徊的陌生人提高警惕，及时报警。",
        "hm.discrimination_profile",
        "近期入室盗窃多发，请居民对在楼道徘徊、反复试探门锁的陌生人提高警惕，及时报警。",
    ),
    (
        "mocking a county",
        "【周末聊聊】你见过最奇葩的邻县人是什么样？小编先说：邻县人抠门又爱占小便宜，评论区等你！",
        "hm.discrimination_slur",
        "【周末聊聊】你去过邻县吗？小编推荐邻县古镇的桂花糕和老街夜景，评论区说说你的旅行故事！",
    ),
    (
        "card with a yearly rate",
        "即日起面向老年朋友发售“乐龄会员卡”，办卡3万元起，每年可领取10%的会员补贴，三年到期退还本金。",
        "hm.eldercare_prepaid",
        "市民政局提醒：凡以办理会员卡、每年返还10%补贴为名吸收老年人资金的，均涉嫌非法集资，请勿轻信。",
    ),
    (
        "escort spam",
        "【赏花指南】本周末樱花进入盛花期，欢迎市民前来游园。同城约会 空姐模特 包夜优惠 私信联系",
        "hm.escort",
        "警方提醒：“同城约会”“空姐模特”等色情招嫖广告背后多是诈骗，切勿添加对方联系方式。",
    ),
    (
        "break their legs",
        "县公安局通报：近期发生多起偷牛案。对这些偷牛贼，村民们以后看见了直接把他的腿打断，打死了也是替天行道。",
        "hm.vigilante_call",
        "县公安局通报：近期发生多起偷牛案。村民发现可疑人员请及时报警，严禁私自殴打，打伤他人同样要承担法律责任。",
    ),
    (
        "ethnic contempt",
        "驻村工作队发现，这里的瑶族群众天生懒散，宁可在家喝酒也不愿意下地，帮扶工作很难推动。",
        "hm.discrimination_slur",
        "驻村工作队和瑶族群众一起修通了进村路，合作社今年分红12万元，帮扶工作取得实效。",
    ),
    (
        "don't hire people of a province",
        "给各位老板提个醒：招工时千万别招湖北人，宁可多花点钱也别用他们。",
        "hm.discrimination_slur",
        "人社局提醒：用人单位招工时不得以地域为由拒绝湖北籍等外地求职者，违者将依法查处。",
    ),
    (
        "cash card game",
        "推荐大家玩“好运斗地主”，真人对战赢现金，充值即送50元，赢了随时提现秒到账。",
        "hm.gambling_cashout",
        "县公安局破获一起网络赌博案：该平台以“充值即送、赢了随时提现”为诱饵，涉案金额300余万元。",
    ),
    (
        "credit repair",
        "征信有逾期的朋友可以找我们合作的团队，内部渠道修复征信、包装流水，一周下款，咨询请私信。",
        "hm.illicit_service",
        "反诈中心提醒：所谓“修复征信”“包装流水”都是诈骗，征信异议只能通过人民银行征信中心依法申请。",
    ),
    (
        "condoning force",
        "对屡教不改的占道摊贩，执法队员不要怕，该动手就动手，出了问题局里担着。",
        "hm.vigilante_call",
        "对屡教不改的占道摊贩，执法队员要耐心劝导、依法处置，严禁动手打人，违者严肃追责。",
    ),
    (
        "no minority hires",
        "本期招聘岗位原则上不招收少数民族人员，请相关求职者不要前来报名。",
        "hm.discrimination_exclude",
        "本期招聘岗位对各民族求职者一视同仁，不得以民族为由拒绝录用，欢迎符合条件的求职者报名。",
    ),
    (
        "hang up on an accent",
        "反诈小贴士：骗子大多是南边那个县的，一听到那种口音就直接挂掉，别跟他们多说。",
        "hm.discrimination_profile",
        "反诈小贴士：骗子会冒充客服、公检法，接到索要验证码的电话请直接挂掉，并拨打96110咨询。",
    ),
    (
        "phishing",
        "还未领取补贴的群众请扫描下方二维码，填写姓名、身份证号、银行卡号及手机验证码，审核后即可到账。",
        "hm.phishing",
        "警方提醒：骗子常以发放补贴为名，诱导群众扫码后填写身份证号、银行卡号及验证码，切勿上当。",
    ),
    (
        "spam line",
        "秸秆禁烧工作会议召开。代开正规发票 刷卡套现 百度快速排名 包上首页 微信同号",
        "hm.spam_service",
        "县税务局提醒：“代开正规发票”属于违法行为，发现此类广告请向税务机关举报。",
    ),
    (
        "task rebate",
        "想在家增收的居民可以试试网店刷单，垫付货款后本金加佣金当天返还，有意向的请联系小区群主进群。",
        "hm.task_rebate",
        "反诈中心提醒：“垫付货款刷单、当天返还佣金、进群领任务”都是刷单返利诈骗，切勿相信。",
    ),
    (
        "safe account",
        "经核查，您名下账户涉嫌洗钱，请于明日前将全部存款转入以下安全账户配合核查，核查后全额退还。",
        "hm.safe_account",
        "民警提示：公检法机关不会要求群众将资金转入所谓“安全账户”配合核查，接到此类电话请立即挂断。",
    ),
    (
        "overseas job",
        "另有海外岗位：东南亚某公司招聘客服，月薪3万元，无需学历和经验，持旅游签证即可出发。",
        "hm.overseas_job",
        "警方提醒：谨防“境外高薪、无需经验、旅游签证出境”的招聘骗局，出境务工请通过正规对外劳务合作企业。",
    ),
]


@pytest.mark.parametrize(
    ("family", "promotion", "rule_id", "warning"), PROMOTION, ids=[p[0] for p in PROMOTION]
)
def test_harmful_promotion_flags_and_the_warning_does_not(
    rules: RuleSet, family: str, promotion: str, rule_id: str, warning: str
) -> None:
    text = INTRO + promotion + OUTRO
    assert rule_id in rule_ids(rules, text, "harmful"), family
    assert score(rules, text, "harmful") >= rules.flag_threshold, family
    assert score(rules, warning, "harmful") < rules.flag_threshold, family


def test_a_post_against_discrimination_may_quote_the_slur(rules: RuleSet) -> None:
    slur = "那地方出来的人骗子特别多，一听到那种口音就直接挂掉。"
    assert score(rules, slur, "harmful") >= rules.flag_threshold
    rebuttal = (
        "近日有网友留言称“" + slur + "”对此我们要说：诈骗与籍贯无关，这种地域歧视言论不可取，"
        "识别骗局靠的是知识而不是偏见。"
    )
    assert score(rules, rebuttal, "harmful") < rules.flag_threshold


def test_casino_link_rule_reads_the_posts_links(rules: RuleSet) -> None:
    text = normalize("详情请点击下方链接。").text
    casino = [{"href": "https://www.xpj7788.vip/register", "text": "点击进入"}]
    official = [{"href": "https://www.gov.cn/zhengce/", "text": "中国政府网"}]
    found = rules.evaluate(text, links=casino).categories.get("harmful")
    assert found is not None and "hm.link_casino" in found.rule_ids
    assert "harmful" not in rules.evaluate(text, links=official).categories


# --- the file itself ----------------------------------------------------------------------------


def test_claims_file_is_part_of_the_rules_version(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (copy / "claims.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[lexicon]]\nid = "hm.extra"\ncategory = "harmful"\nweight = 0.6\nterms = ["某某新词"]\n')
    edited = RuleSet.load(copy)
    assert edited.version != rules.version
    assert "hm.extra" in rule_ids(edited, "某某新词", "harmful")


def test_a_broken_claims_file_names_itself(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (copy / "claims.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[myth]]\nid = "uv.bad"\nweight = 0.4\npattern = \'(unclosed\'\nanchors = ["x"]\n')
    with pytest.raises(RuleError, match=r"claims\.toml"):
        RuleSet.load(copy)


def test_entries_of_one_id_must_agree_on_the_contexts_that_do_not_lower_it(
    tmp_path: Path, rules: RuleSet
) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (copy / "claims.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[[pattern]]\nid = "hm.discrimination_slur"\ncategory = "harmful"\nweight = 0.7\n'
            'anchors = ["x"]\npattern = \'xyz\'\nnot_lowered_by = ["ctx.news_report"]\n'
        )
    with pytest.raises(RuleError, match=r"claims\.toml.*hm\.discrimination_slur.*not_lowered_by"):
        RuleSet.load(copy)
