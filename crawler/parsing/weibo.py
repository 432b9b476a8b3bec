"""Weibo's mobile JSON API: the container timeline (cards 9 and 11) and statuses/show for long texts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler.parsing.base import PageResult, ParsedPost, error_page
from crawler.parsing.dates import parse_count, parse_datetime
from crawler.parsing.encoding import decode_body
from crawler.parsing.text import TextAndLinks, read_html

_EMOJI_IMG = re.compile(r"""<img[^>]*?\balt=["']([^"']*)["'][^>]*>""", re.IGNORECASE)
_FULL_TEXT_LINK = re.compile(
    r"""(?:\.\.\.|…)?\s*<a[^>]*href=["'][^"']*/status/[^"']*["'][^>]*>\s*全文\s*</a>\s*$"""
)
_GONE_MESSAGES = ("不存在", "已被删除", "已删除", "被作者删除", "does not exist")
_HIDDEN_MESSAGES = ("暂无查看权限", "仅自己可见", "无法查看", "审核中")
BLOCKED_MESSAGE = "Weibo asks for a login (ok:-100): the configured cookies are missing or expired"


def with_since_id(url: str, since_id: object) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "since_id"]
    query.append(("since_id", str(since_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def show_url(base_url: str, post_id: str) -> str:
    return urljoin(base_url, f"/statuses/show?id={post_id}")


def looks_like_weibo(url: str, body: bytes) -> bool:
    if "/api/container/getIndex" in url or "/statuses/show" in url or "/statuses/extend" in url:
        return True
    if not body[:4096].lstrip().startswith(b"{"):
        return False
    compact = body[:65536].replace(b" ", b"")
    # Weibo's answers all carry "ok"; an error answer (ok:0, a deleted post) has an errno or a msg.
    return b'"ok":' in compact and any(
        m in compact for m in (b'"cards"', b'"mblog"', b'"ok":-100', b'"reposts_count"', b'"errno"', b'"msg"')
    )


def _load(url: str, body: bytes, content_type: str | None) -> dict[str, Any] | PageResult:
    text, _, _ = decode_body(body, content_type)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return error_page("weibo", url, f"malformed Weibo JSON ({error.msg} at line {error.lineno})")
    if not isinstance(document, dict):
        return error_page("weibo", url, "Weibo answered JSON that is not an object")
    if document.get("ok") == -100 or str(document.get("ok")) == "-100":
        page = error_page("weibo", url, BLOCKED_MESSAGE)
        page.blocked = True
        return page
    return document


def parse_weibo_page(
    url: str, body: bytes, content_type: str | None = None, *, fetched_at: datetime | None = None
) -> PageResult:
    """A container timeline page, or a statuses/show answer (dispatched on the JSON's shape)."""
    document = _load(url, body, content_type)
    if isinstance(document, PageResult):
        return document
    data = document.get("data")
    if isinstance(data, dict) and "cards" not in data and ("text" in data or "id" in data):
        return _parse_status(url, document, fetched_at)
    if isinstance(data, dict) and "longTextContent" in data:
        return _parse_extend(url, document, data, fetched_at)
    if document.get("ok") != 1:
        message = str(document.get("msg") or document.get("errmsg") or "")
        if "/statuses/" in url:
            return _gone(url, document)  # statuses/show or extend of a post that is gone
        if str(document.get("ok")) == "0":
            cards = data.get("cards") if isinstance(data, dict) else None
            later_page = "since_id" in dict(parse_qsl(urlsplit(url).query))
            if later_page and not cards and (not message or any(m in message for m in _END_MESSAGES)):
                return PageResult(kind="weibo", url=url)  # past the end of the timeline
            # An error answer (a closed or hidden account, a bad container id): nothing to read.
            return PageResult(
                kind="weibo",
                url=url,
                status="unavailable",
                error=f"Weibo answered ok:0 ({message or 'no message'}): nothing can be read at {url}",
            )
        return error_page("weibo", url, f"Weibo answered ok:{document.get('ok')} {message}".strip())
    if not isinstance(data, dict):
        return error_page("weibo", url, "Weibo answered without a data object")
    result = PageResult(kind="weibo", url=url)
    seen: set[str] = set()
    for card in _cards(data.get("cards") or []):
        mblog = card.get("mblog")
        if not isinstance(mblog, dict) or mblog.get("id") is None:
            continue
        post = mblog_post(mblog, url, fetched_at)
        if post.key not in seen:
            seen.add(post.key)
            result.posts.append(post)
    info = data.get("cardlistInfo") or {}
    since_id = info.get("since_id") if isinstance(info, dict) else None
    if since_id and result.posts:
        result.next = with_since_id(url, since_id)
    return result


def _cards(cards: list[Any]) -> list[dict[str, Any]]:
    """Posts are cards of type 9; type 11 groups nest more cards (possibly more groups)."""
    found: list[dict[str, Any]] = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        card_type = str(card.get("card_type"))
        if card_type == "9":
            found.append(card)
        elif card_type == "11":
            found.extend(_cards(card.get("card_group") or []))
    return found


def _gone(url: str, document: dict[str, Any]) -> PageResult:
    message = str(document.get("msg") or document.get("errmsg") or "")
    if str(document.get("errno")) in ("20101", "20112") or any(m in message for m in _GONE_MESSAGES):
        return PageResult(
            kind="weibo", url=url, status="deleted", error=f"the post was deleted ({message}) at {url}"
        )
    if any(m in message for m in _HIDDEN_MESSAGES):
        return PageResult(
            kind="weibo", url=url, status="unavailable", error=f"the post is hidden ({message}) at {url}"
        )
    return PageResult(
        kind="weibo", url=url, status="deleted", error=f"the post no longer exists ({message}) at {url}"
    )


_END_MESSAGES = ("还没有内容", "没有更多")


def _parse_extend(
    url: str, document: dict[str, Any], data: dict[str, Any], fetched_at: datetime | None
) -> PageResult:
    """statuses/extend?id=...: the full text of a long post (its counts, no author or date)."""
    if str(document.get("ok")) != "1" or str(data.get("ok", 1)) != "1":
        return _gone(url, document)
    post_id = dict(parse_qsl(urlsplit(url).query)).get("id") or str(data.get("id") or "")
    if not post_id:
        # The answer itself names no post (its URL did); a crawl keys it by the post it asked for.
        digest = hashlib.sha1(str(data.get("longTextContent")).encode("utf-8")).hexdigest()
        post_id = f"sha1:{digest}"
    mblog = {**data, "id": post_id, "text": data.get("longTextContent") or ""}
    mblog.pop("longTextContent", None)
    post = mblog_post(mblog, url, fetched_at)
    return PageResult(kind="weibo", url=url, posts=[post])


def _parse_status(url: str, document: dict[str, Any], fetched_at: datetime | None) -> PageResult:
    if document.get("ok") != 1:
        return _gone(url, document)
    post = mblog_post(document["data"], url, fetched_at)
    post.truncated = False
    return PageResult(kind="weibo", url=url, posts=[post])


def _html_text(html: str, base_url: str | None = None) -> TextAndLinks:
    html = _FULL_TEXT_LINK.sub("", html)
    return read_html(_EMOJI_IMG.sub(lambda m: m.group(1), html), base_url=base_url)


def _pictures(mblog: dict[str, Any]) -> list[str]:
    pics = mblog.get("pics") or []
    if isinstance(pics, dict):  # some answers key pictures "0", "1", ... instead of listing them
        pics = [pics[k] for k in sorted(pics, key=lambda k: int(k) if str(k).isdigit() else 0)]
    urls = []
    for pic in pics if isinstance(pics, list) else []:
        if isinstance(pic, dict):
            large = pic.get("large")
            src = (large.get("url") if isinstance(large, dict) else None) or pic.get("url")
            if src:
                urls.append(str(src))
    return urls


def mblog_post(mblog: dict[str, Any], url: str, fetched_at: datetime | None) -> ParsedPost:
    post_id = str(mblog.get("id") or mblog.get("mid"))
    read = _html_text(str(mblog.get("longTextContent") or mblog.get("text") or ""), url)
    text = read.text
    retweeted = mblog.get("retweeted_status")
    if isinstance(retweeted, dict):
        original_user = retweeted.get("user")
        original = _html_text(str(retweeted.get("text") or "")).text
        if not isinstance(original_user, dict) or str(retweeted.get("deleted")) == "1" or not original:
            text += f"\n//转发（原微博已删除或不可见）：{original or '原微博已删除'}"
        else:
            text += f"\n//转发 @{original_user.get('screen_name', '')}：{original}"
    user = mblog.get("user")
    if not isinstance(user, dict):
        user = {}
    truncated = bool(mblog.get("isLongText")) and not mblog.get("longTextContent")
    return ParsedPost(
        key=post_id,
        url=urljoin(url, f"/detail/{post_id}"),
        title=None,
        account=str(user.get("screen_name")) if user.get("screen_name") else None,
        published_at=parse_datetime(str(mblog.get("created_at") or ""), now=fetched_at),
        text=text.strip(),
        metrics={
            "shares": parse_count(mblog.get("reposts_count")),
            "comments": parse_count(mblog.get("comments_count")),
            "likes": parse_count(mblog.get("attitudes_count")),
        },
        is_original=not isinstance(retweeted, dict),
        images=_pictures(mblog),
        truncated=truncated,
        links=read.links,
        detail_url=show_url(url, post_id) if truncated else None,
    )
