"""The audit log: who changed what and when, with the state before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditLog


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
