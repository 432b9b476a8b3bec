"""Query functions for monthly assessments (minimal; issue-8's fuller module replaces this one at merge).

Same signatures as the contract: the latest row per month is current. This branch's Assessment
model has no `revision` column yet, so "latest" is the newest row (highest id) of the month.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.errors import NotFound
from store.models import Assessment


def _order_column():
    return getattr(Assessment, "revision", Assessment.id)


def list_account_assessments(*, session: Session, account_id: int) -> list[Assessment]:
    """The current row of each month assessed for the account, newest month first."""
    order = _order_column()
    latest = (
        select(Assessment.month, func.max(order).label("top"))
        .where(Assessment.account_id == account_id)
        .group_by(Assessment.month)
        .subquery()
    )
    query = (
        select(Assessment)
        .join(latest, (Assessment.month == latest.c.month) & (order == latest.c.top))
        .where(Assessment.account_id == account_id)
        .order_by(Assessment.month.desc())
    )
    return list(session.scalars(query))


def get_assessment(*, session: Session, account_id: int, month: str) -> Assessment:
    query = (
        select(Assessment)
        .where(Assessment.account_id == account_id, Assessment.month == month)
        .order_by(_order_column().desc())
        .limit(1)
    )
    assessment = session.scalar(query)
    if assessment is None:
        raise NotFound(f"account {account_id} has no assessment for {month}")
    return assessment
