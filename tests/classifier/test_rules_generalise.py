"""Expression and privacy rules that cover kinds of errors (issue 12): the typo list, 截止/截至,
numbers judged against a year, fixed enumerations, fuzzy near-misses and exact names, Taiwan
named as a country, local officials, private people's numbers and addresses. Each kind has true
positives and the legitimate look-alikes that must stay clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from classifier.normalize import normalize
from classifier.rules import RuleError, RuleSet
from classifier.rules.years import PostYears, parse_number


def fired(rules: RuleSet, text: str, published: str | None = None) -> dict[str, list[str]]:
    result = rules.evaluate(normalize(text).text, published=published)
    return {
        category: evidence.rule_ids
        for category, evidence in result.categories.items()
        if evidence.score >= rules.flag_threshold
    }


def expression(rules: RuleSet, text: str, published: str | None = None) -> list[str]:
    return fired(rules, text, published).get("expression", [])


# --- the typo list ---------------------------------------------------------------------------


def _typos(rules: RuleSet) -> list[tuple[str, str]]:
    lines = (rules.directory / "typos.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "新落成的文化馆美仑美奂，吸引市民参观。",
        "要防范于未然，把隐患消除在萌芽状态。",
        "全县上下砥励前行，奋力谱写新篇章。",
        "坚持励行节约，反对铺张浪费。",
        "大力宏扬社会主义核心价值观。",
        "坚持把权利关进制度的笼子里。",
        "加快建设社会主义法制国家。",
        "全县干部群众一如即往支持重点项目建设。",
    ],
)
def test_typo_list_fires(rules: RuleSet, text: str) -> None:
    assert "ex.typo" in expression(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "全县深入学习贯彻党的二十届三中全会精神。",  # 习贯 is no typo inside 学习贯彻
        "毕竟选择权在群众手中，究竟相差多少要算清楚。",  # 竟选 / 竟相 inside 毕竟 / 究竟
        "营造平安祥和的节日氛围。",  # 安祥 inside 平安祥和
        "企业积极开拓市场，形成积极向上的氛围。",
        "把权力关进制度的笼子里，建设社会主义法治国家。",
    ],
)
def test_typo_list_spares_correct_text(rules: RuleSet, text: str) -> None:
    assert "expression" not in fired(rules, text)


def test_typo_list_is_broad_and_well_formed(rules: RuleSet) -> None:
    entries = _typos(rules)
    assert len(entries) >= 400
    assert all(wrong != right for wrong, right in entries)
    assert len({wrong for wrong, _ in entries}) == len(entries)


def test_typo_list_never_matches_legitimate_posts(shared: Path, rules: RuleSet) -> None:
    """Each wrong form is wrong in any context: none occurs in a legitimate post of dev.jsonl."""
    wrong_forms = [normalize(wrong).text for wrong, _ in _typos(rules)]
    rows = [
        json.loads(line) for line in (shared / "data" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    legitimate = [normalize(row["text"]).text for row in rows if row.get("label") == "ok"]
    found = {w for w in wrong_forms for text in legitimate if w in text}
    assert not found


def test_typo_file_errors_name_the_file(tmp_path: Path, rules: RuleSet) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(rules.directory, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    with (copy / "typos.tsv").open("a", encoding="utf-8") as fh:
        fh.write("只有一列\n")
    with pytest.raises(RuleError, match=r"typos\.tsv"):
        RuleSet.load(copy)


# --- 截止 / 截至 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["报名截至时间为2024年5月1日。", "申报截至日期为6月30日。", "报名于5月1日截至。", "有效期截至到6月底。"],
)
def test_jiezhi_as_the_deadline_noun_fires(rules: RuleSet, text: str) -> None:
    assert "ex.typo" in expression(rules, text)


@pytest.mark.parametrize(
    "text", ["截至目前，已受理申请300件。", "截至2024年底，全县累计建成基站200个。", "报名截止时间为5月1日。"]
)
def test_jiezhi_used_rightly_stays_clean(rules: RuleSet, text: str) -> None:
    assert "expression" not in rules.evaluate(normalize(text).text).categories


# --- numbers judged against a year ------------------------------------------------------------

DATED_WRONG = [
    ("今年是中华人民共和国成立74周年。全县2024年经济平稳增长。", None),  # (c) the latest year written
    ("2023年是改革开放46周年。", None),  # (a) the sentence's year
    ("热烈庆祝中华人民共和国成立74周年", "2024-10-01"),  # (b) the post's date
    ("在建党102周年即将到来之际，全县开展主题党日活动。", "2024-06-20"),
    ("今天是第十个国家宪法日，全县开展宪法宣传。", "2024-12-04"),
    ("今年12月4日是第10个国家宪法日，2024年全县开展宣传活动。", None),
    ("今年是“十四五”规划收官之年，要确保目标任务圆满完成。", "2024-03-01"),
    ("2024年是“十四五”开局之年。", None),
    ("全市“十五五”规划编制工作动员会召开", "2020-06-19"),
    ("2024年工作要点：深入学习贯彻党的二十一大精神。", None),  # congress by the latest year
    ("2023年，全县深入学习贯彻党的二十届四中全会精神。", "2025-12-10"),  # the sentence's year wins
]

DATED_RIGHT = [
    ("今年是中华人民共和国成立75周年。全县2024年经济平稳增长。", None),
    ("热烈庆祝中华人民共和国成立75周年", "2024-10-01"),
    ("学习习近平总书记在庆祝中国共产党成立100周年大会上的重要讲话。", "2025-03-01"),  # a past celebration
    ("全县上下喜迎建党100周年。", "2020-12-20"),  # the next one
    ("人民空军建军75周年纪念活动举行。", "2024-08-01"),  # another 建军
    ("今天是第十一个国家宪法日，全县开展宪法宣传。", "2024-12-04"),
    ("第五个中国人民警察节到来之际，慰问一线民警。", "2025-01-05"),  # a few days before it
    ("今年是“十四五”规划收官之年。", "2025-03-01"),
    ("回顾“十四五”开局之年的成绩，我们倍感振奋。", "2023-05-01"),  # not about the present
    ("全市“十五五”规划编制工作动员会召开", "2024-06-19"),
    ("2023年以来，全县深入学习贯彻党的二十届三中全会精神。2024年工作成效明显。", None),
    ("到2020年国内生产总值比2010年翻一番，“十三五”时期经济年均增长保持在6.5%以上。", None),
    ("今年是中华人民共和国成立75周年。", None),  # no year at all: not judged
]


@pytest.mark.parametrize(("text", "published"), DATED_WRONG)
def test_numbers_wrong_for_the_year_fire(rules: RuleSet, text: str, published: str | None) -> None:
    assert {"ex.dated_number", "ex.congress_number"} & set(expression(rules, text, published))


@pytest.mark.parametrize(("text", "published"), DATED_RIGHT)
def test_numbers_right_for_the_year_stay_clean(rules: RuleSet, text: str, published: str | None) -> None:
    assert "expression" not in fired(rules, text, published)


def test_the_year_comes_from_sentence_then_date_then_latest() -> None:
    from datetime import date

    text = "2023年，全县完成目标。今年是新的一年。到2035年基本实现现代化。"
    years = PostYears(text, date(2025, 1, 1))
    assert years.at(0) is not None and (years.at(0).year, years.at(0).source) == (2023, "sentence")  # type: ignore[union-attr]
    later = text.index("今年")
    assert (years.at(later).year, years.at(later).source) == (2025, "published")  # type: ignore[union-attr]
    undated = PostYears(text, None)
    assert (undated.at(later).year, undated.at(later).source) == (2023, "latest")  # type: ignore[union-attr]
    assert PostYears("没有年份。", None).at(0) is None


def test_numbers_in_chinese() -> None:
    assert [parse_number(t) for t in ("75", "七十五", "一百零三", "一百", "十一", "一百一十")] == [
        75,
        75,
        103,
        100,
        11,
        110,
    ]
    assert parse_number("百千") is None


# --- fixed enumerations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "践行社会主义核心价值观：富强、民主、文明、和谐，自由、平等、公正、法制，爱国、敬业、诚信、友善。",
        "增强政治意识、大局意识、核心意识、看齐思想。",
        "坚定道路自信、理论自信、制度自信、历史自信。",
        "统筹推进经济建设、政治建设、文化建设、社会建设、生态建设。",
        "坚持创新、协调、绿色、开发、共享的新发展理念。",
        "倡导爱国、敬业、诚信、友爱的良好风尚。",
        "深刻领悟“两个维护”的决定性意义，坚决做到“两个维护”。",
        "坚决做到“两个确立”。",
    ],
)
def test_enumeration_with_one_item_replaced_fires(rules: RuleSet, text: str) -> None:
    assert {"ex.enumeration", "ex.collocation"} & set(expression(rules, text))


@pytest.mark.parametrize(
    "text",
    [
        "践行社会主义核心价值观：富强、民主、文明、和谐，自由、平等、公正、法治，爱国、敬业、诚信、友善。",
        "增强政治意识、大局意识、核心意识和看齐意识，坚定道路自信、理论自信、制度自信、文化自信。",
        # 2007: four items, then a clause
        "推进社会主义经济建设、政治建设、文化建设、社会建设，加快全面建设小康社会进程。",
        "推进党的政治建设、思想建设、组织建设、作风建设、纪律建设，把制度建设贯穿其中。",
        "深刻领悟“两个确立”的决定性意义，增强“四个意识”、坚定“四个自信”、做到“两个维护”。",
    ],
)
def test_correct_enumerations_stay_clean(rules: RuleSet, text: str) -> None:
    assert "expression" not in fired(rules, text)


# --- near-misses: fuzzy readings and short names that must be exact --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "为实现中华民族伟大复心而努力奋斗。",  # xing → xin
        "深入学习习进平总书记重要讲话精神。",
        "认真学习习近平总书纪重要讲话。",
        "中华人名共和国成立以来，各项事业蓬勃发展。",  # 民 → 名, though 人名 is a word
        "全国人大长委会审议通过。",
        "团结奋斗实现中华民族伟大振兴。",
    ],
)
def test_fuzzy_near_misses_and_exact_names_fire(rules: RuleSet, text: str) -> None:
    assert {"ex.formulation", "ex.typo"} & set(expression(rules, text))


@pytest.mark.parametrize(
    "text",
    [
        "为实现中华民族伟大复兴而努力奋斗。",
        "深入学习习近平总书记重要讲话精神。",
        "中华人民共和国成立以来，各项事业蓬勃发展。",
        "全国人大常委会审议通过。",
        "他的人名写在名单上。",
    ],
)
def test_exact_names_written_rightly_stay_clean(rules: RuleSet, text: str) -> None:
    assert "expression" not in fired(rules, text)


# --- Taiwan, Hong Kong and Macao ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "产品远销美国、日本、台湾等国家。",
        "来自30多个国家和台湾的客商参会。",
        "台湾总统发表讲话。",
        "中国和台湾的经贸往来。",
    ],
)
def test_taiwan_as_a_country_fires(rules: RuleSet, text: str) -> None:
    assert "ex.sovereignty" in expression(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "产品远销美国、日本、台湾等国家和地区。",
        "来自30多个国家和地区的客商参会。",
        "台湾地区领导人发表讲话。",
        "中国大陆和台湾的经贸往来。",
        "中国台湾选手夺得冠军。",
        "客商来自20多个国家和中国香港、中国台湾地区。",
    ],
)
def test_taiwan_named_rightly_stays_clean(rules: RuleSet, text: str) -> None:
    assert "expression" not in fired(rules, text)


def test_a_correction_notice_quoting_the_wrong_forms_is_not_flagged(rules: RuleSet) -> None:
    typo = "会议要求各部门再接再励，一股作气完成全年任务。"
    assert "expression" in fired(rules, typo)
    notice = (
        "【更正说明】本号昨日推送的文章中，“再接再厉”误写为“再接再励”，“一鼓作气”误写为“一股作气”，特此致歉。"
    )
    result = rules.evaluate(normalize(notice).text)
    assert "ctx.correction" in result.contexts
    assert "expression" not in fired(rules, notice)


# --- local officials -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "县委书记王海平主持会议。会上，王海平县长强调要抓好安全生产。",  # two offices
        "县长王海平主持会议。王海萍县长强调要抓好安全生产。",  # title after the name
        "县长冯国庆主持会议并讲话。冯国青指出，要抓好安全生产。",  # a bare variant
        "王海平县长主持会议。县长王海萍强调要抓好安全生产。",  # title before the name
    ],
)
def test_local_official_named_two_ways_fires(rules: RuleSet, text: str) -> None:
    assert "ex.official" in expression(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "县委副书记、县长王海平主持会议。王海平强调，要抓好安全生产。",
        "县委书记张明远、县长刘国栋出席会议。",
        "副县长李建国和副县长李建军出席会议。",  # two people
        "会议宣布，王海平任县委书记，不再担任县长职务。县委书记王海平讲话。",
    ],
)
def test_local_officials_named_rightly_stay_clean(rules: RuleSet, text: str) -> None:
    assert "expression" not in fired(rules, text)


# --- private people's numbers and addresses -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("1. 陈建华，男，石门镇双溪村，因病致困，救助金额3000元，联系电话13874526190", "pv.mobile"),
        ("龙思雨，县第一中学高一（3）班，家长龙建军，联系电话18774063152", "pv.mobile"),
        ("赵桂兰今年79岁，家住城关镇南街社区幸福巷7号，子女外出务工。", "pv.home_address"),
        ("如有爱心人士愿意帮扶，可直接联系老人，电话15927418863", "pv.mobile"),
        ("纳税人：陈丽娜，身份证号码：450102198911230524", "pv.id_labelled"),
        ("残疾证号43122519720809301X41", "pv.id_labelled"),
        ("何大成，住沙溪乡柏树村3组12号，银行卡号6217995550001234567", "pv.account_labelled"),
    ],
)
def test_private_people_fire(rules: RuleSet, text: str, rule_id: str) -> None:
    assert rule_id in fired(rules, text).get("privacy", [])


@pytest.mark.parametrize(
    "text",
    [
        "1. 张老师，联系电话13812345678，负责报名咨询。",
        "报名咨询：李老师，电话13812345678",
        "申请人可拨打咨询电话0471-6612345进行咨询。",
        "服务热线：12345，办公地址：新华大街12号5楼501室。",
        "陈某，男，87岁。常住址：道外区南直路516号。",  # masked person
        "走失女孩，女，3岁半，在宝城镇连丰村二组家门口走失。",  # a village group is many homes
        "纳税人：陈**，身份证号码：4501**********0524",
    ],
)
def test_offices_and_masked_people_stay_clean(rules: RuleSet, text: str) -> None:
    assert "privacy" not in fired(rules, text)


# --- quoted to deny, office contacts ---------------------------------------------------------


def test_a_cue_quoted_to_deny_it_is_lowered(rules: RuleSet) -> None:
    assert "harmful" in fired(rules, "专业代办：花钱买证，包过拿证，联系微信abc123456。")
    assert "harmful" not in fired(rules, "导游资格证须通过全国导游资格考试取得，不存在“花钱买证”的途径。")


def test_an_office_contact_next_to_a_private_person_is_not_a_leak(rules: RuleSet) -> None:
    assert "privacy" in fired(rules, "患者张伟华，家住幸福路8号，联系电话13812345678。")
    notice = "受助人员王某某自述家住“河边”。请与救助管理站联系。联系人：工作人员吴某，联系电话0875-6619110。"
    assert "privacy" not in fired(rules, notice)
