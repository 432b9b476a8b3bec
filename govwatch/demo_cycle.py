"""The demo's last step: the scheduler's own jobs once over the demo data, then how to run the service."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from govwatch.settings import Settings
from scheduler.context import JobContext, process_holder
from scheduler.jobs import JobOutcome, account_findings_job
from store.models import Account, User
from store.users import create_user

DEMO_PASSWORD = "govwatch-demo"


def ensure_demo_users(session_factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    """An admin, a reviewer of the sample region and an operator of the first account, if no users exist."""
    with session_factory.begin() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return [(u.username, u.role) for u in session.scalars(select(User).order_by(User.id))]
        first = session.scalars(select(Account).order_by(Account.id)).first()
        region = first.region_code[:2] + "0000" if first else "150000"
        users: list[tuple[str, str, str | None, tuple[int, ...]]] = [
            ("demo-admin", "admin", None, ()),
            ("demo-reviewer", "reviewer", region, ()),
        ]
        if first is not None:
            users.append(("demo-operator", "operator", None, (first.id,)))
        for username, role, region_code, accounts in users:
            create_user(
                session=session,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                region_code=region_code,
                account_ids=accounts,
            )
        return [(u[0], u[1]) for u in users]


def run_account_checks(session_factory: sessionmaker[Session], settings: Settings, console: Console) -> None:
    """The scheduler's daily account-level checks (inactive, unfiled, compromised), run once as a job."""
    context = JobContext(session_factory=session_factory, settings=settings, holder=process_holder("demo"))
    outcome: JobOutcome = account_findings_job(context=context)
    detail = outcome.error or ", ".join(f"{k} {v}" for k, v in outcome.counts.items() if not isinstance(v, dict))
    console.print(f"job {outcome.job} ({outcome.period}): {outcome.status}; {escape(detail)}")


def print_how_to_run(session_factory: sessionmaker[Session], settings: Settings, console: Console) -> None:
    """Creates the demo users if there are none and says how to start the service on the demo database."""
    users = ensure_demo_users(session_factory)
    data_dir = settings.data_dir
    console.rule("[bold]run it")
    console.print(
        "Start the service (scheduler + web app) on this demo database:\n"
        f"  GOVWATCH_DATA_DIR={escape(str(data_dir))} .venv/bin/govwatch run\n"
        f"  GOVWATCH_DATA_DIR={escape(str(data_dir))} .venv/bin/govwatch status"
    )
    if users:
        names = ", ".join(f"{name} ({role})" for name, role in users)
        console.print(
            f"Sign in with: {escape(names)}; password [bold]{DEMO_PASSWORD}[/bold] for the demo users."
        )
