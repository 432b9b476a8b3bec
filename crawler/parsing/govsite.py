"""Government websites: a news list (per-site selectors, index_N.html or ?page=N) and article pages."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from crawler.parsing.base import PageResult, ParsedPost, error_page, stable_key
from crawler.parsing.dates import find_date, parse_datetime
from crawler.parsing.encoding import decode_body, looks_binary
from crawler.parsing.text import clean_text, read_html

# Where CMSs used by Chinese government sites (TRS WCM, Kaipu UCAP, Hanweb, ...) put the article.
# Where the CMSs of government and state-media sites put the article (TRS WCM, Kaipu UCAP, Hanweb,
# the news.cn, people.cn, gmw.cn, cctv.com templates ...), most specific first.
BODY_CONTAINERS = (
    "#UCAP-CONTENT",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    "#zoom",
    "#Zoom",
    "#Content",
    "#fontzoom",
    ".pages_content",
    "#p-detail",
    "#detail",
    "#detailContent",
    "#detail_content",
    ".rm_txt_con",
    ".u-mainText",
    "#content_area",
    ".content_area",
    ".cnt_bd",
    "#text_area",
    "#articleContent",
    "#article_content",
    ".article-content",
    ".article_content",
    "#article-content",
    ".art_content",
    ".article-body",
    ".xxgk_content",
    ".zoom",
    "#content",
    ".content",
    "article",
    ".article",
    ".view",
    "div.body",
)
# Class names that many elements of a page carry: taken only with enough text, few links.
GENERIC_CONTAINERS = frozenset({"#content", ".content", "article", ".article", ".view", "div.body", ".zoom"})
MIN_GENERIC_CHARS = 60
MIN_DENSE_CHARS = 80
MIN_ARTICLE_CHARS = 150
TITLE_META = ("ArticleTitle", "articletitle", "title")
# The article's own publish time as CMSs write it (never lastmodifiedtime: an edit or a rebuild).
DATE_META = ("PubDate", "pubdate", "publishdate", "PublishDate", "firstpublishedtime", "publishtime")
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
    for css in [*selectors, *BODY_CONTAINERS]:
        if css in GENERIC_CONTAINERS:
            continue
        if any(
            len(clean_text(" ".join(n.css("::text").getall()))) >= MIN_BODY_CHARS for n in selector.css(css)
        ):
            return True
    return looks_like_article(selector)


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
    if looks_binary(body):
        return error_page("govsite", url, "the answer is binary data, not a web page")
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
    if looks_binary(body):
        return error_page("govsite", url, "the answer is binary data, not a web page")
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
    candidates: list[tuple[Selector, Any, str, str]] = []
    for entry in entries:
        anchor = entry if entry.root.tag == "a" else entry.css(options.get("link_selector") or "a[href]")
        href = anchor.attrib.get("href", "").strip() if anchor else ""
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        try:
            link = urljoin(url, href).split("#", 1)[0]
        except ValueError:
            continue
        if _ATTACHMENT.search(link):
            continue  # attachments of a notice are not articles
        title = clean_text(anchor.attrib.get("title", "") or " ".join(anchor.css("::text").getall()))
        if pattern is not None:
            if not pattern.search(link):
                continue
        elif not list_selector and (
            not _DETAIL_LINK.search(link) or _PAGINATION_LINK.search(link) or len(title) < 6
        ):
            continue
        candidates.append((entry, anchor, link, title))
    if pattern is None and not list_selector:
        # The site's own articles: links to this host, or (a list fragment served from elsewhere,
        # a mirror) to the one host most of the article-like links go to.
        hosts = Counter(urlsplit(link).hostname for _, _, link, _ in candidates)
        chosen = host if hosts.get(host) else (hosts.most_common(1)[0][0] if hosts else None)
        candidates = [c for c in candidates if urlsplit(c[2]).hostname == chosen]
    for entry, anchor, link, title in candidates:
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
    body = find_body(selector, options)
    text, images = "", []
    links: list[dict[str, str]] = []
    node: Selector | None = None
    if body is not None:
        node, text, links = body
        images = [urljoin(url, src) for src in node.css("img::attr(src)").getall()]
    if not text:
        notice = _withdrawn(selector)
        if notice:
            return PageResult(
                kind="govsite", url=url, status="deleted", error=f"the page was withdrawn ({notice}) at {url}"
            )
    # The density heuristic keeps the article's own element (and its links); trafilatura, which
    # also takes surrounding page text, is the last resort.
    if not text and (dense := densest_block(selector)) is not None:
        node, text, links = dense
    if not text:
        text = _trafilatura_text(selector.get())
    if not text:
        return error_page(
            "govsite", url, "no article text found (no known body container; trafilatura found none)"
        )
    if links:
        links = [{**link, "href": urljoin(url, link["href"])} for link in links]

    title, heading = page_title(selector, options)
    published = page_date(selector, options, heading, node, fetched_at)
    page_text = _visible_text(selector)
    source = _meta(selector, ("ContentSource", "contentsource"))
    if not source and (match := _SOURCE_LABEL.search(page_text)):
        source = match.group(1)
    source = source or _meta(selector, ("source",)).removeprefix("来源：").removeprefix("来源:")
    post = ParsedPost(
        key=govsite_key(url),
        url=url,
        title=title or None,
        account=site_name(selector, page_text) or None,
        author=source or None,
        published_at=published,
        text=text,
        images=images,
        links=links,
    )
    return PageResult(kind="govsite", url=url, posts=[post])


def _visible_text(selector: Selector) -> str:
    return clean_text(" ".join(selector.xpath(_VISIBLE_XPATH).getall()))


_VISIBLE_XPATH = "//body//text()[not(ancestor::script) and not(ancestor::style)]"


def _link_share(node: Selector, text_length: int) -> float:
    linked = sum(len(t.strip()) for t in node.xpath(".//a//text()").getall())
    return linked / max(text_length, 1)


def find_body(
    selector: Selector, options: Mapping[str, Any]
) -> tuple[Selector, str, list[dict[str, str]]] | None:
    """The article's container: the source's own selector, else the first known CMS container that
    holds text rather than links (a navigation bar can carry a container's class too)."""
    selectors = [options["body_selector"]] if options.get("body_selector") else []
    found: list[tuple[Selector, str, list[dict[str, str]]]] = []
    for css in [*selectors, *BODY_CONTAINERS]:
        generic = css in GENERIC_CONTAINERS and not (selectors and css == selectors[0])
        for node in selector.css(css):
            read = read_html(copy.deepcopy(node.root))
            length = len(read.text)
            if length < (MIN_GENERIC_CHARS if generic else MIN_BODY_CHARS):
                continue
            if _link_share(node, length) > (0.3 if generic else 0.6):
                continue
            if not generic:
                return node, read.text, read.links
            found.append((node, read.text, read.links))
            break
    if not found:
        return None
    # Generic names nest (div.content > div.article): the innermost that keeps most of the text,
    # which leaves out a breadcrumb or a share bar around it.
    best = found[0]
    for candidate in found[1:]:
        if _contains(best[0].root, candidate[0].root) and len(candidate[1]) >= 0.85 * len(best[1]):
            best = candidate
    return best


def _contains(outer: Any, inner: Any) -> bool:
    return any(element is outer for element in inner.iterancestors())


_BLOCK_PARENTS = ("div", "article", "section", "td", "main", "span", "font", "center")


def densest_block(selector: Selector) -> tuple[Selector, str, list[dict[str, str]]] | None:
    """A readability-style guess: the element whose paragraphs hold the most text that is not links."""
    scores: dict[Any, float] = {}
    nodes: dict[Any, Selector] = {}
    for paragraph in selector.xpath("//body//p | //body//br/.. "):
        text = clean_text(
            " ".join(paragraph.xpath(".//text()[not(ancestor::a)][not(ancestor::script)]").getall())
        )
        if len(text) < 10:
            continue
        score = len(text) + 5 * text.count("，") + 5 * text.count("。")
        parent = paragraph.xpath("..")
        # As readability does: a paragraph's text counts for its parent, half for the grandparent.
        for depth, ancestor in enumerate((*parent, *parent.xpath(".."))):
            if ancestor.root.tag not in _BLOCK_PARENTS:
                continue
            scores[ancestor.root] = scores.get(ancestor.root, 0.0) + score / (1 + depth)
            nodes[ancestor.root] = ancestor
    if not scores:
        return None
    best = max(scores, key=lambda root: scores[root])
    node = nodes[best]
    read = read_html(copy.deepcopy(node.root))
    if len(read.text) < MIN_DENSE_CHARS or _link_share(node, len(read.text)) > 0.4:
        return None
    return node, read.text, read.links


def looks_like_article(selector: Selector) -> bool:
    """A page with a block of running text (not a list of links): what decides detail vs list."""
    dense = densest_block(selector)
    return dense is not None and len(dense[1]) >= MIN_ARTICLE_CHARS


# ---- title, site name, date ---------------------------------------------------------------------
_TITLE_SEPARATOR = re.compile(r"\s*(?:_+|-{1,2}|\|+|｜|—+|–)\s*")
_SITE_WORDS = re.compile(
    r"网|频道|政府|日报|晚报|公报|新闻|电视台|广播|在线|门户|官网|首页|栏目|专题|\.(?:cn|com|org|net)\b", re.I
)
_COPYRIGHT_SITE = re.compile(r"([\u4e00-\u9fff]{2,12}?网)\s*(?:版权所有|All Rights Reserved)", re.I)
_WS = re.compile(r"\s+")


def _ws(text: str | None) -> str:
    return _WS.sub("", text or "")


def _title_parts(raw: str) -> list[str]:
    return [part for part in _TITLE_SEPARATOR.split(raw.strip()) if part]


def page_title(selector: Selector, options: Mapping[str, Any]) -> tuple[str, Selector | None]:
    """The headline, and the element that shows it (where the article's date is looked for).

    A headline the page prints (h1, og:title, ArticleTitle) is trusted when `<title>` starts with
    it: that skips logos in <h1> and pre-titles; otherwise `<title>` without its site suffix.
    """
    raw = clean_text(" ".join(selector.css("title::text").getall())).replace("\n", " ")
    headings: list[tuple[str, Selector | None]] = []
    if options.get("title_selector"):
        for element in selector.css(options["title_selector"]):
            headings.append((clean_text(" ".join(element.css("::text").getall())), element))
    headings.append((_meta(selector, TITLE_META[:2]), None))
    for css in ("h1", "h2", "[class*=title]", "[id*=title]"):
        for element in selector.css(css):
            headings.append((clean_text(" ".join(element.css("::text").getall())).replace("\n", ""), element))
    headings.append(
        (clean_text(selector.css('meta[property="og:title"]::attr(content)').get(default="")), None)
    )
    headings = [(text, node) for text, node in headings if len(_ws(text)) >= 4]
    squashed = _ws(raw)
    stripped = strip_site_suffix(raw)
    cap = len(_ws(stripped)) or len(squashed)
    # <title> that is only the site's name (某市人民政府): the page's own headline says more.
    site_only = len(_title_parts(raw)) <= 1 and (not stripped or bool(_SITE_WORDS.search(stripped)))
    matching = [
        (text, node)
        for text, node in headings
        if not site_only and squashed.startswith(_ws(text)) and len(_ws(text)) <= cap
    ]
    if matching:
        # The longest printed headline <title> starts with; its element when it is one on the page.
        text = max(matching, key=lambda pair: len(_ws(pair[0])))[0]
        shown = next((n for t, n in matching if _ws(t) == _ws(text) and n is not None), None)
        return text, shown or _heading_node(selector, text)
    if options.get("title_selector") and headings and headings[0][1] is not None:
        return headings[0]
    if meta := _meta(selector, TITLE_META[:2]):
        return meta, _heading_node(selector, meta)
    for text, heading in headings:
        if (
            heading is not None
            and heading.root.tag in ("h1", "h2")
            and (_ws(text) != squashed if site_only else _ws(stripped) in _ws(text))
        ):
            return text, heading
    og_title = clean_text(selector.css('meta[property="og:title"]::attr(content)').get(default=""))
    if site_only and len(_ws(og_title)) >= 4:
        return og_title, _heading_node(selector, og_title)
    if stripped:
        return stripped, _heading_node(selector, stripped)
    return headings[0] if headings else ("", None)


def _heading_node(selector: Selector, title: str) -> Selector | None:
    """The body element whose own text is the title (pages without an h1 still print it)."""
    target = _ws(title)
    if not target:
        return None
    for node in selector.xpath("//body//*[not(self::script) and not(self::style) and not(self::a)]"):
        own = _ws("".join(node.xpath("./text()").getall()))
        if own and (own == target or (len(own) >= 8 and target.startswith(own))):
            return node
    return None


def strip_site_suffix(raw: str) -> str:
    """`<title>` without the site's name after it: 标题_光明网, 标题--经济·科技--人民网, 标题-新华网."""
    parts = _title_parts(raw)
    while len(parts) > 1 and (_SITE_WORDS.search(parts[-1]) or len(parts[-1]) <= 6 or parts[-1].isascii()):
        parts.pop()
    if not parts:
        return ""
    # What is left is the headline, which may itself hold a separator (新华视界｜河北遵化：...).
    index = raw.find(parts[-1])
    return clean_text(raw[: index + len(parts[-1])]) if index >= 0 else parts[0]


def site_name(selector: Selector, page_text: str) -> str:
    """The site's name: meta SiteName, else the first site-like name in the title suffix."""
    name = _meta(selector, ("SiteName", "sitename", "og:site_name"))
    if not name:
        name = clean_text(selector.css('meta[property="og:site_name"]::attr(content)').get(default=""))
    if name:
        return name
    raw = clean_text(" ".join(selector.css("title::text").getall()))
    suffix = _title_parts(raw)[1:]
    for part in suffix:
        if "网" in part and not part.isascii():
            return part
    for part in reversed(suffix):
        if not part.isascii() and len(part) <= 12:
            # 标题-半月谈 on a page that calls itself 半月谈网 elsewhere
            return part + "网" if part + "网" in page_text else part
    copyright_text = _meta(selector, ("copyright",)) + " " + page_text[-3000:]
    if match := _COPYRIGHT_SITE.search(copyright_text):
        return match.group(1)
    return ""


_DATE_WITH_TIME = re.compile(
    r"(\d{4})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*日?\s*(?:(\d{1,2})\s*[:：时]\s*(\d{1,2}))?"
)


def page_date(
    selector: Selector,
    options: Mapping[str, Any],
    heading: Selector | None,
    body: Selector | None,
    fetched_at: datetime | None,
) -> datetime | None:
    """The article's own date: the one printed by the headline (above the body), else the page's
    meta tags, else a labelled date (发布时间：...). Not the first date of the page, which is often
    the page's build time or a side column's."""
    if options.get("date_selector"):
        found = find_date(
            " ".join(selector.css(options["date_selector"]).css("::text").getall()), now=fetched_at
        )
        if found is not None:
            return found
    near = None
    if heading is not None:
        # The same headline can be printed twice (a hidden share header, then the article's own).
        text = _ws(" ".join(heading.css("::text").getall()))
        tag = heading.root.tag
        twins = (
            [node for node in selector.css(tag) if _ws(" ".join(node.css("::text").getall())) == text]
            if isinstance(tag, str) and text
            else []
        )
        for node in twins or [heading]:
            near = _date_near(selector, node, body, fetched_at)
            if near is not None:
                break
    meta = _meta_date(selector, fetched_at)
    if near is not None:
        # A date-only byline with a meta time of the same day: keep the time.
        if meta is not None and near.time() == datetime.min.time() and meta.date() == near.date():
            return meta
        return near
    if meta is not None:
        return meta
    page_text = _visible_text(selector)
    label = _DATE_LABEL.search(page_text)
    if label and (found := find_date(page_text[label.end() : label.end() + 40], now=fetched_at)):
        return found
    return _htmldate(selector.get(), fetched_at) or find_date(page_text[:2000], now=fetched_at)


def _meta_date(selector: Selector, fetched_at: datetime | None) -> datetime | None:
    values = [_meta(selector, (name,)) for name in DATE_META]
    for prop in ("og:release_date", "article:published_time", "og:published_time"):
        values.append(clean_text(selector.css(f'meta[property="{prop}"]::attr(content)').get(default="")))
    dated = [value for value in (parse_datetime(v, now=fetched_at) for v in values if v) if value is not None]
    if not dated:
        return None
    # The first in that order, with the time of day another tag gives for the same day.
    first = dated[0]
    timed = [v for v in dated if v.date() == first.date() and v.time() != datetime.min.time()]
    return timed[0] if first.time() == datetime.min.time() and timed else first


def _htmldate(html: str, fetched_at: datetime | None) -> datetime | None:
    """htmldate's guess (markup and URL patterns): measured on ../shared/pages it finds the right day
    on 9 of 10 government pages but the time on 3, so it only comes after the page's own signs."""
    try:
        from htmldate import find_date as htmldate_find

        found = htmldate_find(html, original_date=True, extensive_search=False, outputformat="%Y-%m-%d %H:%M")
    except Exception:  # htmldate raises assorted errors on odd markup; then there is no guess
        return None
    return parse_datetime(found, now=fetched_at) if found else None


def _date_near(
    selector: Selector, heading: Selector, body: Selector | None, fetched_at: datetime | None
) -> datetime | None:
    """The first date in the text between the headline and the body (or just after the headline)."""
    collected = _text_after(selector.root, heading.root, body.root if body is not None else None)
    for match in _DATE_WITH_TIME.finditer(collected):
        found = parse_datetime(match.group(0), now=fetched_at)
        if found is not None:
            return found
    return None


def _text_after(root: Any, heading: Any, stop: Any, limit: int = 400) -> str:
    """Up to `limit` characters of visible text after `heading`, ending where `stop` begins."""
    parts: list[str] = []
    length = 0
    after = False
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if element is stop and event == "start" and after:
            break
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if after and tag not in ("script", "style") and tag and element.text:
                parts.append(element.text)
                length += len(element.text.strip())
        else:
            if element is heading:
                after = True
            elif after and element.tail:
                parts.append(element.tail)
                length += len(element.tail.strip())
        if length > limit:
            break
    return " ".join(parts)


def _trafilatura_text(html: str) -> str:
    try:
        import trafilatura

        extracted = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    except Exception:  # trafilatura raises assorted errors on odd markup; fall back to nothing
        return ""
    return clean_text(extracted or "")
