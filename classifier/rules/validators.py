"""Checks on numbers found by privacy patterns: a pattern finds candidates, these confirm them.

Each check takes the matched text and the post's date (None when unknown): a birth date is
judged against the post's date, never the clock, so a rerun years later reaches the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

__all__ = ["VALIDATORS", "digits_of", "is_bank_card", "is_id_card", "is_mobile", "luhn_ok"]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_NON_DIGIT = re.compile(r"[^0-9Xx]")


def digits_of(text: str) -> str:
    return _NON_DIGIT.sub("", text).upper()


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_id_card(text: str, today: date | None = None) -> bool:
    """An 18-character resident ID number with a real birth date and a valid check character.

    `today` is the post's date: a birth date after it is impossible. Without it any birth date
    from 1890 on is accepted (the pattern already limits the year to 18xx–20xx).
    """
    value = digits_of(text)
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born < date(1890, 1, 1) or (today is not None and born > today):
        return False
    return id_check_digit(value[:17]) == value[17]


def is_mobile(text: str, today: date | None = None) -> bool:
    value = digits_of(text)
    if len(value) == 13 and value.startswith("86"):
        value = value[2:]
    return len(value) == 11 and value[0] == "1" and value[1] in "3456789"


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_bank_card(text: str, today: date | None = None) -> bool:
    """16–19 digits passing Luhn that are not also a valid ID number or a phone number."""
    value = digits_of(text)
    if not 16 <= len(value) <= 19 or not value.isdigit():
        return False
    if len(set(value)) == 1:  # 0000… or 1111…: placeholders, not cards
        return False
    if len(value) == 18 and is_id_card(value, today):
        return False
    return luhn_ok(value)


VALIDATORS: dict[str, Callable[[str, date | None], bool]] = {
    "id_card": is_id_card,
    "mobile": is_mobile,
    "bank_card": is_bank_card,
}
