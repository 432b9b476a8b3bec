"""The adapters on saved pages: feeds, WeChat articles and notices, Weibo JSON, government sites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.parsing import detect_kind, parse_page
from crawler.parsing.dates import parse_count, parse_datetime
from crawler.parsing.encoding import decode_body
from crawler.parsing.feed import parse_feed
from crawler.parsing.govsite import parse_govsite_detail, parse_govsite_list
from crawler.parsing.text import html_to_text
from crawler.parsing.wechat import parse_wechat_article, parse_wechat_index
from crawler.parsing.weibo import parse_weibo_page

FIXTURES = Path(__file__).parent / "fixtures"
FETCHED = datetime(2026, 1, 22, 4, 0, tzinfo=UTC)  # 12:00 in China
CHINA = timezone(timedelta(hours=8))
SITE = "http://sample.test"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ---- shared helpers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年01月22日", datetime(2026, 1, 22, tzinfo=CHINA)),
        ("2026年1月2日 10:30", datetime(2026, 1, 2, 10, 30, tzinfo=CHINA)),
        ("2026-01-22 10:30:00", datetime(2026, 1, 22, 10, 30, tzinfo=CHINA)),
        ("发布时间：2026/01/22 09:00", datetime(2026, 1, 22, 9, 0, tzinfo=CHINA)),
        ("2026-01-22T02:00:00Z", datetime(2026, 1, 22, 2, 0, tzinfo=UTC)),
        ("Thu Jan 22 10:30:00 +0800 2026", datetime(2026, 1, 22, 10, 30, tzinfo=CHINA)),
        ("Thu, 22 Jan 2026 10:00:00 +0800", datetime(2026, 1, 22, 10, 0, tzinfo=CHINA)),
        ("1769050000", datetime(2026, 1, 22, 2, 46, 40, tzinfo=UTC)),
        ("刚刚", datetime(2026, 1, 22, 12, 0, tzinfo=CHINA)),
        ("5分钟前", datetime(2026, 1, 22, 11, 55, tzinfo=CHINA)),
        ("3小时前", datetime(2026, 1, 22, 9, 0, tzinfo=CHINA)),
        ("昨天 10:30", datetime(2026, 1, 21, 10, 30, tzinfo=CHINA)),
        ("01-20", datetime(2026, 1, 20, tzinfo=CHINA)),
        ("12-30", datetime(2025, 12, 30, tzinfo=CHINA)),  # month-day in the future: last year
        ("not a date", None),
        ("", None),
    ],
)
def test_dates_as_chinese_sites_write_them(text: str, expected: datetime | None) -> None:
    assert parse_datetime(text, now=FETCHED) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        ("1,234", 1234),
        ("1万+", 10_000),
        ("1.2万", 12_000),
        ("10w+", 100_000),
        ("100+", 100),
        ("", None),
        (None, None),
        ("赞", None),
    ],
)
def test_counts(value: object, expected: int | None) -> None:
    assert parse_count(value) == expected


def test_html_to_text_keeps_blocks_and_drops_scripts() -> None:
    html = "<div><p>第一段</p><script>var x=1;</script><p>第二段<br>换行</p>\u200b<style>p{}</style></div>"
    assert html_to_text(html) == "第一段\n第二段\n换行"


def test_decoding_prefers_declared_charset_and_survives_wrong_declarations() -> None:
    gbk = "朱镕基 李堃".encode("gb18030")
    assert decode_body(gbk, "text/html; charset=gb2312")[0] == "朱镕基 李堃"  # GBK-only characters
    assert decode_body(gbk, "text/html; charset=utf-8")[0] == "朱镕基 李堃"  # a wrong declaration
    assert decode_body(b'<meta charset="gbk">' + gbk)[0].endswith("朱镕基 李堃")
    assert decode_body("正文".encode())[0] == "正文"


@pytest.mark.parametrize(
    ("name", "url", "kind"),
    [
        ("feed_rss.xml", "http://x/feed", "feed"),
        ("feed_atom.xml", "http://x/a", "feed"),
        ("feed_json.json", "http://x/j", "feed"),
        ("wechat_article.html", "http://x/s?__biz=1", "wechat"),
        ("wechat_deleted.html", "http://x/s/abc", "wechat"),
        ("wechat_waf.html", "http://x/y", "wechat"),
        ("wechat_index.html", "http://x/wechat/", "wechat"),
        ("weibo_page1.json", "http://x/api/container/getIndex", "weibo"),
        ("hand_weibo_relative.json", "http://127.0.0.1:9/page.json", "weibo"),
        ("gov_trs_list.html", "http://x/i", "govsite"),
        ("gov_ucap_detail.html", "http://x/d", "govsite"),
        ("gov_withdrawn.html", "http://x/w", "govsite"),
        ("hand_gov_no_container.html", "http://x/n", "govsite"),
        ("wechat_article.html", "https://mp.weixin.qq.com/s/abc", "wechat"),
    ],
)
def test_kind_is_detected_from_url_or_content(name: str, url: str, kind: str) -> None:
    assert detect_kind(url, page(name)) == kind


# ---- feeds --------------------------------------------------------------------------------------
def test_rss_with_cdata_duplicates_and_undated_entries() -> None:
    result = parse_feed(f"{SITE}/feeds/nmg.xml", page("feed_rss.xml"), fetched_at=FETCHED)
    assert result.status == "ok" and result.error is None
    keys = [post.key for post in result.posts]
    assert keys == ["nmg-gov-63", "nmg-gov-61", "nmg-gov-62", "nmg-gov-64", "nmg-gov-65"]  # 62 once
    undated = result.posts[0]
    assert undated.published_at is None and undated.text == "受强冷空气影响，全区大部地区气温下降8至10℃。"
    first = result.posts[1]
    assert (
        first.text == "自治区政府召开全体会议，安排部署2026年政府工作。\n会议强调，要铸牢中华民族共同体意识。"
    )
    assert first.author == "内蒙古日报" and first.account == "内蒙古自治区人民政府"
    assert first.published_at == datetime(2026, 1, 21, 20, tzinfo=UTC)  # 8 hours before FETCHED


def test_hand_written_feed_ids_that_are_not_urls() -> None:
    result = parse_feed(
        "http://www.baotou.gov.cn/rss.xml", page("hand_feed_dupes_undated.xml"), fetched_at=FETCHED
    )
    assert [p.key for p in result.posts][:2] == ["1001", "nodate-1"]
    assert result.posts[0].text == "会议总结了2025年全市经济工作。\n部署了2026年重点任务。"
    assert result.posts[0].published_at == datetime(2026, 1, 21, 10, 30, tzinfo=CHINA)  # naive: China time
    assert result.posts[1].published_at is None
    hashed = result.posts[2]
    assert hashed.key.startswith("sha1:") and hashed.url is None
    assert hashed.published_at == datetime(2026, 1, 20, 8, tzinfo=CHINA)


def test_atom_with_next_page_and_html_title() -> None:
    result = parse_feed(
        "https://rsshub.example/weibo/user/123", page("hand_atom_next.xml"), fetched_at=FETCHED
    )
    assert result.next == "https://rsshub.example/weibo/user/123?page=2"
    (post,) = result.posts
    assert post.key == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert post.title == "鄂尔多斯发布寒潮蓝色预警" and post.text == "预计未来三天气温下降8℃以上。"
    assert post.url == "https://m.weibo.cn/status/Nabc123"


def test_sample_atom_and_json_feed() -> None:
    atom = parse_feed(f"{SITE}/feeds/toutiao/hhhtjy.atom", page("feed_atom.xml"), fetched_at=FETCHED)
    assert len(atom.posts) == 4 and atom.posts[0].key.startswith("tag:toutiao.example,2026:")
    jsonfeed = parse_feed(f"{SITE}/feeds/douyin/yqrm.json", page("feed_json.json"), fetched_at=FETCHED)
    assert [p.title for p in jsonfeed.posts][:2] == ["大召寺前的冬日清晨", "非遗传承人现场制作烧麦"]
    assert jsonfeed.posts[0].text == "大召寺前的冬日清晨，鸽子在广场上觅食。#青城冬日"


def test_json_feed_numeric_ids_text_only_and_next() -> None:
    result = parse_feed(
        "https://rsshub.example/douyin/user/wuhai", page("hand_jsonfeed.json"), fetched_at=FETCHED
    )
    assert [p.key for p in result.posts] == ["7301", "7300"]
    assert result.posts[0].text == "乌海湖冬季景色。" and result.posts[0].author == "乌海发布"
    assert result.posts[1].published_at == datetime(2026, 1, 20, 9, tzinfo=UTC)
    assert result.next == "https://rsshub.example/douyin/user/wuhai?page=2"


def test_gb2312_feed_is_decoded() -> None:
    (post,) = parse_feed(
        "http://www.chifeng.gov.cn/rss", page("hand_feed_gb2312.xml"), fetched_at=FETCHED
    ).posts
    assert "朱镕基" in post.text and post.title == "赤峰市召开安全生产会议"


def test_truncated_feed_keeps_only_complete_entries_and_says_where() -> None:
    result = parse_feed(f"{SITE}/fault/truncated.xml", page("feed_truncated.xml"), fetched_at=FETCHED)
    assert result.incomplete and result.status == "ok"
    assert [p.key for p in result.posts] == ["fault-truncated-0", "fault-truncated-1"]
    assert "malformed feed" in result.error and f"{SITE}/fault/truncated.xml" in result.error


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "ti',
        b"<html><body>not a feed</body></html>",
        b"",
    ],
)
def test_broken_feeds_are_errors_with_the_url(body: bytes) -> None:
    result = parse_feed("http://x.test/feed", body, fetched_at=FETCHED)
    assert result.status == "error" and not result.posts and "http://x.test/feed" in result.error


# ---- WeChat -------------------------------------------------------------------------------------
def test_wechat_article_fields() -> None:
    result = parse_wechat_article(f"{SITE}/s?__biz=x", page("wechat_article.html"), fetched_at=FETCHED)
    assert result.status == "ok"
    (post,) = result.posts
    assert post.title == "呼和浩特市召开2026年优化营商环境工作推进会"
    assert post.account == "呼和浩特发布" and post.author == "市融媒体中心"
    assert post.key.endswith("/2650000001/1") and post.key.startswith("Mz")
    assert post.published_at == datetime(2026, 1, 21, 23, 0, tzinfo=UTC)  # var ct: 5 hours before FETCHED
    assert post.text.startswith("1月21日，全市优化营商环境工作推进会召开。\n会议总结了")
    assert post.is_original is True
    assert post.images and post.images[0].startswith("https://mmbiz.qpic.cn/")


def test_wechat_short_and_long_urls_give_one_key() -> None:
    long = parse_wechat_article(f"{SITE}/s?__biz=a&mid=1", page("wechat_article.html"), fetched_at=FETCHED)
    short = parse_wechat_article(
        f"{SITE}/s/abcdefghij", page("wechat_article_short.html"), fetched_at=FETCHED
    )
    assert long.posts[0].key == short.posts[0].key


def test_wechat_image_and_text_shares() -> None:
    image = parse_wechat_article(f"{SITE}/s/i", page("wechat_image_share.html"), fetched_at=FETCHED).posts[0]
    assert (
        image.title == "图说｜青城雪后美景" and image.text == "雪后的青城银装素裹，大召寺、塞上老街游人如织。"
    )
    assert len(image.images) == 3
    text = parse_wechat_article(f"{SITE}/s/t", page("wechat_text_share.html"), fetched_at=FETCHED).posts[0]
    assert (
        text.text == "【提醒】今晚至明天我市有中到大雪，请市民减少不必要外出，注意防寒保暖。\n"
        "驾车出行请减速慢行，保持安全车距。"
    )
    # An untitled text share (is_user_title 0): WeChat copies the text into the title fields, so the
    # post has no title of its own (../shared/pages/README.md).
    assert text.title is None


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("wechat_deleted.html", "deleted"),
        ("wechat_violation.html", "violation"),
        ("wechat_unavailable.html", "unavailable"),
        ("wechat_waf.html", "waf"),
    ],
)
def test_wechat_notices_are_statuses_never_content(name: str, status: str) -> None:
    result = parse_wechat_article(f"{SITE}/s/x", page(name), fetched_at=FETCHED)
    assert result.status == status and result.posts == [] and f"{SITE}/s/x" in result.error


def test_an_article_quoting_a_notice_is_still_an_article() -> None:
    result = parse_wechat_article(
        "https://mp.weixin.qq.com/s/q", page("hand_wechat_quoting_notice.html"), fetched_at=FETCHED
    )
    assert result.status == "ok"
    (post,) = result.posts
    assert post.key == "MzA5NzQ1MDEyMw==/2247489999/2"
    assert post.account == "呼和浩特市公安局"  # from d.nick_name: #js_name is empty
    assert post.is_original is True and "should not be text" not in post.text
    assert (
        post.text == "近日，有网民发布一张显示“该内容已被发布者删除”的截图，声称我局撤回了通知。\n"
        "经核实，该截图系伪造，原通知仍然有效。"
    )


def test_wechat_indexes_bridge_feed_and_html() -> None:
    feed = parse_wechat_index(
        f"{SITE}/wechat/hhht-wechat/index.xml", page("wechat_index.xml"), fetched_at=FETCHED
    )
    assert feed.listing and len(feed.posts) == 6
    assert {urlsplit(p.detail_url).path[:3] for p in feed.posts} == {"/s/", "/s"}  # short and long links
    html = parse_wechat_index(
        f"{SITE}/wechat/xinchengqu-wechat/", page("wechat_index.html"), fetched_at=FETCHED
    )
    assert len(html.posts) == 5 and html.posts[0].title == "新城区开展“我为群众办实事”走访慰问活动"


# ---- Weibo --------------------------------------------------------------------------------------
def test_weibo_timeline_cards_9_and_11_and_paging() -> None:
    url = f"{SITE}/api/container/getIndex?containerid=1076036012345678"
    result = parse_weibo_page(url, page("weibo_page1.json"), fetched_at=FETCHED)
    assert [p.key for p in result.posts] == [
        "5100000000000021",
        "5100000000000022",
        "5100000000000023",
        "5100000000000024",
    ]
    assert result.next == f"{url}&since_id=5100000000000025"
    rumour = result.posts[1]
    assert rumour.metrics == {"shares": 1, "comments": 2, "likes": 10_000}
    long = result.posts[2]
    assert long.truncated and long.detail_url == f"{SITE}/statuses/show?id=5100000000000023"
    assert result.posts[3].is_original is False and "原微博已删除" in result.posts[3].text


def test_weibo_relative_times_counts_pictures_and_groups() -> None:
    url = "https://m.weibo.cn/api/container/getIndex?containerid=1076031234567890"
    result = parse_weibo_page(url, page("hand_weibo_relative.json"), fetched_at=FETCHED)
    posts = {p.key: p for p in result.posts}
    assert list(posts) == ["4990000000000010", "4990000000000009", "4990000000000008", "4990000000000007"]
    assert posts["4990000000000010"].published_at == datetime(2026, 1, 22, 12, 0, tzinfo=CHINA)
    assert posts["4990000000000010"].metrics["likes"] == 10_000
    assert posts["4990000000000010"].images == [
        "https://wx1.sinaimg.cn/orj360/a.jpg",
        "https://wx1.sinaimg.cn/large/b.jpg",
    ]
    assert posts["4990000000000009"].published_at == datetime(2026, 1, 22, 11, 55, tzinfo=CHINA)
    assert "原微博已删除" in posts["4990000000000009"].text
    long = posts["4990000000000008"]
    assert long.published_at == datetime(2026, 1, 21, 10, 30, tzinfo=CHINA)
    assert long.truncated and long.text == "长文预告\n第二行 [心]" and long.metrics["likes"] == 12_000
    assert posts["4990000000000007"].published_at == datetime(2026, 1, 20, tzinfo=CHINA)
    assert result.next == f"{url}&since_id=4990000000000001"


def test_weibo_long_text_and_deleted_status() -> None:
    show = parse_weibo_page(
        f"{SITE}/statuses/show?id=5100000000000023", page("weibo_show_long.json"), fetched_at=FETCHED
    )
    assert show.status == "ok" and not show.posts[0].truncated
    assert show.posts[0].text.endswith("详情请咨询区教育局。")
    gone = parse_weibo_page(f"{SITE}/statuses/show?id=1", page("weibo_show_deleted.json"), fetched_at=FETCHED)
    assert gone.status == "deleted" and not gone.posts


def test_weibo_login_wall_is_blocked() -> None:
    result = parse_weibo_page("https://m.weibo.cn/api/container/getIndex?x=1", page("hand_weibo_login.json"))
    assert result.blocked and result.status == "error" and "ok:-100" in result.error


# ---- government sites ---------------------------------------------------------------------------
def test_trs_list_in_gbk_with_create_page_html() -> None:
    url = f"{SITE}/gov/hhht/xwdt/index.html"
    result = parse_govsite_list(
        url,
        page("gov_trs_list.html"),
        "text/html",
        options={"list_selector": "ul.list_news li"},
        fetched_at=FETCHED,
    )
    assert result.next == f"{SITE}/gov/hhht/xwdt/index_1.html" and result.total_pages == 3
    assert [p.title for p in result.posts][:2] == [
        "呼和浩特市2026年政府工作报告解读",
        "市政府常务会议研究部署春运和节日市场保供工作",
    ]
    assert result.posts[0].key.startswith("/gov/hhht/xwdt/202601/t2026012")
    assert result.posts[0].published_at == datetime(2026, 1, 22, tzinfo=CHINA)
    # The same page without a list selector: the default heuristics find the same articles.
    default = parse_govsite_list(url, page("gov_trs_list.html"), "text/html", fetched_at=FETCHED)
    assert [p.key for p in default.posts] == [p.key for p in result.posts]


def test_trs_detail_meta_tags_and_body_container() -> None:
    result = parse_govsite_detail(
        f"{SITE}/gov/hhht/xwdt/t.html", page("gov_trs_detail.html"), "text/html", fetched_at=FETCHED
    )
    (post,) = result.posts
    assert post.title == "呼和浩特市2026年政府工作报告解读"
    assert post.author == "呼和浩特市人民政府办公室" and post.account == "呼和浩特市人民政府"
    assert post.published_at == datetime(2026, 1, 22, 8, 0, tzinfo=CHINA)
    assert "堃实向上" in post.text  # a GBK-only character, in a page declared gbk


def test_injected_spam_stays_in_the_text_for_the_classifier() -> None:
    (post,) = parse_govsite_detail(f"{SITE}/gov/x.html", page("gov_trs_spam.html"), fetched_at=FETCHED).posts
    assert post.text.startswith("澳门威尼斯人在线赌场")


def test_ucap_list_page_param_and_chinese_dates() -> None:
    options = {"list_selector": ".news-list li", "next_page": "?page={n}"}
    result = parse_govsite_list(
        f"{SITE}/gov/yuquan/list?page=1", page("gov_ucap_list.html"), options=options, fetched_at=FETCHED
    )
    assert result.next == f"{SITE}/gov/yuquan/list?page=2"
    assert result.posts[0].published_at == datetime(2026, 1, 22, tzinfo=CHINA)
    detail = parse_govsite_detail(
        f"{SITE}/gov/yuquan/art/1.html", page("gov_ucap_detail.html"), fetched_at=FETCHED
    )
    assert detail.posts[0].title == "玉泉区召开2026年经济工作会议"
    assert (
        detail.posts[0].author == "玉泉区政府办"
        and detail.posts[0].published_at.date().isoformat() == "2026-01-22"
    )


def test_gb2312_page_without_meta_tags() -> None:
    (post,) = parse_govsite_detail(
        "http://www.tmtzq.gov.cn/a.html", page("hand_gov_gb2312.html"), fetched_at=FETCHED
    ).posts
    assert post.title == "关于朱镕基同志题词碑修缮工程的公示"
    assert post.published_at == datetime(2026, 1, 20, tzinfo=CHINA)
    assert post.author == "旗文旅局" and post.text.endswith("联系人：李堃")


def test_page_without_known_container_falls_back_to_trafilatura() -> None:
    (post,) = parse_govsite_detail(
        "http://www.wuchuan.gov.cn/a.html", page("hand_gov_no_container.html"), fetched_at=FETCHED
    ).posts
    assert post.title == "武川县召开春耕备耕工作会议"
    assert "春耕备耕各项工作" in post.text and "蒙ICP备" not in post.text
    assert post.published_at == datetime(2026, 1, 19, 9, 30, tzinfo=CHINA) and post.author == "县农牧局"


def test_withdrawn_page_is_a_deletion() -> None:
    result = parse_govsite_detail(f"{SITE}/gov/w.html", page("gov_withdrawn.html"), fetched_at=FETCHED)
    assert result.status == "deleted" and not result.posts


def test_parse_page_auto_matches_inspect_shape() -> None:
    result = parse_page("auto", f"{SITE}/s/x", page("wechat_article.html"), fetched_at=FETCHED).to_json()
    assert set(result) == {"kind", "status", "listing", "title", "account", "posts", "next", "error"}
    assert result["kind"] == "wechat" and result["listing"] is False
    assert set(result["posts"][0]) == {
        "key",
        "url",
        "title",
        "account",
        "author",
        "published_at",
        "text",
        "metrics",
        "links",
    }
    assert result["posts"][0]["published_at"] == "2026-01-22T07:00:00+08:00"
