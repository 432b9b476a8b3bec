"""Page families that real accounts serve and ../shared/pages has no file of, written after the real
ones: WeChat's English and Sogou's notices, a gazette page with no known container, a page whose
first date is its build time, Weibo error and long-text answers, big modern WeChat pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawler.parsing import parse_page
from crawler.parsing.text import read_html
from crawler.parsing.wechat import parse_wechat_article

FETCHED = datetime(2026, 2, 1, 4, 0, tzinfo=UTC)
CHINA = timezone(timedelta(hours=8))
URL = "http://127.0.0.1:8000/page"

ENGLISH_DELETED = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Weixin Official Accounts Platform
</title><script>var biz = "" || "MzA4NTIyMjMyMw==";</script></head><body class="zh_CN">
<div class="weui-msg"><div class="weui-msg__icon-area"><i class="weui-icon-warn"></i></div>
<div class="weui-msg__text-area"><h2 class="weui-msg__title">This content has been deleted by the author.</h2>
</div></div></body></html>"""

SOGOU_ANTISPIDER = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>搜狗搜索</title></head><body>
<div class="content-box"><p class="p2">用户您好，我们的系统检测到您网络中存在异常访问请求。<br>
此验证码用于确认这些请求是您的正常行为而不是自动程序发出的，需要您协助验证。</p>
<form name="authform" method="POST" id="seccodeForm" action="/"><img id="seccodeImage" src="util/seccode.php">
<input type="text" name="c" id="seccodeInput"><a href="javascript:void(0);" id="submit">提交</a></form>
</div></body></html>"""


@pytest.mark.parametrize(("html", "status"), [(ENGLISH_DELETED, "deleted"), (SOGOU_ANTISPIDER, "waf")])
def test_wechat_notices_in_english_and_from_sogou(html: str, status: str) -> None:
    for result in (
        parse_page("wechat", URL, html.encode(), fetched_at=FETCHED),
        parse_wechat_article(URL, html.encode(), fetched_at=FETCHED),
    ):
        assert (result.status, result.posts) == (status, []) and URL in (result.error or "")


GAZETTE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>国务院办公厅关于做好2026年春耕生产工作的通知_2026年第4号国务院公报_中国政府网</title></head><body>
<div class="top">页面生成时间：2026-01-31 03:00:00 | 无障碍 | 繁体</div>
<div class="nav"><a href="/">首页</a> <a href="/zhengce/">政策</a> <a href="/gongbao/">公报</a></div>
<div class="gb-main"><div class="gb-head">
<div class="gb-title">国务院办公厅关于做好2026年春耕生产工作的通知</div>
<div class="gb-sub">国办发〔2026〕3号　　2026年01月20日</div></div>
<div class="gb-body">
<p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：</p>
<p>春耕生产事关全年粮食丰收。为切实做好2026年春耕生产工作，确保粮食和重要农产品稳定安全供给，经国务院同意，现就有关事项通知如下。</p>
<p>一、压实粮食生产责任。各地要严格落实粮食安全党政同责，把粮食播种面积和产量目标分解到县、落实到田块。</p>
<p>二、抓好农资保供稳价。有关部门要加强化肥、种子、农药等农资生产调运，严厉打击假冒伪劣农资，保障春耕用种用肥需求。</p>
<p>三、强化农业防灾减灾。要密切监测天气变化，及早制定应对低温、干旱等灾害的预案，做好物资准备。</p>
<p>国务院办公厅<br>2026年1月18日</p>
</div></div>
<div class="footer">主办单位：国务院办公厅 运行维护单位：中国政府网运行中心 版权所有：中国政府网</div>
</body></html>"""


def test_a_gazette_page_without_a_known_container() -> None:
    result = parse_page("govsite", URL, GAZETTE.encode("gbk"), fetched_at=FETCHED)
    assert result.status == "ok" and not result.listing
    (post,) = result.posts
    assert post.title == "国务院办公厅关于做好2026年春耕生产工作的通知"
    assert post.account == "中国政府网"
    # The date printed under the headline, not the page's build time nor the signature's date.
    assert post.published_at == datetime(2026, 1, 20, tzinfo=CHINA)
    assert post.text.startswith("各省、自治区、直辖市人民政府")
    assert (
        "二、抓好农资保供稳价" in post.text
        and "版权所有" not in post.text
        and "页面生成时间" not in post.text
    )


NEWS_LIST = (
    """<html><head><meta charset="utf-8"><title>政务要闻_某市人民政府</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk/">政务公开</a></div><ul class="list">
"""
    + "".join(
        f'<li><a href="/xw/202601/t2026012{n}_{n}.html">某市召开第{n}次常务会议研究部署近期重点工作</a>'
        f"<span>2026-01-2{n}</span></li>"
        for n in range(1, 9)
    )
    + """</ul><div class="page"><a href="index_1.html">下一页</a></div></body></html>"""
)


def test_a_news_list_stays_a_list() -> None:
    result = parse_page("govsite", URL, NEWS_LIST.encode(), fetched_at=FETCHED)
    assert result.listing and len(result.posts) == 8 and result.next == "http://127.0.0.1:8000/index_1.html"
    assert result.posts[0].published_at == datetime(2026, 1, 21, tzinfo=CHINA)


@pytest.mark.parametrize(
    "answer",
    [
        {"ok": 0, "msg": "用户不存在"},
        {"ok": 0, "errno": "100005", "msg": "请求参数错误"},
        {"ok": 0},
        # On the first page this is an account with nothing to show (closed, hidden, wrong id);
        # only on a later page (since_id) is it the end of the timeline.
        {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}},
    ],
)
def test_weibo_error_answers_are_unavailable(answer: dict) -> None:
    url = "https://m.weibo.cn/api/container/getIndex?containerid=1076031234567890"
    result = parse_page("weibo", url, json.dumps(answer, ensure_ascii=False).encode(), fetched_at=FETCHED)
    assert (result.status, result.posts) == ("unavailable", []) and url in (result.error or "")


def test_weibo_end_of_timeline_is_still_an_empty_page() -> None:
    answer = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
    url = "https://m.weibo.cn/api/container/getIndex?containerid=1076031234567890&since_id=9"
    result = parse_page("weibo", url, json.dumps(answer, ensure_ascii=False).encode(), fetched_at=FETCHED)
    assert (result.status, result.posts, result.error) == ("ok", [], None)


def test_weibo_statuses_extend_is_the_long_post() -> None:
    answer = {
        "ok": 1,
        "data": {
            "ok": 1,
            "longTextContent": "第一段全文内容<br />第二段 <a href='/search?containerid=231522'>#春运#</a>",
            "reposts_count": 5,
            "comments_count": 2,
            "attitudes_count": "1万+",
        },
    }
    url = "https://m.weibo.cn/statuses/extend?id=4990000000000001"
    result = parse_page("weibo", url, json.dumps(answer, ensure_ascii=False).encode(), fetched_at=FETCHED)
    (post,) = result.posts
    assert result.status == "ok" and post.key == "4990000000000001"
    assert post.text == "第一段全文内容\n第二段 #春运#"
    assert post.metrics == {"shares": 5, "comments": 2, "likes": 10_000}
    assert post.links == [{"href": "https://m.weibo.cn/search?containerid=231522", "text": "#春运#"}]
    # Saved without its URL's id (served from a file): still the post, keyed by its text.
    (saved,) = parse_page("weibo", URL, json.dumps(answer).encode(), fetched_at=FETCHED).posts
    assert saved.key.startswith("sha1:") and saved.text == post.text
    gone = parse_page("weibo", url, b'{"ok": 0, "msg": "\\u5df2\\u88ab\\u5220\\u9664"}', fetched_at=FETCHED)
    assert gone.status == "deleted"


def modern_wechat(related: int = 30) -> bytes:
    """A 2025-template article: 3 MB, mostly script, markers past the first 300 KB, related links."""
    script = "<script>" + ("var a=function(){return 1};" * 4000) + "</script>\n"
    related_links = "".join(
        f'<a href="https://mp.weixin.qq.com/s/abcdefghijklmnop{n:04d}">往期文章{n}</a><br>'
        for n in range(related)
    )
    page = (
        '<html><head><meta property="og:title" content="全市冬季供暖工作推进会召开" /></head><body>'
        + script * 12
        + '<div id="js_content" style="visibility: hidden;"><p>1月20日，全市冬季供暖工作推进会召开。</p>'
        + f"<p>会议要求，确保群众温暖过冬。</p><p>往期回顾：</p>{related_links}</div>"
        + script * 60
        + '<script>var nickname = htmlDecode("某市发布");\nvar ct = "1768867200";\n'
        'var biz = ""||"MzA4NTIyMjMyMw=="; var mid = "" || "2650001234"; var idx = "" || "1";</script>'
        "</body></html>"
    )
    return page.encode()


def test_a_modern_article_with_related_links_is_the_article() -> None:
    body = modern_wechat()
    assert len(body) > 3_000_000 and body.find(b"js_content") > 300_000
    result = parse_page("wechat", URL, body, fetched_at=FETCHED)
    assert result.status == "ok" and not result.listing
    (post,) = result.posts
    assert post.title == "全市冬季供暖工作推进会召开" and post.account == "某市发布"
    assert post.text.startswith("1月20日，全市冬季供暖工作推进会召开。")
    assert post.published_at == datetime(2026, 1, 20, 8, 0, tzinfo=CHINA)
    assert len(post.links) == 30 and post.links[0]["text"] == "往期文章0"


def test_text_and_links_of_a_fragment() -> None:
    read = read_html(
        '<p>详见<a href="/a.html">通知</a>，或访问 https://www.gov.cn/zhengce/ 。</p>'
        '<p><a href="javascript:void(0)">分享</a><a href="#top">顶部</a><a href="/a.html">重复</a></p>',
        base_url="http://www.example.gov.cn/x/y.html",
    )
    assert read.text == "详见通知，或访问 https://www.gov.cn/zhengce/ 。\n分享顶部重复"
    assert read.links == [
        {"href": "http://www.example.gov.cn/a.html", "text": "通知"},
        {"href": "https://www.gov.cn/zhengce/", "text": "https://www.gov.cn/zhengce/"},
    ]


def test_a_title_that_is_only_the_site_name_gives_way_to_the_headline() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>某某县人民政府</title></head><body>"
        "<div class='logo'><h2>某某县人民政府</h2></div><h1>某某县召开2026年春季森林防火工作会议</h1>"
        "<div class='info'>2026-01-19 09:30 来源：县应急管理局</div><div class='zw'><p>1月19日，我县召开春季"
        "森林防火工作会议，全面部署今春森林防火各项工作，要求各乡镇压实责任、加强巡查、严管火源。</p>"
        "<p>会议强调，要坚持预防为主、积极消灭，确保不发生重大森林火灾。</p></div></body></html>"
    )
    (post,) = parse_page("govsite", URL, html.encode(), fetched_at=FETCHED).posts
    assert post.title == "某某县召开2026年春季森林防火工作会议"
    assert post.published_at == datetime(2026, 1, 19, 9, 30, tzinfo=CHINA)
    assert post.author == "县应急管理局" and post.text.startswith("1月19日，我县召开春季森林防火工作会议")


def test_a_text_share_without_text_shows_its_title_not_the_follow_card() -> None:
    html = (
        '<html><head><meta property="og:title" content="今日停水通知" /></head><body>'
        '<div id="js_content"><div id="js_top_profile" class="profile_area_hide">'
        '<div class="wx_follow_context"><span class="wx_follow_nickname">某市发布</span>,<span>,</span></div>'
        "</div></div><script>window.item_show_type = '10' || ''; window.ct = '1768867200' || '';"
        "window.cgiDataNew = {nick_name: JsDecode('某市发布'), title: JsDecode('今日停水通知'),"
        " content_noencode: JsDecode(''), text_page_info: {is_user_title: '1' * 1}};</script></body></html>"
    )
    (post,) = parse_page("wechat", URL, html.encode(), fetched_at=FETCHED).posts
    assert (post.title, post.text, post.account) == ("今日停水通知", "今日停水通知", "某市发布")
