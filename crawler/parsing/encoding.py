"""Decodes fetched bytes by what they are: valid UTF-8 is UTF-8, else what the page declares.

Pages re-saved by another tool often keep a `charset=gb2312` declaration over UTF-8 bytes, and a
real GBK page is practically never valid UTF-8, so the bytes are tried as UTF-8 first. The rest is
`w3lib.encoding.html_to_unicode` (BOM, HTTP header, <meta>/XML declaration; it maps GB2312/GBK to
GB18030, their superset, as browsers do); a declaration the bytes contradict falls back to GB18030.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_to_unicode, read_bom, resolve_encoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_FALLBACK = "gb18030"  # the Chinese web's other encoding; decodes GBK and GB2312 too


def _normalize(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    resolved = resolve_encoding(name.strip().lower())
    if not resolved:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def declared_encoding(body: bytes, content_type: str | None = None) -> str | None:
    """The charset the HTTP header, the XML declaration or a <meta> tag declares, if any."""
    header = _HEADER_CHARSET.search(content_type) if content_type else None
    if header and (name := _normalize(header.group(1))):
        return name
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        if (declared := pattern.search(head)) and (name := _normalize(declared.group(1))):
            return name
    return None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str, bool]:
    """(text, encoding used, whether undecodable bytes had to be replaced)."""
    bom, _ = read_bom(body)
    if bom is None:
        try:
            return body.decode("utf-8"), "utf-8", False
        except UnicodeDecodeError:
            pass
    encoding, text = html_to_unicode(content_type, body, default_encoding=_FALLBACK)
    if "\ufffd" not in text:
        return text, _normalize(encoding) or encoding, False
    if bom is None and _normalize(encoding) != _FALLBACK:
        try:  # the declaration is wrong: the bytes are not in what it names
            return body.decode(_FALLBACK), _FALLBACK, False
        except UnicodeDecodeError:
            pass
    return text, _normalize(encoding) or encoding, True


_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


def looks_binary(body: bytes) -> bool:
    """True for bytes no web page is made of: NUL bytes, or many control bytes, near the start."""
    head = body[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    return len(head) - len(head.translate(None, _CONTROL_BYTES)) > len(head) // 20
