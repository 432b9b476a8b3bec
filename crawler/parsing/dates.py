"""Dates and counts as Chinese sites write them: 2026年01月22日, 昨天 10:30, 5分钟前, "1万+"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from crawler.parsing.base import CHINA_TZ

_CN_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
_NUM_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_RELATIVE = re.compile(r"^(\d+)\s*(秒|分钟|小时|天)前$")
_DAY_WORD = re.compile(r"^(今天|昨天|前天)\s*(\d{1,2}):(\d{2})$")
_COUNT = re.compile(r"^([\d.,]+)\s*(万|亿|w|W|k|K)?\+?$")
_RELATIVE_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}
_DAY_OFFSETS = {"今天": 0, "昨天": 1, "前天": 2}
_MULTIPLIERS = {None: 1, "万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}


def _make(parts: Sequence[str | None], tz: tzinfo) -> datetime | None:
    """A datetime from (year, month, day, hour, minute, second) strings, the time ones optional."""
    year, month, day, hour, minute, second = (list(parts) + [None] * 6)[:6]
    try:
        value = datetime(
            int(year or 0), int(month or 0), int(day or 0), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    return value.replace(tzinfo=tz)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(timedelta(minutes=sign * (int(digits[:2]) * 60 + int(digits[2:]))))


def _plausible(value: datetime | None, now: datetime) -> datetime | None:
    if value is None or value.year < 1990 or value > now + timedelta(days=366):
        return None
    return value


def parse_datetime(
    text: str | int | float | None, *, now: datetime | None = None, tz: tzinfo = CHINA_TZ
) -> datetime | None:
    """An aware datetime from the many ways pages write one; naive ones are in `tz` (China time).

    Relative forms (刚刚, 5分钟前, 昨天 10:30, 01-22) resolve against `now`, the fetch time.
    """
    now = (now or datetime.now(UTC)).astimezone(tz)
    if text is None:
        return None
    if isinstance(text, int | float):
        return _from_timestamp(float(text), now)
    text = text.strip()
    if not text:
        return None
    if text.isdigit() and len(text) in (10, 13):
        return _from_timestamp(float(text) / (1000 if len(text) == 13 else 1), now)
    if text in ("刚刚", "刚才"):
        return now
    if match := _RELATIVE.match(text):
        return now - timedelta(**{_RELATIVE_UNITS[match.group(2)]: int(match.group(1))})
    if match := _DAY_WORD.match(text):
        day = now - timedelta(days=_DAY_OFFSETS[match.group(1)])
        return day.replace(hour=int(match.group(2)), minute=int(match.group(3)), second=0, microsecond=0)
    if match := _MONTH_DAY.match(text):
        value = _make([str(now.year), *match.groups()], tz)
        if value is not None and value > now + timedelta(days=1):
            value = value.replace(year=now.year - 1)
        return value
    # Twitter-style, as Weibo's API writes created_at: "Thu Jan 22 10:30:00 +0800 2026".
    try:
        return _plausible(datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y"), now)
    except ValueError:
        pass
    if match := _CN_DATE.search(text):
        return _plausible(_make(match.groups(), tz), now)
    if match := _NUM_DATE.search(text):
        *parts, offset = match.groups()
        return _plausible(_make(parts, _offset(offset) or tz), now)
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    return _plausible(value if value.tzinfo else value.replace(tzinfo=tz), now)


def _from_timestamp(seconds: float, now: datetime) -> datetime | None:
    try:
        return _plausible(datetime.fromtimestamp(seconds, UTC), now)
    except (OverflowError, OSError, ValueError):
        return None


def find_date(text: str, *, now: datetime | None = None) -> datetime | None:
    """The first absolute date in a run of text (发布时间：2026年01月22日 10:30 ...)."""
    for pattern in (_CN_DATE, _NUM_DATE):
        if match := pattern.search(text):
            value = parse_datetime(match.group(0), now=now)
            if value is not None:
                return value
    return None


def parse_count(value: object) -> int | None:
    """Counts as APIs show them: 12, "12", "1,234", "1万+", "1.2万", "10w+", "100+"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value).strip()
    match = _COUNT.match(text)
    if not match:
        return None
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    return round(number * _MULTIPLIERS[match.group(2)])
