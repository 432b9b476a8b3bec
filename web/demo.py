"""Portal users for `govwatch demo`: a reviewer, a lead, an operator (and an admin) with fresh passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.audit import record_audit
from store.models import Account
from store.reviews import ensure_default_reason_codes
from store.users import create_user


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    scope: str


def create_demo_users(session_factory: sessionmaker[Session]) -> list[DemoUser]:
    """Users scoped to the sample accounts: reviewer and lead of their province, operator of two accounts."""
    created: list[DemoUser] = []
    with session_factory.begin() as session:
        ensure_default_reason_codes(session=session)
        accounts = list(session.scalars(select(Account).order_by(Account.id)))
        if not accounts:
            return []
        province = accounts[0].region_code[:2] + "0000"
        operated = accounts[:2]
        for username, role, display in (
            ("demo-admin", "admin", "演示管理员"),
            ("demo-reviewer", "reviewer", "演示审核员"),
            ("demo-lead", "lead", "演示领导"),
            ("demo-operator", "operator", "演示运营者"),
        ):
            password = secrets.token_urlsafe(9)
            user = create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                region_code=province if role in ("reviewer", "lead") else None,
                account_ids=[a.id for a in operated] if role == "operator" else (),
                display_name=display,
            )
            record_audit(
                session=session,
                actor="demo",
                action="user.create",
                entity_type="user",
                entity_id=user.id,
                entity_label=username,
                after={"role": role},
            )
            scope = {
                "admin": "全部",
                "reviewer": f"地区 {province} 及下级",
                "lead": f"地区 {province} 及下级（只读与报告）",
                "operator": "、".join(a.name for a in operated),
            }[role]
            created.append(DemoUser(username=username, role=role, password=password, scope=scope))
    return created


def show_portal_users(session_factory: sessionmaker[Session], data_dir: Path, console: Console) -> None:
    """Create the demo's portal users and print how to sign in (the one call `govwatch demo` makes)."""
    users = create_demo_users(session_factory)
    if not users:
        return
    table = Table("username", "role", "password", "scope", title="web portal users")
    for user in users:
        table.add_row(user.username, user.role, user.password, user.scope)
    console.print(table)
    console.print(
        f"open the portal: [bold]GOVWATCH_DATA_DIR={data_dir} govwatch serve[/bold] "
        "then visit http://127.0.0.1:8000/ (API documentation at /docs)"
    )
