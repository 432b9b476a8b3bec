"""HTML to the text a reader sees (one line per block, no scripts) and the outbound links in it.

The one html->text converter of the project: posts are stored with this text and these links
(`posts.links`), and the classifier reads both from the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "svg")
MAX_LINKS = 500  # per post: a page that links more is a link farm, and the first ones say enough
_SPACES = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u2009\u200a\u202f\u205f\u1680\u2000-\u2008]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n{2,}")
_BARE_URL = re.compile(r"https?://[^\s<>\"'，。；、）】》]+", re.IGNORECASE)
_NOT_LINKS = ("javascript:", "#", "mailto:", "tel:", "data:", "about:")


@dataclass
class TextAndLinks:
    """What a reader sees of an HTML fragment: its text, and where its links point (href + text)."""

    text: str
    links: list[dict[str, str]] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Collapses runs of spaces, trims lines and drops empty ones."""
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _root(html: str | Any) -> Any | None:
    if not isinstance(html, str):
        return html
    if not html.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def read_html(html: str | Any, *, base_url: str | None = None) -> TextAndLinks:
    """Text and links of an HTML fragment or an lxml element (which is modified: pass a copy to keep it).

    Links are the fragment's `<a href>` (made absolute against `base_url`) and the bare http(s)
    URLs written in its text, in document order, each address once.
    """
    root = _root(html)
    if root is None:
        if isinstance(html, str) and html.strip():
            text = clean_text(re.sub(r"<[^>]+>", " ", html))
            return TextAndLinks(text, _bare_links(text, set()))
        return TextAndLinks("")
    for bad in list(root.iter(*DROP_TAGS)):
        if bad.getparent() is not None:
            bad.drop_tree()
    links: list[dict[str, str]] = []
    seen: set[str] = set()
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "a" and len(links) < MAX_LINKS:
            _add_link(element, base_url, links, seen)
        if tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if tag != "br":
                element.text = "\n" + (element.text or "")
    text = root.text_content() if hasattr(root, "text_content") else "".join(root.itertext())
    text = clean_text(_BLANK_LINES.sub("\n", text))
    links.extend(_bare_links(text, seen)[: max(0, MAX_LINKS - len(links))])
    return TextAndLinks(text, links)


def _add_link(anchor: Any, base_url: str | None, links: list[dict[str, str]], seen: set[str]) -> None:
    href = (anchor.get("href") or "").strip()
    if not href or href.lower().startswith(_NOT_LINKS):
        return
    if base_url:
        try:
            href = urljoin(base_url, href)
        except ValueError:
            return
    if href in seen:
        return
    seen.add(href)
    links.append({"href": href, "text": clean_text(anchor.text_content()).replace("\n", " ")[:300]})


def _bare_links(text: str, seen: set[str]) -> list[dict[str, str]]:
    found = []
    for match in _BARE_URL.finditer(text):
        href = match.group(0).rstrip(".,;:!?)]}")
        if href not in seen:
            seen.add(href)
            found.append({"href": href, "text": href})
    return found


def html_to_text(html: str | Any) -> str:
    """Plain text of an HTML fragment or an lxml element (which is modified: pass a copy to keep it)."""
    return read_html(html).text


def first_line(text: str, limit: int = 30) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[:limit] + "…"
