"""Rule tables for expression (formulations, congresses, name variants, titles, confused words),
privacy (private phones and addresses) and links, with legitimate look-alikes for each; the
pipeline and the classify job with links and dates; the false-alarm rate on legitimate posts."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classifier import Classifier
from classifier.normalize import normalize
from classifier.rules import RuleSet
from classifier.rules.congress import chinese_number
from classifier.rules.nearmiss import near_misses
from classifier.rules.validators import is_id_card
from scheduler.jobs import classify_posts
from store.models import Account, Finding, Organization, Post, Region

LINK_POST = "关于开展春季植树活动的通知，详见链接。"


def fired(rules: RuleSet, text: str, **kwargs: object) -> dict[str, list[str]]:
    result = rules.evaluate(normalize(text).text, **kwargs)  # type: ignore[arg-type]
    return {
        category: evidence.rule_ids
        for category, evidence in result.categories.items()
        if evidence.score >= rules.flag_threshold
    }


# (text, post date or None, rule id that must fire)
EXPRESSION_POSITIVE = [
    ("全体党员要不忘初心、牢记史命，勇担重任。", None, "ex.formulation"),
    ("推动高质量法展，建设现代化产业体系。", None, "ex.formulation"),
    ("全面推进乡村振星，建设宜居宜业和美乡村。", None, "ex.formulation"),
    ("坚持全面从严治档，一刻不停推进党风廉政建设。", None, "ex.formulation"),
    ("坚持以人民为中新的发展思想。", None, "ex.formulation"),
    ("深入贯彻习近平新时代中国特色社会主意思想。", None, "ex.typo"),
    ("我们要坚持已人民为中心的发展思想。", None, "ex.formulation"),  # look-alike 已 for 以
    ("深入学习贯彻党的二十一大精神", "2024-05-01", "ex.congress_number"),
    ("认真学习二十届五中全会精神", "2024-09-01", "ex.congress_number"),
    ("学习贯彻十九届八中全会精神", None, "ex.congress_number"),
    ("深入学习党的二十三大报告", None, "ex.congress_number"),
    ("中国共产党第二十次全国代表大会胜利闭幕", "2021-06-01", "ex.congress_number"),
    ("习近平总书记强调……会上传达了习近评同志的重要讲话。", None, "ex.name_variant"),
    ("李强总理主持会议。李墙指出，要稳中求进。", None, "ex.name_variant"),
    ("市委付书记、市长王某出席。", None, "ex.typo"),
    ("县政府付县长李某某主持会议。", None, "ex.typo"),
    ("区委书计到社区调研。", None, "ex.typo"),
    ("本单位现发布招聘启示如下。", None, "ex.typo"),
    ("在基层治理中发挥了重要做用。", None, "ex.typo"),
]

EXPRESSION_LEGITIMATE = [
    ("全体党员要不忘初心、牢记使命，勇担重任。", None),
    ("他是个自信的人，四个自信要牢记。", None),
    ("各种小微企业都能享受减税政策。", None),
    ("这一措施意义重大，对推进依法治国意义深远。", None),
    ("深入学习贯彻党的二十大精神", "2024-05-01"),
    ("迎接党的二十大胜利召开", "2022-05-01"),
    ("深入学习贯彻党的二十一大精神", None),  # no date: the next congress is possible
    ("认真学习二十届三中全会精神", "2024-09-01"),
    ("即将召开的二十届四中全会", "2025-09-01"),
    ("学习贯彻二十届五中全会精神", None),  # the next plenum, no date
    ("中共广东省委十二届二中全会召开", None),  # a province's own plenum
    ("习近平总书记强调……习近平同志指出", None),
    ("李强总理主持会议。", None),
    ("我局付款方式为银行转账，支付宝付款亦可。", None),
    ("付市长一行到企业调研", None),  # 付 is also a surname
    ("报名截止时间为5月1日，逾期不候。", None),
    ("报名于2024年5月1日截止。", None),
    ("截止到目前，已受理申请300件。", None),
    ("其他事项另行通知，其它问题可咨询。", None),
    ("要做用户满意的服务，做风筝的手艺人。", None),
]

PRIVACY_POSITIVE = [
    ("患者张伟，联系电话13812345678，已转入上级医院。", "pv.mobile"),
    ("低保户：王秀英，家住幸福路12号3栋2单元501室，已纳入救助。", "pv.home_address"),
    ("投诉人李建国反映，其电话0471-6612345长期被骚扰。", "pv.landline"),
    ("申请人刘小明，家住红星村3组15号，申请危房改造补助。", "pv.home_address"),
    ("受助人赵丽华，手机号13912345678。", "pv.mobile"),
]

PRIVACY_LEGITIMATE = [
    "咨询电话：0471-6612345，服务热线12345。",
    "举报电话：010-12388，值班电话0471-6950000。",
    "受助人王某某，电话138****1234，已发放救助金。",
    "办公地址：新华大街12号5楼501室，工作日接待来访。",
    "市民可拨打咨询电话13812345678了解详情。",
    "申请人可拨打咨询电话12345进行咨询。",
]

# (links, rule id that must fire)
LINK_POSITIVE = [
    ([{"href": "https://item.taobao.com/item.htm?id=123", "text": "点击购买"}], "mk.link_shop"),
    ([{"href": "https://weidian.com/item.html?itemID=1", "text": "特产"}], "mk.link_shop"),
    ([{"href": "https://item.jd.com/100012345.html", "text": "京东"}], "mk.link_shop"),
    ([{"href": "https://t.me/abcdefg", "text": "频道"}], "mk.link_personal_contact"),
    ([{"href": "", "text": "加微信：abc12345"}], "mk.link_personal_contact"),
    ([{"href": "weixin://dl/business/?t=abc", "text": "小程序"}], None),  # a cue, not a finding alone
]

LINK_LEGITIMATE = [
    [{"href": "https://www.gov.cn/zhengce/content/2024-01/01/content_1.htm", "text": "国务院文件"}],
    [{"href": "https://mp.weixin.qq.com/s/abcdef", "text": "往期回顾"}],
    [{"href": "http://www.nmg.gov.cn/", "text": "内蒙古自治区人民政府"}],
]


@pytest.mark.parametrize(("text", "published", "rule_id"), EXPRESSION_POSITIVE)
def test_expression_rules_fire(rules: RuleSet, text: str, published: str | None, rule_id: str) -> None:
    assert rule_id in fired(rules, text, published=published).get("expression", [])


@pytest.mark.parametrize(("text", "published"), EXPRESSION_LEGITIMATE)
def test_expression_lookalikes_stay_legitimate(rules: RuleSet, text: str, published: str | None) -> None:
    assert "expression" not in fired(rules, text, published=published)


@pytest.mark.parametrize(("text", "rule_id"), PRIVACY_POSITIVE)
def test_private_phones_and_addresses_fire(rules: RuleSet, text: str, rule_id: str) -> None:
    assert rule_id in fired(rules, text).get("privacy", [])


@pytest.mark.parametrize("text", PRIVACY_LEGITIMATE)
def test_office_numbers_and_masked_data_stay_legitimate(rules: RuleSet, text: str) -> None:
    assert "privacy" not in fired(rules, text)


@pytest.mark.parametrize(("links", "rule_id"), LINK_POSITIVE)
def test_link_rules(rules: RuleSet, links: list[dict[str, str]], rule_id: str | None) -> None:
    result = rules.evaluate(normalize(LINK_POST).text, links=links)
    evidence = result.categories.get("marketing")
    assert evidence is not None and all(h.field == "links" for h in evidence.hits)
    if rule_id is None:
        assert evidence.score < rules.flag_threshold
    else:
        assert rule_id in evidence.rule_ids and evidence.score >= rules.flag_threshold


@pytest.mark.parametrize("links", LINK_LEGITIMATE)
def test_official_links_stay_legitimate(rules: RuleSet, links: list[dict[str, str]]) -> None:
    assert rules.evaluate(normalize(LINK_POST).text, links=links).categories == {}


@pytest.mark.parametrize("text", ["截止2024年底，全市累计建成5G基站2万个。", "截止5月1日，已完成改造120户。"])
def test_jiezhi_before_a_date_is_a_cue(rules: RuleSet, text: str) -> None:
    """截止 + date (for 截至) is common in official texts: evidence, flagged only with more."""
    evidence = rules.evaluate(normalize(text).text).categories["expression"]
    assert evidence.rule_ids == ["ex.typo"] and 0 < evidence.score < rules.flag_threshold
    assert "expression" in fired(rules, text + "要推动高质量法展。")
    assert "expression" not in rules.evaluate(normalize("报名截止时间为5月1日").text).categories


@pytest.mark.parametrize("text", ["截止目前，已完成改造120户。", "截止发稿时，未造成人员伤亡。"])
def test_jiezhi_before_now_is_a_typo(rules: RuleSet, text: str) -> None:
    """Before 目前 or 发稿 截止 can be no deadline: flagged on its own."""
    assert "expression" in fired(rules, text)


def test_near_misses_are_homophones_and_lookalikes_not_words() -> None:
    variants = near_misses("不忘初心", [("初", "衬")])
    assert "不忘出心" in variants  # homophone chu
    assert "不忘衬心" in variants  # look-alike
    assert "不忘初心" not in variants
    # Numerals are never replaced, and a variant that holds a dictionary word is skipped.
    assert not any(v.startswith("是个") for v in near_misses("四个自信"))
    assert "乡村镇兴" not in near_misses("乡村振兴")
    assert near_misses("三农") == {}  # too short to vary


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("五", "十", "十九", "二十", "二十一", "三十")] == [
        5,
        10,
        19,
        20,
        21,
        30,
    ]
    assert chinese_number("一二三") is None and chinese_number("") is None


def test_formulations_and_lookalikes_are_editable(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (copy / "formulations.txt").open("a", encoding="utf-8") as fh:
        fh.write("黄河大保护战略\n")
    edited = RuleSet.load(copy)
    assert "ex.formulation" in fired(edited, "推进黄河大保户战略").get("expression", [])
    assert "expression" not in fired(rules, "推进黄河大保户战略")
    assert edited.version != rules.version


def test_rules_version_follows_the_rule_code(
    tmp_path: Path, rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    import classifier.rules as rules_module

    code = tmp_path / "extra.py"
    code.write_text("# a changed matcher\n", encoding="utf-8")
    monkeypatch.setattr(rules_module, "RULE_CODE", (*rules_module.RULE_CODE, code))
    assert RuleSet.load(rules.directory).version != rules.version
    assert {p.name for p in rules_module.RULE_CODE} >= {
        "__init__.py",
        "validators.py",
        "nearmiss.py",
        "congress.py",
    }


def test_id_card_birth_date_is_judged_against_the_post_date() -> None:
    born_2020 = "11010120200307" + "0012"
    from classifier.rules.validators import id_check_digit

    number = born_2020[:17] + id_check_digit(born_2020[:17])
    assert is_id_card(number, date(2024, 1, 1))
    assert not is_id_card(number, date(2019, 1, 1))  # born after the post
    assert is_id_card(number)  # no date: no upper bound


def test_published_accepts_dates_datetimes_and_strings(rules: RuleSet) -> None:
    text = "深入学习贯彻党的二十一大精神"
    for value in (date(2024, 5, 1), datetime(2024, 5, 1, 8, 30), "2024-05-01", "2024-05-01T08:30:00"):
        assert "expression" in fired(rules, text, published=value)
    with pytest.raises(ValueError, match="published"):
        rules.evaluate(text, published="yesterday")


def test_pipeline_takes_links_and_published(shipped: Classifier) -> None:
    links = [{"href": "https://www.gov.cn/", "text": "中国政府网"},
             {"href": "https://item.taobao.com/item.htm?id=9", "text": "点击购买"}]  # fmt: skip
    findings = shipped.classify(LINK_POST, links=links)
    marketing = [f for f in findings if f.category == "marketing"]
    assert marketing and "mk.link_shop" in marketing[0].rule_ids
    span = next(s for s in marketing[0].spans if s.source == "mk.link_shop")
    assert (span.field, span.start, span.end) == ("links", 1, 2)
    assert span.text == "https://item.taobao.com/item.htm?id=9"
    assert span.to_dict()["field"] == "links"
    assert not [f for f in shipped.classify(LINK_POST) if f.category == "marketing"]

    text = "全市党员干部深入学习贯彻党的二十一大精神。"
    (dated,) = shipped.classify_many([{"text": text, "published": "2024-03-01"}])
    assert [f.category for f in dated] == ["expression"]
    assert dated[0].spans[0].text == "党的二十一大"
    assert shipped.classify(text) == [] or all(f.category != "expression" for f in shipped.classify(text))


def test_classify_job_passes_links_and_date(
    sqlite_session_factory: sessionmaker[Session], shipped: Classifier
) -> None:
    factory = sqlite_session_factory
    with factory.begin() as session:
        session.add(Region(code="150000", name="内蒙古自治区", level=1))
        session.flush()
        organization = Organization(name="内蒙古自治区人民政府办公厅", region_code="150000")
        session.add(organization)
        session.flush()
        account = Account(platform="wechat", handle="gh_links", name="内蒙古发布",
                          organization_id=organization.id, region_code="150000")  # fmt: skip
        session.add(account)
        session.flush()
        texts = {
            "link": (LINK_POST, [{"href": "https://weidian.com/item.html?itemID=7", "text": "购买"}], None),
            "congress": (
                "全区上下深入学习贯彻党的二十一大精神。",
                None,
                datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
            ),
        }
        for key, (text, links, published) in texts.items():
            session.add(Post(account_id=account.id, source_key=key, title=None, text=text, links=links,
                             published_at=published, content_hash=hashlib.sha256(text.encode()).hexdigest(),
                             status="live"))  # fmt: skip
    classify_posts(factory, shipped, batch_size=10)
    with factory() as session:
        rows = session.execute(
            select(Post.source_key, Finding.category).join(Finding, Finding.post_id == Post.id)
        )
        found = {(key, category) for key, category in rows}
    assert ("link", "marketing") in found
    assert ("congress", "expression") in found


def test_false_alarms_on_legitimate_posts(shared: Path, rules: RuleSet) -> None:
    """Expression and privacy rules flag at most 0.3% of the legitimate dev posts."""
    rows = [
        json.loads(line) for line in (shared / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    legitimate = [row["text"] for row in rows if row.get("label") == "ok"]
    assert legitimate
    flagged = sum(1 for text in legitimate if {"expression", "privacy"} & set(fired(rules, text)))
    assert flagged / len(legitimate) <= 0.003, f"{flagged} of {len(legitimate)} legitimate posts flagged"


@pytest.mark.parametrize(
    "text",
    [
        "会议传达学习了李强总理讲话精神，要认真落实李强总里的部署。",  # a title misspelt is other rules'
        "深入学习贯彻习近苹总书记重要讲话精神。",  # next to a title, never written correctly
        "习近平、李强、赵乐际、王沪宁、蔡齐、丁薛祥、李希等出席。",  # in a list of leaders
    ],
)
def test_misspelt_leader_names(rules: RuleSet, text: str) -> None:
    assert "expression" in fired(rules, text)


def test_a_namesake_away_from_titles_and_leaders_is_not_judged(rules: RuleSet) -> None:
    assert "expression" not in fired(rules, "村民李萍、王芳领到了补贴。")


@pytest.mark.parametrize(
    "text",
    [
        "经调查，来电网民刘志强（联系电话13912345678）反映的问题属实。",
        "本报记者联系到陈卫东，他的手机号码是13812345678。",
        "据了解，赵丽华的手机号是13712345678，她希望社会各界给予帮助。",
        "救助对象何秀英，身份证号码1101 0519 4907 0123 2X，已纳入低保。",
        "老人记不清地址，只记得女儿张晓梅的电话是一三八一二三四五六七八。",
    ],
)
def test_private_people_numbers_in_more_forms(rules: RuleSet, text: str) -> None:
    assert "privacy" in fired(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "如有疑问，请联系张老师的电话13912345678。",
        "咨询电话：一三八一二三四五六七八（社区服务中心）。",
    ],
)
def test_office_contacts_in_those_forms_stay_legitimate(rules: RuleSet, text: str) -> None:
    assert "privacy" not in fired(rules, text)


@pytest.mark.parametrize(
    ("text", "published", "flagged"),
    [
        ("十四届全国人大三次会议在京开幕。", "2024-03-06", True),  # the second met in 2024
        ("十四届全国人大二次会议在京开幕。", "2024-03-06", False),
        ("政协第十四届全国委员会第三次会议开幕。", "2024-03-05", True),
        ("十四届全国人大三次会议将于明年3月召开。", "2024-11-20", False),  # next year's, named in autumn
        ("第十四届全国人民代表大会第六次会议", "2025-01-01", True),  # a term has five sessions
        ("十四届全国人大常委会第十次会议审议了草案。", "2024-06-01", False),  # the standing committee's
    ],
)
def test_npc_and_cppcc_sessions_are_judged_against_the_posts_date(
    rules: RuleSet, text: str, published: str, flagged: bool
) -> None:
    assert ("expression" in fired(rules, text, published=published)) is flagged
