"""Renders the sample site's pages in the shapes the real platforms serve them."""

# ruff: noqa: E501 - HTML templates: their lines are as long as in the pages they imitate.

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from typing import Any

from govwatch.sample_site.content import (
    SampleAccount,
    SamplePost,
    wechat_biz,
    wechat_mid,
    wechat_short,
    wechat_sn,
    weibo_id,
)

CHINA = timezone(timedelta(hours=8))


def paragraphs(body: str) -> str:
    return "\n".join(f'<p style="text-indent: 2em;">{escape(line)}</p>' for line in body.split("\n") if line)


def wechat_long_url(site: str, account: SampleAccount, post: SamplePost) -> str:
    return (
        f"{site}/s?__biz={account.biz}&mid={wechat_mid(post)}&idx=1&sn={wechat_sn(account.slug, post)}"
        f"&chksm=98f3e{post.number:04d}#rd"
    )


def wechat_short_url(site: str, account: SampleAccount, post: SamplePost) -> str:
    return f"{site}/s/{wechat_short(account.slug, post)}"


def wechat_url(site: str, account: SampleAccount, post: SamplePost) -> str:
    # Bridges hand out both forms; the crawler must see them as one article.
    return wechat_short_url(site, account, post) if post.number % 2 else wechat_long_url(site, account, post)


def _js(value: str) -> str:
    """A JavaScript single-quoted string body as WeChat writes it (newlines as \\x0a)."""
    return value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\x0a").replace("<", "\\x3c")


def wechat_article(account: SampleAccount, post: SamplePost, published: datetime) -> bytes:
    biz, mid, sn = account.biz, wechat_mid(post), wechat_sn(account.slug, post)
    ct = int(published.timestamp())
    create_time = published.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    show_type = {"article": "0", "image_share": "8", "text_share": "10"}[post.variant]
    og_title = post.title if post.variant != "text_share" else post.body.replace("\n", "\\n")
    if post.variant == "article":
        images = (
            f'<p><img class="rich_pages wxw-img" data-src="https://mmbiz.qpic.cn/mmbiz_jpg/{sn[:12]}/640" '
            f'data-type="jpeg" data-w="1080" style="width: 100%;"></p>'
        )
        main = f"""
    <div id="js_article" class="rich_media">
      <div class="rich_media_inner">
        <div id="page-content" class="rich_media_area_primary">
          <h1 class="rich_media_title" id="activity-name">
            {escape(post.title)}
          </h1>
          <div id="meta_content" class="rich_media_meta_list">
            {'<span id="copyright_logo" class="wx_tap_link js_wx_tap_highlight rich_media_meta icon_appmsg_tag appmsg_title_tag weui-wa-hotarea">原创</span>' if post.original else ""}
            <span class="rich_media_meta rich_media_meta_text">{escape(post.author or "")}</span>
            <span class="rich_media_meta rich_media_meta_nickname" id="profileBt">
              <a href="javascript:void(0);" class="wx_tap_link js_wx_tap_highlight weui-wa-hotarea" id="js_name">
                {escape(account.name)}
              </a>
            </span>
            <em id="publish_time" class="rich_media_meta rich_media_meta_text"></em>
          </div>
          <div class="rich_media_content js_underline_content autoTypeSetting24psection" id="js_content" style="visibility: hidden;">
            <section style="margin-bottom: 0px;">{paragraphs(post.body)}</section>
            {images}
            <p style="display: none;"><mp-style-type data-value="3"></mp-style-type></p>
          </div>
        </div>
      </div>
    </div>"""
    elif post.variant == "image_share":
        pictures = ",".join(
            f"{{width: '1080' * 1, height: '1440' * 1, cdn_url: 'https://mmbiz.qpic.cn/sz_mmbiz_jpg/{sn[:8]}{i}/0',"
            f" watermark_info: {{cdn_url: ''}}}}"
            for i in range(3)
        )
        main = f"""
    <div id="js_image_content" class="image_content">
      <h1 class="rich_media_title">{escape(post.title)}</h1>
      <div class="wx_follow_nickname" id="js_name">{escape(account.name)}</div>
      <div id="js_image_desc" class="share_notice"></div>
    </div>
    <script type="text/javascript" nonce="1234">
      window.picture_page_info_list = [{pictures}];
      var cgiDataNew = {{ content_noencode: '{_js(post.body)}', }};
    </script>"""
    else:
        main = f"""
    <div id="js_text_outer" class="rich_media_area_primary text_content">
      <p id="js_text_content" class="share_notice"></p>
      <div class="wx_follow_nickname" id="js_name">{escape(account.name)}</div>
    </div>
    <script type="text/javascript" nonce="1234">
      window.text_page_info = {{
        is_user_title: '0' * 1,
        content: '{_js(post.body)}',
        content_noencode: '{_js(post.body)}',
      }};
    </script>"""
    return f"""<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="Content-Type" content="text/html; charset=utf-8">
  <meta name="viewport" content="width=device-width,initial-scale=1.0,maximum-scale=1.0,user-scalable=0,viewport-fit=cover">
  <meta name="description" content="{escape(post.body[:60])}" />
  <meta name="author" content="{escape(post.author or "")}" />
  <meta property="og:title" content="{escape(og_title)}" />
  <meta property="og:url" content="http://mp.weixin.qq.com/s?__biz={biz}&amp;mid={mid}&amp;idx=1&amp;sn={sn}#rd" />
  <meta property="og:type" content="article" />
  <meta property="twitter:card" content="summary" />
  <title>{escape(post.title)}</title>
  <link rel="stylesheet" href="//res.wx.qq.com/mmbizappmsg/zh_CN/htmledition/js/assets/appmsg.css">
</head>
<body id="activity-detail" class="zh_CN wx_wap_page mm_appmsg comment_feature discuss_tab appmsg_skin_default">
  <div id="js_top_ad_area" class="top_banner"></div>
  <div class="rich_media_wrp">{main}
  </div>
  <script type="text/javascript" nonce="1234">
    var msg_title = '{_js(post.title)}'.html(false);
    var msg_desc = htmlDecode("{escape(post.body[:40])}");
    var appuin = "{biz}"||"";
    var biz = "{biz}"||"";
    var mid = "" || "{mid}";
    var idx = "" || "1";
    var sn = "" || "{sn}";
    var item_show_type = "{show_type}";
    var copyright_stat = "{"1" if post.original else "0"}";
    var msg_link = "http://mp.weixin.qq.com/s?__biz={biz}&amp;mid={mid}&amp;idx=1&amp;sn={sn}#rd";
    var ct = "{ct}";
    var publish_time = "{published.astimezone(CHINA).strftime("%Y-%m-%d")}" || "";
    var createTime = '{create_time}';
    var d = {{}};
    d.nick_name = (xml ? getXmlValue('nick_name.DATA') : '{_js(account.name)}').html(false);
  </script>
  <script src="//res.wx.qq.com/mmbizappmsg/zh_CN/htmledition/js/appmsg.js"></script>
</body>
</html>
""".encode()


NOTICE_TEXT = {
    "deleted": ("该内容已被发布者删除", ""),
    "violation": (
        "此内容因违规无法查看",
        "经用户投诉，并经平台审核，该内容违反了《即时通信工具公众信息服务发展管理暂行规定》",
    ),
    "unavailable": ("该内容暂时无法查看", ""),
}


def wechat_notice(status: str) -> bytes:
    if status == "waf":
        return """<!DOCTYPE html><html><head><meta charset="utf-8"><title>微信公众平台</title></head>
<body class="zh_CN"><div class="weui-msg page_verify">
  <div class="weui-msg__icon-area"><i class="weui-icon-warn weui-icon_msg"></i></div>
  <div class="weui-msg__text-area"><h2 class="weui-msg__title">环境异常</h2>
  <p class="weui-msg__desc">当前环境异常，完成验证后即可继续访问。</p></div>
  <div class="weui-msg__opr-area"><a class="weui-btn weui-btn_primary" id="js_verify">去验证</a></div>
</div><script>var cgiData = {};</script></body></html>""".encode()
    title, detail = NOTICE_TEXT[status]
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title></title>
<meta name="viewport" content="width=device-width,initial-scale=1.0"></head>
<body id="activity-detail" class="zh_CN ">
<div class="weui-msg"><div class="weui-msg__icon-area"><i class="weui-icon-info-circle weui-icon_msg"></i></div>
<div class="weui-msg__text-area"><h2 class="weui-msg__title warn">{title}</h2>
<p class="weui-msg__desc">{detail}</p></div></div>
<script type="text/javascript">var global_error_msg = "{title}";</script>
</body></html>""".encode()


def rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(CHINA))


def wechat_index_feed(site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]]) -> bytes:
    """What a WeChat-to-RSS bridge serves: one entry per article, linking to the article page."""
    items = "\n".join(
        f"""    <item>
      <title><![CDATA[{post.title or post.body.split(chr(10))[0][:30]}]]></title>
      <link>{escape(wechat_url(site, account, post))}</link>
      <guid isPermaLink="false">{account.biz}_{wechat_mid(post)}_1</guid>
      <pubDate>{rfc822(published)}</pubDate>
      <description><![CDATA[{post.body[:40]}]]></description>
    </item>"""
        for post, published in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title><![CDATA[{account.name}]]></title>
    <link>{site}{account.path}</link>
    <description>{escape(account.name)} - 公众号文章（RSS 桥接）</description>
    <atom:link href="{site}{account.path}" rel="self" type="application/rss+xml"/>
{items}
  </channel>
</rss>
""".encode()


def wechat_index_html(site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]]) -> bytes:
    rows = "\n".join(
        f'<li><a href="{escape(wechat_url(site, account, post))}">{escape(post.title or post.body[:20])}</a>'
        f' <span class="time">{published.astimezone(CHINA):%Y-%m-%d}</span></li>'
        for post, published in entries
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(account.name)} 历史文章</title></head>
<body><h1>{escape(account.name)}</h1><ul class="article-list">
{rows}
</ul></body></html>""".encode()


def weibo_mblog(
    site: str, account: SampleAccount, post: SamplePost, published: datetime, *, full: bool
) -> dict[str, Any]:
    post_id = weibo_id(post)
    shown = post.body[:60] if post.long and not full else post.body
    text = escape(shown).replace("\n", "<br />")
    text = text.replace("#冬季消防安全#", '<a href="/search?containerid=231522type%3D1">#冬季消防安全#</a>')
    if post.long and not full:
        text += f'...<a href="/status/{post_id}">全文</a>'
    mblog: dict[str, Any] = {
        "visible": {"type": 0, "list_id": 0},
        "created_at": published.astimezone(CHINA).strftime("%a %b %d %H:%M:%S +0800 %Y"),
        "id": post_id,
        "mid": post_id,
        "bid": f"P{post.number:08d}",
        "can_edit": False,
        "text": text,
        "textLength": len(post.body) * 2,
        "source": "微博 weibo.com",
        "favorited": False,
        "pic_ids": [],
        "user": {
            "id": int(account.handle),
            "screen_name": account.name,
            "verified": True,
            "verified_type": 1,
        },
        "reposts_count": post.number % 7,
        "comments_count": post.number % 5,
        "attitudes_count": post.likes,
        "pending_approval_count": 0,
        "isLongText": post.long,
        "edit_count": post.edits,
    }
    if post.number % 3 == 0:  # pictures come as a list ...
        mblog["pics"] = [
            {
                "pid": f"pic{post.number}a",
                "url": f"https://wx1.sinaimg.cn/orj360/pic{post.number}a.jpg",
                "large": {"url": f"https://wx1.sinaimg.cn/large/pic{post.number}a.jpg"},
            }
        ]
    elif post.number % 3 == 1:  # ... or keyed "0", "1" in some answers
        mblog["pics"] = {
            "0": {"pid": f"pic{post.number}b", "url": f"https://wx2.sinaimg.cn/orj360/pic{post.number}b.jpg"}
        }
    if post.repost is not None:
        if post.repost:
            mblog["retweeted_status"] = {
                "id": str(int(post_id) - 10**12),
                "created_at": "Mon Jan 19 09:00:00 +0800 2026",
                "text": escape(post.repost),
                "user": {"id": 1, "screen_name": "呼和浩特市政务服务局"},
            }
        else:
            mblog["retweeted_status"] = {
                "id": str(int(post_id) - 10**12),
                "created_at": "刚刚",
                "deleted": "1",
                "text": '抱歉，此微博已被作者删除。查看帮助：<a href="https://t.cn/Rfd3rQV">网页链接</a>',
                "user": None,
            }
    return mblog


def weibo_container(
    site: str,
    account: SampleAccount,
    entries: list[tuple[SamplePost, datetime]],
    since_id: str | None,
    page_size: int,
) -> bytes:
    """One page of the timeline: newest first, from `since_id` on, a mix of card types 9 and 11."""
    if since_id:
        # Newest first: the page starts at the post since_id names (real ids grow with time; these
        # sample ids do not, so find the post by position).
        positions = [i for i, (p, _) in enumerate(entries) if weibo_id(p) == since_id]
        entries = entries[positions[0] :] if positions else []
    page, rest = entries[:page_size], entries[page_size:]
    cards: list[dict[str, Any]] = []
    if not since_id:
        cards.append({"card_type": 58, "name": "", "desc": "正在加载更多内容"})
    for position, (post, published) in enumerate(page):
        card = {
            "card_type": 9,
            "itemid": f"1076036_{weibo_id(post)}",
            "scheme": f"{site}/status/{weibo_id(post)}",
            "mblog": weibo_mblog(site, account, post, published, full=False),
        }
        if position % 3 == 1:  # some posts arrive wrapped in a group card
            cards.append({"card_type": 11, "card_group": [card], "itemid": "", "show_type": 0})
        else:
            cards.append(card)
    info: dict[str, Any] = {
        "containerid": f"107603{account.handle}",
        "v_p": 42,
        "show_style": 1,
        "total": len(entries),
        "page": None,
    }
    if rest:
        info["since_id"] = int(weibo_id(rest[0][0]))
    if not page:
        return json.dumps(
            {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}, ensure_ascii=False
        ).encode()
    document = {"ok": 1, "data": {"cardlistInfo": info, "cards": cards, "scheme": ""}}
    return json.dumps(document, ensure_ascii=False).encode()


def weibo_show(
    site: str, account: SampleAccount, post: SamplePost | None, published: datetime | None
) -> bytes:
    if post is None or post.status != "live" or published is None:
        return json.dumps({"ok": 0, "errno": "20101", "msg": "target weibo does not exist!"}).encode()
    mblog = weibo_mblog(site, account, post, published, full=True)
    return json.dumps({"ok": 1, "data": mblog}, ensure_ascii=False).encode()


def gov_detail_path(account: SampleAccount, post: SamplePost, published: datetime) -> str:
    local = published.astimezone(CHINA)
    if account.slug == "hhht-gov":
        return f"/gov/hhht/xwdt/{local:%Y%m}/t{local:%Y%m%d}_{post.number}.html"
    return f"/gov/yuquan/art/{local.year}/{local.month}/{local.day}/art_1234_{post.number}.html"


def gov_list(
    site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]], page: int, per_page: int
) -> bytes:
    pages = max(1, -(-len(entries) // per_page))
    chunk = entries[(page - 1) * per_page : page * per_page]
    if account.slug == "hhht-gov":
        rows = "\n".join(
            f'<li><a href=".{gov_detail_path(account, post, published)[len("/gov/hhht/xwdt") :]}" target="_blank" '
            f'title="{escape(post.title)}">{escape(post.title)}</a><span>{published.astimezone(CHINA):%Y-%m-%d}</span></li>'
            for post, published in chunk
        )
        html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<meta name="SiteName" content="呼和浩特市人民政府" /><meta name="ColumnName" content="新闻动态" />
<title>新闻动态_呼和浩特市人民政府</title></head>
<body><div class="header"><a href="/">首页</a> <a href="/gov/hhht/zwgk/">政务公开</a> <a href="/gov/hhht/hdjl/">互动交流</a></div>
<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; 新闻动态</div>
<ul class="list_news">
{rows}
</ul>
<div class="page"><script type="text/javascript">createPageHTML({pages}, {page - 1}, "index", "html");</script></div>
</div><div class="footer">主办：呼和浩特市人民政府办公室 蒙ICP备05000000号</div></body></html>
"""
        return html.encode("gb18030")
    rows = "\n".join(
        f'<li><span class="date">{published.astimezone(CHINA):%Y年%m月%d日}</span>'
        f'<a href="{gov_detail_path(account, post, published)}">{escape(post.title)}</a></li>'
        for post, published in chunk
    )
    following = f'<a class="next" href="?page={page + 1}">下一页</a>' if page < pages else ""
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>工作动态 - 玉泉区人民政府</title></head>
<body><div class="nav"><a href="/">网站首页</a><a href="/gov/yuquan/zwgk">政务公开</a></div>
<div class="news-list"><ul>
{rows}
</ul></div>
<div class="pagination"><span>共{pages}页</span> {following}</div></body></html>
"""
    return html.encode("gb18030")


def gov_detail(account: SampleAccount, post: SamplePost, published: datetime) -> bytes:
    local = published.astimezone(CHINA)
    injected = (
        f'<div style="position:absolute;left:-9999px;top:-9999px">{escape(post.injected)}</div>\n'
        if post.injected
        else ""
    )
    if account.slug == "hhht-gov":
        html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<meta name="SiteName" content="呼和浩特市人民政府" />
<meta name="ColumnName" content="新闻动态" />
<meta name="ArticleTitle" content="{escape(post.title)}" />
<meta name="PubDate" content="{local:%Y-%m-%d %H:%M}" />
<meta name="ContentSource" content="{escape(post.author or "")}" />
<meta name="Keywords" content="" />
<title>{escape(post.title)}_新闻动态_呼和浩特市人民政府</title></head>
<body><div class="header"><a href="/">首页</a></div>
<div class="article"><h1>{escape(post.title)}</h1>
<div class="info">发布时间：{local:%Y-%m-%d %H:%M} 来源：{escape(post.author or "")} 【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</div>
<div class="TRS_Editor">{injected}{paragraphs(post.body)}</div>
</div><div class="footer">主办：呼和浩特市人民政府办公室</div></body></html>
"""
        return html.encode("gb18030")
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{escape(post.title)} - 玉泉区人民政府</title></head>
<body><div class="nav"><a href="/">网站首页</a></div>
<div class="detail"><div class="title">{escape(post.title)}</div>
<div class="source">发布日期：{local:%Y年%m月%d日} 信息来源：{escape(post.author or "")}</div>
<div id="UCAP-CONTENT">{injected}{paragraphs(post.body)}</div></div></body></html>
"""
    return html.encode("gb18030")


def gov_withdrawn() -> bytes:
    return """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>提示信息</title></head>
<body><div class="tips" style="text-align:center;margin-top:100px"><img src="/images/tip.png" />
<p>该信息已撤回！</p><p><a href="/">返回首页</a></p></div></body></html>""".encode("gb18030")


def rss_feed(site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]]) -> bytes:
    items = []
    for post, published in entries:
        date = "" if post.undated else f"\n      <pubDate>{rfc822(published)}</pubDate>"
        item = f"""    <item>
      <title>{escape(post.title)}</title>
      <link>{site}/nmg/art/{post.number}.html</link>
      <guid isPermaLink="false">nmg-gov-{post.number}</guid>{date}
      <author>{escape(post.author or "")}</author>
      <description><![CDATA[{post.body}]]></description>
    </item>"""
        items.append(item)
        if post.duplicate:
            items.append(item)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>{escape(account.name)}</title>
    <link>{site}/nmg/</link>
    <description>内蒙古自治区人民政府 政务要闻</description>
    <language>zh-cn</language>
{chr(10).join(items)}
  </channel>
</rss>
""".encode()


def atom_feed(site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]]) -> bytes:
    items = "\n".join(
        f"""  <entry>
    <title>{escape(post.title)}</title>
    <id>tag:toutiao.example,2026:{account.handle}/{post.number}</id>
    <link href="{site}/toutiao/a{7300000000000000000 + post.number}/"/>
    <updated>{published.astimezone(CHINA).isoformat()}</updated>
    <author><name>{escape(post.author or account.name)}</name></author>
    <content type="html">{escape(post.body)}</content>
  </entry>"""
        for post, published in entries
    )
    updated = entries[0][1].astimezone(CHINA).isoformat() if entries else "2026-01-01T00:00:00+08:00"
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(account.name)} - 今日头条</title>
  <id>{site}{account.path}</id>
  <link href="{site}{account.path}" rel="self"/>
  <updated>{updated}</updated>
  <generator>RSSHub</generator>
{items}
</feed>
""".encode()


def json_feed(site: str, account: SampleAccount, entries: list[tuple[SamplePost, datetime]]) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"{account.name} - 抖音",
        "home_page_url": f"{site}/douyin/user/{account.handle}",
        "feed_url": f"{site}{account.path}",
        "items": [
            {
                "id": str(7400000000000000000 + post.number),
                "url": f"{site}/douyin/video/{7400000000000000000 + post.number}",
                "title": post.title,
                "content_html": f'<p>{escape(post.body)}</p><video src="https://v.example/{post.number}.mp4"></video>',
                "date_published": published.astimezone(CHINA).isoformat(),
                "authors": [{"name": post.author or account.name}],
            }
            for post, published in entries
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def bench_article(number: int, published: datetime) -> bytes:
    """A WeChat-shaped article for the benchmark (about 12 KB, like a real short article)."""
    from govwatch.sample_site.content import SampleAccount as Account
    from govwatch.sample_site.content import SamplePost as Post

    account = Account(
        slug=f"bench-{number // 1000}",
        name=f"基准测试账号{number // 1000}",
        platform="wechat",
        kind="wechat",
        handle=f"gh_bench{number // 1000}",
        organization="",
        region_code="150000",
        region_name="",
        path="",
    )
    account.biz = wechat_biz(account.slug)
    body = "\n".join(
        f"第{i + 1}段：为深入贯彻落实自治区党委和政府决策部署，持续优化营商环境，提升政务服务水平，"
        f"各地区各部门围绕企业和群众办事的堵点难点问题，推出了一系列务实举措。编号{number}-{i}。"
        for i in range(12)
    )
    post = Post(number, f"政务动态第{number}期：持续优化营商环境", body, 1, "基准测试")
    return wechat_article(account, post, published)


def bench_index(site: str, account_number: int, page: int, per_page: int, total: int) -> bytes:
    start = account_number * total + (page - 1) * per_page
    stop = min(account_number * total + total, start + per_page)
    items = "\n".join(
        f"<item><title>政务动态第{n}期</title><link>{site}/bench/s?__biz=MzBench{account_number}==&amp;mid={2650000000 + n}"
        f'&amp;idx=1&amp;sn=bench{n}</link><guid isPermaLink="false">bench-{n}</guid></item>'
        for n in range(start, stop)
    )
    following = ""
    if stop < account_number * total + total:
        following = f'<atom:link rel="next" href="{site}/bench/{account_number}/index.xml?page={page + 1}"/>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>基准测试账号{account_number}</title>
{following}
{items}
</channel></rss>""".encode()
