"""WeChat article pages (mp.weixin.qq.com/s/...), and the notice pages WeChat answers 200 with."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
from lxml import etree
from parsel import Selector

from crawler.parsing.base import PageResult, ParsedPost, error_page
from crawler.parsing.dates import parse_count, parse_datetime
from crawler.parsing.encoding import decode_body
from crawler.parsing.text import clean_text, read_html

# Checked in this order on pages without article content (never on an article that quotes them).
NOTICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "waf",
        (
            "环境异常",
            "完成验证后即可继续访问",
            "去验证",
            "访问过于频繁",
            "请输入验证码",
            "安全验证",
            # Sogou's WeChat search (weixin.sogou.com/antispider): "your network sent unusual requests"
            "异常访问请求",
            "此验证码用于确认这些请求是您的正常行为",
            "antispider",
            "Environment abnormal",
            "complete the verification",
        ),
    ),
    (
        "deleted",
        (
            "该内容已被发布者删除",
            "已被发布者删除",
            "内容已删除",
            "has been deleted by the author",
            "has been deleted by the publisher",
            "This content has been deleted",
        ),
    ),
    (
        "violation",
        (
            "此内容因违规无法查看",
            "因违规无法查看",
            "此内容被多人投诉",
            "violat",  # "Unable to view this content because it violates regulations"
        ),
    ),
    (
        "unavailable",
        (
            "该内容暂时无法查看",
            "内容暂时无法查看",
            "此帐号已被屏蔽",
            "此帐号已自主注销",
            "此帐号已注销",
            "该公众号已被封禁",
            "链接已过期",
            "内容无法查看",
            "此帐号处于冻结状态",
            "This content cannot be viewed",
            "content is unavailable",
            "temporarily unavailable",
            "The link has expired",
            "Link expired",
            "account has been banned",
            "account has been deactivated",
        ),
    ),
)
NOTICE_MESSAGES = {
    "waf": "WeChat answered with a verification page (环境异常/WAF) instead of the article",
    "deleted": "the article was deleted by its publisher (该内容已被发布者删除)",
    "violation": "the article was taken down by WeChat for a violation (此内容因违规无法查看)",
    "unavailable": "the article cannot be viewed (unavailable notice)",
}
_JS_STRING = r"""(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)')"""
_ARTICLE_LINK = re.compile(r"/s(?:/[\w-]{6,}|\?[^\"'<>\s]*__biz=)")


# The script variables the parser reads. Matching only these names (instead of every assignment
# in ~3 MB of inline script, then picking) is what keeps a modern article page at a few ms.
SCRIPT_NAMES = (
    "biz", "_biz", "mid", "_mid", "appmsgid", "idx", "_idx", "sn", "_sn", "msg_link", "item_show_type",
    "msg_title", "ct", "ori_create_time", "createTime", "copyright_stat", "_copyright_stat", "read_num",
    "old_like_num", "like_num", "share_num", "comment_count", "friend_like_num", "wow_num", "nickname",
    "content_noencode", "text_content", "is_user_title",
)  # fmt: skip
_VALUE = (
    r"""\s*[:=]\s*(?:(?:htmlDecode|JsDecode)\(\s*)?"""
    r"""((?:(?:"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')\s*(?:\|\|\s*)?)+)"""
)
# One pattern per name, each starting with the name itself: the regex engine then skips through
# the page to each occurrence of that literal, instead of trying every position.
_NAMED = {name: re.compile(re.escape(name) + _VALUE) for name in SCRIPT_NAMES}
_IDENTIFIER_CHAR = re.compile(r"[\w$]")


@lru_cache(maxsize=8)
def _script_vars(html: str) -> dict[str, str]:
    """The first non-empty string each of SCRIPT_NAMES is assigned (`var x = "..."`,
    `window.x = '...' || ''`, `x: JsDecode('...')`), not `d.x = ...` nor `other_x = ...`."""
    found: dict[str, str] = {}
    for name, pattern in _NAMED.items():
        for match in pattern.finditer(html):
            start = match.start()
            before = html[start - 1] if start else ""
            if before and _IDENTIFIER_CHAR.match(before):
                continue
            if before == "." and not html.endswith("window.", 0, start):
                continue
            value = next((d or s for d, s in _JS_STRING_RE.findall(match.group(1)) if d or s), None)
            if value:
                found[name] = _js_unescape(value)
                break
    return found


_JS_STRING_RE = re.compile(_JS_STRING)


def _js_var(html: str, name: str) -> str | None:
    """The first non-empty string a script assigns to `name` (one of SCRIPT_NAMES)."""
    return _script_vars(html).get(name) if html else None


def _js_unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(0)
        if escape.startswith(("\\x", "\\u")):
            return chr(int(escape[2:], 16))
        return {"\\n": "\n", "\\r": "", "\\t": "\t"}.get(escape, escape[1:])

    return re.sub(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\.", replace, value)


def _unescape_html_entities(text: str) -> str:
    import html

    return html.unescape(text)


def article_ids(html: str, url: str) -> dict[str, str]:
    """__biz, mid, idx, sn from the page's script variables, else from its msg_link or URL."""
    ids: dict[str, str] = {}
    for name, var in (("__biz", "biz"), ("mid", "mid"), ("idx", "idx"), ("sn", "sn")):
        value = _js_var(html, var) or _js_var(html, "appmsgid" if name == "mid" else f"_{var}")
        if value:
            ids[name] = value
    for source in (_js_var(html, "msg_link"), url):
        if len(ids) == 4:
            break
        if not source or "?" not in source:
            continue
        query = parse_qs(urlsplit(_unescape_html_entities(source)).query)
        for name in ("__biz", "mid", "idx", "sn"):
            if name not in ids and query.get(name):
                ids[name] = query[name][0]
    return ids


def article_key(ids: dict[str, str], url: str) -> str:
    """The stable key: the same article under its short and long URL has the same __biz/mid/idx."""
    if ids.get("__biz") and ids.get("mid"):
        return f"{ids['__biz']}/{ids['mid']}/{ids.get('idx', '1')}"
    path = urlsplit(url).path
    if path.startswith("/s/"):
        return "s/" + path[3:].strip("/")
    return url


def classify_notice(text: str) -> str | None:
    lowered = text.lower()
    for status, phrases in NOTICES:
        if any(phrase.lower() in lowered for phrase in phrases):
            return status
    return None


MAX_NOTICE_CHARS = 3000  # a notice page says one thing; a page with more text is something else


def parse_wechat_notice(url: str, body: bytes, content_type: str | None = None) -> PageResult | None:
    """A page that is only a WeChat (or Sogou) notice: deleted, violation, unavailable, verification."""
    html, _, _ = decode_body(body, content_type)
    root = _parse_html(html)
    visible = clean_text(" ".join(_X_VISIBLE(root)))
    title = clean_text(" ".join(root.xpath("//title//text()")))
    if len(visible) > MAX_NOTICE_CHARS:
        return None
    status = classify_notice(f"{title}\n{visible}")
    if status is None:
        return None
    return PageResult(kind="wechat", url=url, status=status, error=f"{NOTICE_MESSAGES[status]} at {url}")


# Compiled once: this parser runs for every article crawled, and parsel's per-call CSS translation
# and Selector objects cost more than the lookups themselves.
_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
_X_CONTENT = etree.XPath('//*[@id="js_content"]')
_X_TITLE = etree.XPath('string(//*[@id="activity-name"])')
_X_OG_TITLE = etree.XPath('string(//meta[@property="og:title"]/@content)')
_X_NAME = etree.XPath('string(//*[@id="js_name"])')
_X_AUTHOR_META = etree.XPath('string(//meta[@name="author"]/@content)')
_X_AUTHOR_NAME = etree.XPath('string(//*[@id="js_author_name"])')
_X_PUBLISH_TIME = etree.XPath('string(//*[@id="publish_time"])')
_X_ORIGINAL = etree.XPath('boolean(//*[@id="copyright_logo"])')
_X_VISIBLE = etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
_X_DATA_SRC = etree.XPath(".//img/@data-src")
_X_PROFILE_CARD = etree.XPath('.//*[@id="js_top_profile" or contains(@class, "wx_follow_context")]')


def _parse_html(html: str) -> Any:
    root = etree.fromstring(html.encode("utf-8", "replace"), parser=_HTML_PARSER) if html.strip() else None
    return root if root is not None else lxml.html.fromstring("<html></html>")


def parse_wechat_article(
    url: str, body: bytes, content_type: str | None = None, *, fetched_at: datetime | None = None
) -> PageResult:
    html, _, _ = decode_body(body, content_type)
    root = _parse_html(html)
    ids = article_ids(html, url)
    key = article_key(ids, url)
    cgi = _cgi_data(html)

    item_show_type = (
        _js_var(html, "item_show_type") or cgi.get("item_show_type") or _item_show_type_number(html)
    )
    is_share = item_show_type in SHARE_TYPES
    titles = [
        # og:title writes the line breaks of a share's text as a literal backslash-n
        clean_text(_X_OG_TITLE(root).replace("\\n", "\n")),
        clean_text(_unescape_html_entities(_js_var(html, "msg_title") or "")),
        clean_text(_unescape_html_entities(cgi.get("title") or "")),
        clean_text(_X_TITLE(root)),
    ]
    title = next((candidate for candidate in titles if candidate), "")

    text = ""
    links: list[dict[str, str]] = []
    images: list[str] = []
    content = _X_CONTENT(root)
    if content and not is_share:
        images = [urljoin(url, src) for src in _X_DATA_SRC(content[0])]
        text, links = _read(content[0], url)
    if not text:
        # Image (8) and text (10) shares: the share's own text is a script string, read as HTML.
        raw = (
            cgi.get("content_noencode")
            or _js_var(html, "content_noencode")
            or _js_object_string(html, "text_page_info", "content")
            or _js_var(html, "text_content")
        )
        if raw:
            text, links = _read(raw, url)
        images = images or _picture_list(html)
    if not text and content and is_share:
        # Older share templates: the text in #js_content; the 2024+ one only keeps the account's
        # follow card there (#js_top_profile), which is not the share's text.
        for card in _X_PROFILE_CARD(content[0]):
            card.drop_tree()
        text, links = _read(content[0], url)
    untitled = item_show_type == "10" and bool(title) and _untitled_share(html, title, text, cgi)
    if untitled:
        title = ""  # WeChat copies the text of an untitled text share into its title fields

    if not text:
        visible = clean_text(" ".join(_X_VISIBLE(root)))
        status = classify_notice(visible or html)
        if status is not None:
            return PageResult(
                kind="wechat", url=url, status=status, error=f"{NOTICE_MESSAGES[status]} at {url}"
            )
        if is_share and title:
            text = title  # a share without text: its title is all a reader sees
        elif content:
            return error_page("wechat", url, "the article has an empty body")
        else:
            return error_page("wechat", url, "not a WeChat article page (no #js_content, no share text)")

    account = (
        clean_text(_X_NAME(root))
        or clean_text(_unescape_html_entities(cgi.get("nick_name") or ""))
        or _nick_name(html)
    )
    author = clean_text(_X_AUTHOR_META(root)) or clean_text(_X_AUTHOR_NAME(root)) or None
    published = None
    for value in (
        _js_var(html, "ct"),
        cgi.get("ori_create_time"),
        _js_var(html, "ori_create_time"),
        cgi.get("create_timestamp"),
        _js_var(html, "createTime"),
        cgi.get("create_time"),
        _X_PUBLISH_TIME(root),
    ):
        published = parse_datetime(value, now=fetched_at) if value else None
        if published is not None:
            break
    copyright_stat = _js_var(html, "copyright_stat") or _js_var(html, "_copyright_stat")
    is_original: bool | None = None
    if copyright_stat is not None:
        is_original = copyright_stat in ("1", "11")
    if _X_ORIGINAL(root):
        is_original = True
    metrics = {
        "reads": parse_count(_js_var(html, "read_num")),
        "likes": parse_count(_js_var(html, "old_like_num") or _js_var(html, "like_num")),
        "shares": parse_count(_js_var(html, "share_num")),
        "comments": parse_count(_js_var(html, "comment_count")),
        "wows": parse_count(_js_var(html, "friend_like_num") or _js_var(html, "wow_num")),
    }
    post = ParsedPost(
        key=key,
        # The fetched URL, not msg_link: a recheck must go where this crawl went (a mirror, a test site).
        url=url,
        title=title or None,
        account=account or None,
        author=author,
        published_at=published,
        text=text,
        metrics={k: v for k, v in metrics.items() if v is not None},
        is_original=is_original,
        images=images,
        links=links,
        untitled=untitled,
    )
    return PageResult(kind="wechat", url=url, posts=[post])


SHARE_TYPES = ("8", "10")  # item_show_type: 8 image share (图片分享), 10 text share (文本分享)
_WS = re.compile(r"\s+")


def _read(html: str | Any, url: str) -> tuple[str, list[dict[str, str]]]:
    read = read_html(html, base_url=url)
    return read.text, read.links


def _untitled_share(html: str, title: str, text: str, cgi: dict[str, str]) -> bool:
    """Whether a text share's title is only a copy of its text (WeChat fills it in when none is given)."""
    flag = cgi.get("is_user_title") or _js_var(html, "is_user_title")
    if flag in ("0", "1"):
        return flag == "0"
    squashed_title = _WS.sub("", _unescape_html_entities(title)).rstrip("…").rstrip(".")
    squashed_text = _WS.sub("", _unescape_html_entities(text))
    return bool(squashed_title) and squashed_text.startswith(squashed_title[:40])


_CGI_START = re.compile(r"window\.cgiDataNew\s*=\s*\{")
_CGI_FIELDS = (
    "content_noencode", "nick_name", "title", "ori_create_time", "create_timestamp", "create_time",
    "item_show_type", "is_user_title",
)  # fmt: skip
_CGI_VALUE = r"""\s*:\s*(?:JsDecode\(\s*)?(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)")"""
_CGI_PATTERNS = {name: re.compile(re.escape(name) + _CGI_VALUE) for name in _CGI_FIELDS}


def _cgi_data(html: str) -> dict[str, str]:
    """The first value of a few fields of `window.cgiDataNew`, the 2024+ template's page data.

    Only the object's own fields: the first occurrence after the assignment is the top-level one
    (nested copies of the same names, for related articles, come later).
    """
    match = _CGI_START.search(html)
    if not match:
        return {}
    found: dict[str, str] = {}
    end = html.find("</script", match.end())
    block = html[match.end() : end if end >= 0 else len(html)]
    for name, pattern in _CGI_PATTERNS.items():
        for field_match in pattern.finditer(block):
            start = field_match.start()
            if (start and _IDENTIFIER_CHAR.match(block[start - 1])) or block[start - 1 : start] == ".":
                continue  # another field that ends with this name (d.title, msg_title)
            found[name] = _js_unescape(field_match.group(1) or field_match.group(2) or "")
            break
    return found


def _item_show_type_number(html: str) -> str | None:
    match = re.search(r"item_show_type\s*[:=]\s*['\"]?(\d+)['\"]?", html)
    return match.group(1) if match else None


def _js_object_string(html: str, object_name: str, field: str) -> str | None:
    match = re.search(rf"{re.escape(object_name)}\s*[:=]\s*\{{", html)
    if not match:
        return None
    tail = html[match.end() : match.end() + 200_000]
    field_match = re.search(rf"\b{re.escape(field)}\s*:\s*{_JS_STRING}", tail)
    if not field_match:
        return None
    return _js_unescape(field_match.group(1) or field_match.group(2) or "")


def _picture_list(html: str) -> list[str]:
    match = re.search(r"picture_page_info_list\s*[:=]\s*\[", html)
    if not match:
        return []
    block = html[match.end() : match.end() + 100_000]
    end = block.find("];")
    block = block[: end if end >= 0 else len(block)]
    urls = []
    for raw in re.findall(r"\bcdn_url\s*:\s*" + _JS_STRING, block):
        value = _js_unescape(raw[0] or raw[1])
        if value and value not in urls:
            urls.append(value)
    return urls


def _nick_name(html: str) -> str | None:
    # d.nick_name = (xml ? getXmlValue('nick_name.DATA') : '名称').html(false);
    match = re.search(r"""nick_name\s*=\s*\(\s*xml\s*\?.{0,80}?:\s*['"]([^'"]+)['"]\s*\)""", html)
    if match:
        return clean_text(match.group(1))
    value = _js_var(html, "nickname")
    return clean_text(value) if value else None


def parse_wechat_index(
    url: str, body: bytes, content_type: str | None = None, *, fetched_at: datetime | None = None
) -> PageResult:
    """A list of article links: a WeChat-to-RSS bridge's feed, or any HTML page linking to articles."""
    from crawler.parsing.feed import looks_like_feed, parse_feed

    if looks_like_feed(body):
        fast = _index_from_clean_xml(url, body, fetched_at)
        if fast is not None:
            return fast
        result = parse_feed(url, body, content_type, fetched_at=fetched_at)
        result.kind = "wechat"
        result.listing = True
        for post in result.posts:
            # The article page decides the key; from a link only a long URL tells __biz/mid/idx.
            post.detail_url = post.url
            if post.url:
                post.key = article_key(article_ids("", post.url), post.url)
        result.posts = [post for post in result.posts if post.detail_url]
        return result
    html, _, _ = decode_body(body, content_type)
    selector = Selector(text=html or "<html></html>")
    result = PageResult(kind="wechat", url=url, listing=True)
    seen: set[str] = set()
    for anchor in selector.css("a[href]"):
        href = urljoin(url, anchor.attrib["href"].strip())
        if not _ARTICLE_LINK.search(href) or href in seen:
            continue
        seen.add(href)
        result.posts.append(
            ParsedPost(
                key=article_key(article_ids("", href), href),
                url=href,
                title=clean_text(" ".join(anchor.css("::text").getall())) or None,
                detail_url=href,
            )
        )
    next_href = selector.xpath('//a[contains(normalize-space(.), "下一页")]/@href').get()
    if next_href and not next_href.startswith("javascript"):
        result.next = urljoin(url, next_href)
    if not result.posts and not result.next:
        return error_page("wechat", url, "no WeChat article links found on the index page")
    return result


# What only an article page carries (any template, 2014 to the 2025 share pages). Looked for in the
# whole page: a modern page is 2-4 MB, mostly inline script, with these far from its start.
ARTICLE_MARKERS = (
    b'id="js_content"',
    b"id='js_content'",
    b'id="activity-name"',
    b"var ct ",
    b"var ct=",
    b"window.ct ",
    b"window.ct=",
    b"window.cgiDataNew",
    b"content_noencode",
    b"text_page_info",
    b"picture_page_info_list",
    b"var msg_title",
    b"window.msg_title",
    b'id="js_name"',
)


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _index_from_clean_xml(url: str, body: bytes, fetched_at: datetime | None) -> PageResult | None:
    """The links of a well-formed RSS/Atom index, read with lxml; None sends the page to feedparser.

    An index only needs each entry's link, title and date, and a bridge's index can list hundreds
    of articles: feedparser's full parse of one such page costs more than crawling a dozen articles.
    """
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None or etree.QName(root).localname not in ("rss", "feed", "RDF"):
        return None
    result = PageResult(kind="wechat", url=url, listing=True)
    from crawler.parsing.feed import feed_account

    channel = root.find("{*}channel")
    result.title = clean_text((channel if channel is not None else root).findtext("{*}title") or "") or None
    result.account = feed_account(result.title)
    seen: set[str] = set()
    for entry in root.iter("{*}item", "{*}entry"):
        link = ""
        for child in entry:
            if not isinstance(child.tag, str) or etree.QName(child).localname != "link":
                continue
            href = child.get("href") or (child.text or "")
            if href.strip() and child.get("rel", "alternate") == "alternate":
                link = href.strip()
                break
        if not link:
            continue
        link = urljoin(url, link)
        if link in seen:
            continue
        seen.add(link)
        title = entry.findtext("{*}title") or entry.findtext("title") or ""
        date = next(
            (
                entry.findtext(f"{{*}}{name}") or entry.findtext(name)
                for name in ("pubDate", "published", "updated", "date")
                if entry.findtext(f"{{*}}{name}") or entry.findtext(name)
            ),
            None,
        )
        result.posts.append(
            ParsedPost(
                key=article_key(article_ids("", link), link),
                url=link,
                title=clean_text(title) or None,
                published_at=parse_datetime(date, now=fetched_at) if date else None,
                detail_url=link,
            )
        )
    for element in root.iter("{*}link", "link"):
        if element.get("rel") == "next" and element.get("href"):
            result.next = urljoin(url, element.get("href"))
    return result


def looks_like_wechat_index(body: bytes) -> bool:
    """An HTML page linking to WeChat articles (an account's history page, a bridge's list)."""
    head = body[:500_000]
    if b"mp.weixin.qq.com/s" in head or re.search(rb"href=[\"'][^\"']*/s\?[^\"']*__biz=", head):
        return True
    return len(re.findall(rb"href=[\"'][^\"']*/s/[\w-]{16,}[\"']", head)) >= 2


def is_wechat_article(body: bytes) -> bool:
    """An article (or share) page, by its content: markers anywhere in the page, or a WeChat notice."""
    if any(marker in body for marker in ARTICLE_MARKERS):
        return True
    text = decode_body(body[:200_000])[0] if len(body) < 200_000 else ""
    return any(phrase in text for phrase in WECHAT_ONLY_PHRASES)


# Notices only WeChat shows: enough to tell its bare notice pages from a government site's 404 page.
WECHAT_ONLY_PHRASES = (
    "该内容已被发布者删除",
    "has been deleted by the author",
    "异常访问请求",
    "weixin.sogou.com",
    "此内容因违规无法查看",
    "此内容被多人投诉",
    "该内容暂时无法查看",
    "此帐号已被屏蔽",
    "此帐号已自主注销",
    "该公众号已被封禁",
    "环境异常",
    "完成验证后即可继续访问",
)
