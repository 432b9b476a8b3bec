"""Query functions for the administrative-division hierarchy."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.errors import InvalidInput
from store.models import Region

# Six digits; the first two name a province, whose codes run from 11 (Beijing) to 82 (Macao).
REGION_CODE = re.compile(r"^[1-8]\d{5}$")


def region_code_problem(code: str) -> str | None:
    """Why `code` is not an administrative division code, or None when it is one."""
    if REGION_CODE.match(code):
        return None
    return f"malformed region code {code!r}: expected 6 digits starting with 1–8, such as 150102"


def parent_code_of(code: str) -> str | None:
    """150102 → 150100 → 150000 → None (county → prefecture → province)."""
    if code[4:] != "00":
        return code[:4] + "00"
    if code[2:] != "0000":
        return code[:2] + "0000"
    return None


def level_of(code: str) -> int:
    if code[2:] == "0000":
        return 1
    return 2 if code[4:] == "00" else 3


def validate_region_code(code: str) -> str:
    code = code.strip()
    problem = region_code_problem(code)
    if problem is not None:
        raise InvalidInput(problem)
    return code


def ensure_region(*, session: Session, code: str, name: str | None = None) -> Region:
    """The region with `code`, created with its ancestors if missing; a given name replaces a placeholder."""
    code = validate_region_code(code)
    region = session.get(Region, code)
    if region is None:
        parent = parent_code_of(code)
        if parent is not None:
            ensure_region(session=session, code=parent)
        region = Region(code=code, name=name or code, parent_code=parent, level=level_of(code))
        session.add(region)
        session.flush()
    elif name and region.name == region.code:
        region.name = name
    return region


def descendant_codes(*, session: Session, code: str) -> list[str]:
    """`code` and every region under it (codes nest by prefix, so a prefix match is exact)."""
    code = validate_region_code(code)
    level = level_of(code)
    prefix = code[: {1: 2, 2: 4, 3: 6}[level]]
    rows = session.scalars(select(Region.code).where(Region.code.startswith(prefix)))
    return sorted(set(rows) | {code})


def list_regions(*, session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))
