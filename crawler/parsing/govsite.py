"""Government websites: a news list (per-site selectors, index_N.html or ?page=N) and article pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.parsing.base import PageResult, ParsedPost, error_page, stable_key
from crawler.parsing.dates import find_date, parse_datetime
from crawler.parsing.encoding import decode_body
from crawler.parsing.text import clean_text, html_to_text

# Where CMSs used by Chinese government sites (TRS WCM, Kaipu UCAP, Hanweb, ...) put the article.
BODY_CONTAINERS = (
    "#UCAP-CONTENT",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    "#zoom",
    "#Zoom",
    ".zoom",
    "#fontzoom",
    ".article-content",
    ".article_content",
    "#article-content",
    ".pages_content",
    "#content",
    ".xxgk_content",
    ".content",
    ".view",
    "article",
)
TITLE_META = ("ArticleTitle", "articletitle", "title")
DATE_META = ("PubDate", "pubdate", "publishdate", "PublishDate", "firstpublishedtime", "lastmodifiedtime")
WITHDRAWN = (
    "该信息已撤回",
    "信息已撤回",
    "该文章已撤回",
    "已撤稿",
    "您访问的页面不存在",
    "页面不存在",
    "该信息已删除",
    "信息已删除",
    "文章已删除",
    "内容已删除",
    "页面已删除",
    "找不到页面",
    "404 Not Found",
)
_DETAIL_LINK = re.compile(
    r"\.(s?html?|jhtml|jsp|php|aspx?)(\?|$)|[?&](id|articleid|docid|contentid)=\d", re.I
)
_ATTACHMENT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|rar|7z|wps|ofd|jpe?g|png|gif|mp4)(\?|$)", re.I)
_PAGINATION_LINK = re.compile(r"(index|list)_\d+\.s?html?$|[?&]page=\d+", re.I)
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
_DATE_LABEL = re.compile(r"(发布时间|发布日期|发文日期|成文日期|日期|时间)\s*[:：]\s*")
_SOURCE_LABEL = re.compile(r"来源\s*[:：]\s*([^\s|丨，,]{2,40})")
_TITLE_SPLIT = re.compile(r"\s*[_|｜–—-]\s*")
MIN_BODY_CHARS = 20


def govsite_key(url: str) -> str:
    """Path and query: the stable key of an article within its site (the host is the account's)."""
    parts = urlsplit(url)
    return stable_key((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def _decode(body: bytes, content_type: str | None, options: Mapping[str, Any]) -> str:
    forced = options.get("encoding")
    if forced:
        return body.decode(str(forced), "replace")
    return decode_body(body, content_type)[0]


def _meta(selector: Selector, names: tuple[str, ...]) -> str:
    for name in names:
        value = selector.xpath(f'//meta[@name="{name}"]/@content').get()
        if value and value.strip():
            return clean_text(value)
    return ""


def is_detail_page(selector: Selector, options: Mapping[str, Any] | None = None) -> bool:
    if _meta(selector, ("ArticleTitle", "PubDate", "ContentSource")):
        return True
    selectors = [options["body_selector"]] if options and options.get("body_selector") else []
    for css in [*selectors, *BODY_CONTAINERS[:8]]:
        if any(
            len(clean_text(" ".join(n.css("::text").getall()))) >= MIN_BODY_CHARS for n in selector.css(css)
        ):
            return True
    return False


def parse_govsite(
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    fetched_at: datetime | None = None,
    page: int = 1,
) -> PageResult:
    """An article page or a news list page, whichever this is."""
    options = options or {}
    selector = Selector(text=_decode(body, content_type, options) or "<html></html>")
    if is_detail_page(selector, options):
        return _detail(url, selector, options, fetched_at)
    listing = _list(url, selector, options, fetched_at, page)
    if listing.posts:
        return listing
    return _detail(url, selector, options, fetched_at)


def parse_govsite_list(
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    fetched_at: datetime | None = None,
    page: int = 1,
) -> PageResult:
    options = options or {}
    selector = Selector(text=_decode(body, content_type, options) or "<html></html>")
    result = _list(url, selector, options, fetched_at, page)
    if not result.posts and page == 1:
        notice = _withdrawn(selector)
        if notice:
            return error_page("govsite", url, f"the list page says {notice!r}")
        return error_page("govsite", url, "no article links found on the list page (check list_selector)")
    return result


def parse_govsite_detail(
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    fetched_at: datetime | None = None,
) -> PageResult:
    options = options or {}
    selector = Selector(text=_decode(body, content_type, options) or "<html></html>")
    return _detail(url, selector, options, fetched_at)


def _withdrawn(selector: Selector) -> str | None:
    visible = clean_text(" ".join(selector.css("body *:not(script):not(style)::text").getall()))
    for phrase in WITHDRAWN:
        if phrase in visible:
            return phrase
    return None


def _list(
    url: str, selector: Selector, options: Mapping[str, Any], fetched_at: datetime | None, page: int
) -> PageResult:
    result = PageResult(kind="govsite", url=url, listing=True)
    host = urlsplit(url).hostname
    pattern = re.compile(options["detail_pattern"]) if options.get("detail_pattern") else None
    seen: set[str] = set()
    list_selector = options.get("list_selector")
    entries = selector.css(list_selector) if list_selector else selector.css("a[href]")
    for entry in entries:
        anchor = entry if entry.root.tag == "a" else entry.css(options.get("link_selector") or "a[href]")
        href = anchor.attrib.get("href", "").strip() if anchor else ""
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        link = urljoin(url, href).split("#", 1)[0]
        if _ATTACHMENT.search(link):
            continue  # attachments of a notice are not articles
        title = clean_text(anchor.attrib.get("title", "") or " ".join(anchor.css("::text").getall()))
        if pattern is not None:
            if not pattern.search(link):
                continue
        elif not list_selector and (
            urlsplit(link).hostname != host
            or not _DETAIL_LINK.search(link)
            or _PAGINATION_LINK.search(link)
            or len(title) < 6
        ):
            continue
        if link in seen or link == url:
            continue
        seen.add(link)
        # The date sits next to the link: in the entry itself, or in the anchor's parent.
        container = entry if entry is not anchor else None
        date_text = ""
        if options.get("date_selector") and container is not None:
            date_text = " ".join(container.css(options["date_selector"]).getall())
        if not date_text:
            scope = container if container is not None else anchor.xpath("..")
            date_text = " ".join(scope.css("::text").getall()) if scope else ""
        result.posts.append(
            ParsedPost(
                key=govsite_key(link),
                url=link,
                title=title or None,
                published_at=find_date(date_text, now=fetched_at) if date_text else None,
                detail_url=link,
            )
        )
    result.next, result.total_pages = _next_page(url, selector, options, page)
    return result


def _next_page(
    url: str, selector: Selector, options: Mapping[str, Any], page: int
) -> tuple[str | None, int | None]:
    style = str(options.get("next_page") or "auto")
    total: int | None = None
    if match := _CREATE_PAGE.search(selector.get()):
        # TRS WCM: createPageHTML(pages, current0, "index", "html"); page 2 is index_1.html.
        total, current, stem, extension = (
            int(match.group(1)),
            int(match.group(2)),
            match.group(3),
            match.group(4),
        )
        if style == "auto":
            following = current + 1
            return (urljoin(url, f"{stem}_{following}.{extension}") if following < total else None), total
    if style == "auto":
        href = selector.xpath(
            '//a[normalize-space(.)="下一页" or normalize-space(.)="下页" or normalize-space(.)="next"'
            ' or normalize-space(.)=">" or @class="next" or contains(@class, "next-page")]/@href'
        ).get()
        if href and not href.strip().startswith(("javascript", "#")):
            following_url = urljoin(url, href.strip())
            return (following_url if following_url != url else None), total
        return None, total
    if style in ("index_n", "page_param"):
        template = "index_{n}.html" if style == "index_n" else "?page={n}"
    else:
        template = style
    start = int(options.get("page_start", 1 if "index_" in template else 2))
    # Page 2 is `start`: index_1.html on TRS sites, ?page=2 elsewhere.
    number = page + start - 1
    return urljoin(url, template.format(n=number)), total


def _detail(
    url: str, selector: Selector, options: Mapping[str, Any], fetched_at: datetime | None
) -> PageResult:
    text = ""
    images: list[str] = []
    selectors = [options["body_selector"]] if options.get("body_selector") else []
    for css in [*selectors, *BODY_CONTAINERS]:
        for node in selector.css(css):
            candidate = html_to_text(node.root)
            if len(candidate) >= MIN_BODY_CHARS:
                text = candidate
                images = [urljoin(url, src) for src in node.css("img::attr(src)").getall()]
                break
        if text:
            break
    if not text:
        notice = _withdrawn(selector)
        if notice:
            return PageResult(
                kind="govsite", url=url, status="deleted", error=f"the page was withdrawn ({notice}) at {url}"
            )
        text = _trafilatura_text(selector.get())
    if not text:
        return error_page(
            "govsite", url, "no article text found (no known body container; trafilatura found none)"
        )

    title = _meta(selector, TITLE_META[:2])
    if not title and options.get("title_selector"):
        title = clean_text(" ".join(selector.css(options["title_selector"]).css("::text").getall()))
    if not title:
        title = clean_text(" ".join(selector.css("h1 ::text").getall()))
    if not title:
        title = clean_text(selector.css('meta[property="og:title"]::attr(content)').get(default=""))
    if not title:
        raw_title = clean_text(selector.css("title::text").get(default=""))
        title = _TITLE_SPLIT.split(raw_title, maxsplit=1)[0] if raw_title else ""

    published = (
        parse_datetime(_meta(selector, DATE_META), now=fetched_at) if _meta(selector, DATE_META) else None
    )
    page_text = clean_text(" ".join(selector.css("body *:not(script):not(style)::text").getall()))
    if published is None and options.get("date_selector"):
        published = find_date(
            " ".join(selector.css(options["date_selector"]).css("::text").getall()), now=fetched_at
        )
    if published is None:
        label = _DATE_LABEL.search(page_text)
        published = find_date(page_text[label.end() : label.end() + 40], now=fetched_at) if label else None
    if published is None:
        published = find_date(page_text[:2000], now=fetched_at)
    source = _meta(selector, ("ContentSource", "contentsource", "source"))
    if not source and (match := _SOURCE_LABEL.search(page_text)):
        source = match.group(1)
    post = ParsedPost(
        key=govsite_key(url),
        url=url,
        title=title or None,
        account=_meta(selector, ("SiteName", "sitename")) or None,
        author=source or None,
        published_at=published,
        text=text,
        images=images,
    )
    return PageResult(kind="govsite", url=url, posts=[post])


def _trafilatura_text(html: str) -> str:
    try:
        import trafilatura

        extracted = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    except Exception:  # trafilatura raises assorted errors on odd markup; fall back to nothing
        return ""
    return clean_text(extracted or "")
