"""Rule tables: each category's lexicons and patterns, validators, context, versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.normalize import normalize
from classifier.rules import RuleError, RuleSet
from classifier.rules.validators import id_check_digit, is_bank_card, is_id_card, is_mobile, luhn_ok

VALID_ID = "110101199003074514"
VALID_CARD = "6222021234567890128"


def fired(rules: RuleSet, text: str) -> dict[str, tuple[float, list[str]]]:
    result = rules.evaluate(normalize(text).text)
    return {
        category: (evidence.score, evidence.rule_ids)
        for category, evidence in result.categories.items()
        if evidence.score >= rules.flag_threshold
    }


# (text, category that must fire, a rule id that must be among the evidence)
POSITIVE = [
    ("正宗草原羊肉，加微信下单，满200包邮！", "marketing", "mk.order_contact"),
    ("进店选购：https://shop123.taobao.com 全场包邮", "marketing", "mk.shop_link"),
    ("羊绒衫原价899元，现价仅需199元，点击主页小黄车", "marketing", "mk.shop_link"),
    ("咨询请加微信：nmg_sheep2024，量大从优", "marketing", "mk.wechat_id"),
    ("紧急扩散！明天全市停水三天，转发给家人！", "unverified", "uv.chain"),
    ("据说某小区有人得了怪病，网传已经死了好几个人，求扩散", "unverified", "uv.chain"),
    ("精品久久久久国产|AV永久精品无码国产|99亚洲专区福利在线|国产成人毛片", "harmful", "hm.seo_block"),
    ("百家乐真人赌场，注册送38元，首存返水", "harmful", "hm.gambling"),
    ("同城约炮，视频裸聊，全套服务", "harmful", "hm.porn"),
    ("专业代开发票，办假证，可查验后付款", "harmful", "hm.fraud"),
    ("出售仿真枪，枪支弹药出售，包邮", "harmful", "hm.violence"),
    ("黑鬼就该滚回非洲去", "harmful", "hm.ethnic_hatred"),
    (f"低保对象张三，身份证号{VALID_ID}，救助金额2000元", "privacy", "pv.id_card"),
    ("违规人员：郑某，手机号码13812345678，现住某小区", "privacy", "pv.mobile"),
    (f"补贴发放至银行卡{VALID_CARD}", "privacy", "pv.bank_card"),
    ("会议要求及时拔款支持重点项目", "expression", "ex.typo"),
    ("各部门必需坚持人民至上", "expression", "ex.typo"),
    ("国务院副总理李强主持召开会议", "expression", "ex.leader_title"),
    ("会议当选代表名单公布，国务院副总理李强出席", "expression", "ex.leader_title"),
    ("李强、习近平、王沪宁出席会议", "expression", "ex.leader_order"),
    ("习近平总书记、赵乐际委员长、李强总理出席", "expression", "ex.leader_order"),
]

# (text, category that must NOT fire): what a naive lexicon would flag
NEGATIVE = [
    ("警方提醒：刷单返利都是诈骗，公检法没有安全账户，切勿转账", "harmful"),
    ("市公安局破获跨境网络赌博案，打掉以“皇冠体育”为名的平台，抓获犯罪嫌疑人36名", "harmful"),
    ("【辟谣】网传明天全市停水系谣言，请勿转发扩散，以官方发布为准", "unverified"),
    ("消费帮扶：兴和县农产品入驻832平台，欢迎扫码购买，以购代捐助力乡村振兴", "marketing"),
    ("景区门票执行政府指导价，成人票60元/人，学生半价", "marketing"),
    ("低保对象张*明，身份证号150102********1234，联系电话138****5678", "privacy"),
    ("报名咨询电话：0471-4183720、13812345678（李老师）", "privacy"),
    ("联系人：王队长 13812345678", "privacy"),
    ("保障群众生活必需品供应，必需物资储备充足", "expression"),
    ("习近平、李强、赵乐际、王沪宁、蔡奇、丁薛祥、李希等出席大会", "expression"),
    ("国家主席习近平、国务院总理李克强会见外宾", "expression"),
    ("中国环境与发展国际合作委员会主席丁薛祥出席", "expression"),
    ("李强书记到村里调研", "expression"),
    # Unpunctuated (as in text_norm): titles a verb gave the previous name stand before the next.
    ("习近平全票当选国家主席中央军委主席赵乐际当选全国人大常委会委员长", "expression"),
    ("大会选举赵乐际为全国人大常委会委员长王沪宁为全国政协主席", "expression"),
    ("煽动民族仇恨和民族歧视等有害信息，不得发布未经权威渠道核实的虚假信息", "harmful"),
    ("转发周知！教育部取消上半年部分考试", "unverified"),
    ("请沿河群众赶紧转移到安全地带", "unverified"),
    ("第一行|第二行|第三行|第四行", "harmful"),
]


@pytest.mark.parametrize(("text", "category", "rule_id"), POSITIVE)
def test_rule_fires(rules: RuleSet, text: str, category: str, rule_id: str) -> None:
    result = fired(rules, text)
    assert category in result, result
    assert rule_id in result[category][1]


@pytest.mark.parametrize(("text", "category"), NEGATIVE)
def test_rule_stays_quiet(rules: RuleSet, text: str, category: str) -> None:
    assert category not in fired(rules, text)


def test_hits_carry_spans_into_the_normalised_text(rules: RuleSet) -> None:
    text = normalize("請加微信下單，優惠多多").text
    hits, _ = rules.match(text)
    spans = {text[h.start : h.end] for h in hits}
    assert "加微信下单" in spans


def test_seo_block_is_structural_and_marks_compromise(rules: RuleSet) -> None:
    text = "国产精品无码|亚洲av在线观看|免费毛片视频|成人影院\n警方依法打击违法犯罪"
    evidence = rules.evaluate(normalize(text).text).categories["harmful"]
    assert evidence.compromised
    # Enforcement context lowers lexicon hits, never the structural block.
    assert evidence.score >= 0.97
    assert "ctx.enforcement" in evidence.contexts


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID_ID, True),
        ("110101199003074515", False),  # wrong check digit
        ("110101199002304514", False),  # 30 February
        ("11010119900307451X", False),
        ("150102" + "19850712" + "123", None),  # 17 digits: checked below with its computed check digit
    ],
)
def test_id_card_check_digit(number: str, valid: bool | None) -> None:
    if valid is None:
        number = number + id_check_digit(number)
        valid = True
    assert is_id_card(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [("13812345678", True), ("12812345678", False), ("1381234567", False), ("+86 138 1234 5678", True)],
)
def test_mobile(number: str, valid: bool) -> None:
    assert is_mobile(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID_CARD, True),
        ("6222021234567890127", False),
        ("4111111111111111", True),
        ("0000000000000000", False),  # placeholder, not a card
        (VALID_ID, False),  # an ID number is not a card
    ],
)
def test_bank_card(number: str, valid: bool) -> None:
    assert is_bank_card(number) is valid
    if valid:
        assert luhn_ok(number)


def test_masked_numbers_are_not_matched(rules: RuleSet) -> None:
    hits, _ = rules.match("身份证号150102********1234，手机138****5678，卡号6222 **** **** 1234")
    assert [h for h in hits if h.category == "privacy"] == []


def test_rules_version_follows_the_files(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    assert RuleSet.load(copy).version == rules.version
    (copy / "marketing.tsv").write_text(
        (copy / "marketing.tsv").read_text(encoding="utf-8") + "mk.local\t0.6\t本地特产团购\n",
        encoding="utf-8",
    )
    edited = RuleSet.load(copy)
    assert edited.version != rules.version
    assert edited.version.startswith(rules.declared_version + "+")
    assert "marketing" in fired(edited, "欢迎参加本地特产团购")


def test_broken_rule_file_names_the_file(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (copy / "harmful.tsv").write_text("hm.bad\tnot-a-number-or-three-columns\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"harmful\.tsv"):
        RuleSet.load(copy)


def test_office_can_add_a_typo(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = copy / "expression.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[typo]]\nwrong = "重迭"\nright = "重叠"\n',
                    encoding="utf-8")  # fmt: skip
    assert "expression" in fired(RuleSet.load(copy), "两项工作内容重迭，全市已完成")
    assert "expression" not in fired(rules, "两项工作内容重迭，全市已完成")


def test_an_unanswered_claim_is_not_an_authoritative_source(rules: RuleSet) -> None:
    # "官方还没有回应" says nobody has confirmed the claim: a cue, not a named authority.
    unanswered = rules.evaluate(normalize("网传某小区已经封楼，目前官方还没有回应").text)
    assert unanswered.contexts == []
    assert set(unanswered.categories["unverified"].rule_ids) == {"uv.hearsay", "uv.unconfirmed"}
    sourced = rules.evaluate(normalize("网传某小区已经封楼，官方通报称系谣言").text)
    assert "ctx.authority" in sourced.contexts
