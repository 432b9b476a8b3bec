"""HTML to plain text the classifier can read: one line per block, no scripts, collapsed spaces."""

from __future__ import annotations

import re
from typing import Any

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
_SPACES = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u2009]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n{2,}")


def clean_text(text: str) -> str:
    """Collapses runs of spaces, trims lines and drops empty ones."""
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(html: str | Any) -> str:
    """Plain text of an HTML fragment or an lxml element (which is modified: pass a copy to keep it)."""
    if isinstance(html, str):
        if not html.strip():
            return ""
        try:
            root = lxml.html.fragment_fromstring(html, create_parent="div")
        except (etree.ParserError, ValueError):
            return clean_text(re.sub(r"<[^>]+>", " ", html))
    else:
        root = html
    for bad in list(root.iter(*DROP_TAGS)):
        if bad.getparent() is not None:
            bad.drop_tree()
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if tag != "br":
                element.text = "\n" + (element.text or "")
    text = root.text_content() if hasattr(root, "text_content") else "".join(root.itertext())
    return clean_text(_BLANK_LINES.sub("\n", text))


def first_line(text: str, limit: int = 30) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[:limit] + "…"
