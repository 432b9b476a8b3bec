"""The audit log: who changed what and when, with the state before and after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.models import AuditLog, utcnow


@dataclass(frozen=True)
class AuditEntry:
    """One audit row for `record_audit_many`; `entity_id` is the entity's numeric id (None for a batch)."""

    action: str
    entity_type: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # A readable name of the target, kept so the row still says what it was after a deletion.
    entity_label: str | None = None


def record_audit_many(
    *, session: Session, actor: str, entries: Sequence[AuditEntry], actor_id: int | None = None
) -> None:
    """Many audit rows in one multi-row INSERT (a 50,000-row import writes 50,000 of them)."""
    if not entries:
        return
    now = utcnow()
    rows = [
        {
            "actor": actor,
            "actor_id": actor_id,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": None if entry.entity_id is None else str(int(entry.entity_id)),
            "entity_label": None if entry.entity_label is None else entry.entity_label[:200],
            "before": entry.before,
            "after": entry.after,
            "created_at": now,
        }
        for entry in entries
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(AuditLog), rows[start : start + 1000])


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_id: int | None = None,
    entity_label: str | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        entity_label=None if entity_label is None else entity_label[:200],
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def list_audit(
    *, session: Session, entity_type: str | None = None, entity_id: str | int | None = None, limit: int = 100
) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == str(entity_id))
    return list(session.scalars(query))
