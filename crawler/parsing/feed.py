"""RSS 2.0, Atom and JSON Feed: RSSHub, WeChat-to-RSS bridges and government sites' own feeds."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from crawler.parsing.base import PageResult, ParsedPost, error_page, stable_key
from crawler.parsing.dates import parse_datetime
from crawler.parsing.encoding import decode_body
from crawler.parsing.text import clean_text, html_to_text

_TAG = re.compile(r"<[a-zA-Z/!]")
_IMG = re.compile(r"""<img[^>]+?(?:data-src|src)\s*=\s*["']([^"']+)""", re.IGNORECASE)
_CLOSED_ENTRY = re.compile(rb"</(?:[\w-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
# bozo exceptions that mean "served with an odd header", not "the XML is broken".
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def looks_like_feed(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    if head.startswith((b"{", b"[")):
        return b"jsonfeed.org" in head or b'"items"' in body[:65536]
    return bool(re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head)) or (
        head.startswith(b"<?xml") and bool(re.search(rb"<(rss|feed|rdf:rdf)[\s>]", body[:8192].lower()))
    )


# A bridge names its channels "<account> | <bridge>" (wechat-feeds) or "<account> - <tool>": the
# tool's name is ASCII, the account's is not.
_BRIDGE_SUFFIX = re.compile(r"\s+[|｜-]\s+[\x21-\x7e][\x20-\x7e]*$")


def feed_account(channel: str | None) -> str | None:
    """The account a channel title names, without a bridge's own name after it."""
    if not channel:
        return None
    account = channel
    while (match := _BRIDGE_SUFFIX.search(account)) and match.start() > 0:
        if not re.search(r"[^\x00-\x7f]", account[: match.start()]):
            break  # an all-ASCII title: the suffix may be part of the name
        account = account[: match.start()]
    return account.strip() or channel


def parse_feed(
    url: str, body: bytes, content_type: str | None = None, *, fetched_at: datetime | None = None
) -> PageResult:
    if body.lstrip()[:1] in (b"{", b"["):
        return parse_json_feed(url, body, content_type, fetched_at=fetched_at)
    # No content-location: feedparser would resolve a relative <guid> ("nmg-gov-61") against it,
    # and a key must be the id as the feed wrote it. Links are resolved below instead.
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    exception = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if exception is not None and isinstance(exception, _BENIGN):
        exception = None
    entries = list(parsed.entries)
    if not parsed.get("version") and not entries:
        reason = f": {exception}" if exception else ""
        return error_page("feed", url, f"not an RSS, Atom or JSON feed{reason}")
    result = PageResult(kind="feed", url=url)
    if exception is not None:
        # A cut-off document: the last entry may have lost part of its text. Keep only the entries
        # whose closing tag arrived, so a truncated text is never stored as an edit.
        complete = len(_CLOSED_ENTRY.findall(body))
        dropped = max(0, len(entries) - complete)
        entries = entries[:complete]
        result.incomplete = True
        result.error = (
            f"malformed feed ({exception}); kept {len(entries)} complete entries, dropped {dropped} at {url}"
        )
    channel = clean_text(parsed.feed.get("title", "")) or None
    result.title = channel
    result.account = account = feed_account(channel)
    seen: set[str] = set()
    for entry in entries:
        post = _entry_post(entry, url, account, fetched_at)
        if post is None or post.key in seen:
            continue  # feeds repeat entries; the first one is the one the feed shows
        seen.add(post.key)
        result.posts.append(post)
    for link in parsed.feed.get("links", []):
        if link.get("rel") == "next" and link.get("href"):
            result.next = urljoin(url, link["href"])
    return result


def _entry_post(
    entry: Any, base_url: str, account: str | None, fetched_at: datetime | None
) -> ParsedPost | None:
    link = entry.get("link")
    link = urljoin(base_url, link) if link else None
    title_html = entry.get("title", "") or ""
    title = html_to_text(title_html) if _TAG.search(title_html) else clean_text(title_html)
    bodies = [c.get("value", "") for c in entry.get("content", []) if c.get("value")]
    if entry.get("summary"):
        bodies.append(entry["summary"])
    html = max(bodies, key=len) if bodies else ""
    text = html_to_text(html) if _TAG.search(html) else clean_text(html)
    identity = (entry.get("id") or "").strip() or link
    if not identity:
        if not (title or text):
            return None
        basis = "\n".join([title, entry.get("published", ""), text[:500]])
        identity = "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()
    published = None
    for field_name in ("published", "updated", "created"):
        if entry.get(field_name):
            published = parse_datetime(entry[field_name], now=fetched_at)
            parsed_struct = entry.get(f"{field_name}_parsed")
            if published is None and parsed_struct:
                year, month, day, hour, minute, second = parsed_struct[:6]
                published = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            if published is not None:
                break
    return ParsedPost(
        key=stable_key(identity),
        url=link,
        title=title or None,
        account=account,
        author=clean_text(entry.get("author", "")) or None,
        published_at=published,
        text=text,
        images=[urljoin(base_url, src) for src in _IMG.findall(html)],
    )


def parse_json_feed(
    url: str, body: bytes, content_type: str | None = None, *, fetched_at: datetime | None = None
) -> PageResult:
    text, _, _ = decode_body(body, content_type)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return error_page("feed", url, f"malformed JSON Feed ({error.msg} at line {error.lineno})")
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return error_page("feed", url, "JSON document is not a JSON Feed (no items list)")
    channel = clean_text(str(document.get("title") or "")) or None
    account = feed_account(channel)
    result = PageResult(kind="feed", url=url, title=channel, account=account)
    seen: set[str] = set()
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        link = urljoin(url, str(link)) if link else None
        html = str(item.get("content_html") or "")
        body_text = (
            html_to_text(html)
            if html
            else clean_text(str(item.get("content_text") or item.get("summary") or ""))
        )
        title = clean_text(str(item.get("title") or "")) or None
        identity = str(item.get("id") or "").strip() or link
        if not identity:
            if not (title or body_text):
                continue
            identity = "sha1:" + hashlib.sha1(f"{title}\n{body_text[:500]}".encode()).hexdigest()
        key = stable_key(identity)
        if key in seen:
            continue
        seen.add(key)
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        author = (
            ", ".join(str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")) or None
        )
        published = parse_datetime(
            str(item.get("date_published") or item.get("date_modified") or ""), now=fetched_at
        )
        result.posts.append(
            ParsedPost(
                key=key,
                url=link,
                title=title,
                account=account,
                author=author,
                published_at=published,
                text=body_text,
                images=[urljoin(url, src) for src in _IMG.findall(html)],
            )
        )
    if document.get("next_url"):
        result.next = urljoin(url, str(document["next_url"]))
    return result
