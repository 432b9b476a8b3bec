"""Decodes fetched bytes: declared charset first, then UTF-8, then GB18030 (covers GBK and GB2312)."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# Government pages declared GB2312 routinely contain GBK-only characters (e.g. 镕, 堃): read them as
# GB18030, the superset of both, as browsers do.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _normalize(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    name = name.strip().lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(name) or _SUPERSETS.get(canonical) or canonical


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
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, "replace"), name, False
    declared = declared_encoding(body, content_type)
    candidates = [name for name in (declared, "utf-8", "gb18030") if name]
    for name in dict.fromkeys(candidates):
        try:
            return body.decode(name), name, False
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:65536]).best()
        if best is not None and best.encoding:
            return body.decode(best.encoding, "replace"), best.encoding, True
    except Exception:  # a detector failure must not stop the crawl; fall through to replacement
        pass
    name = declared or "utf-8"
    return body.decode(name, "replace"), name, True
