"""Bad input, concurrency and faults on the real command line, on SQLite files and PostgreSQL schemas.

Each test drives `python -m govwatch` in a subprocess, as cron or an operator would, and checks
the one-line answer, the documented exit code and that a refused command changed nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.db import make_engine, make_session_factory
from store.models import Account, AuditLog
from tests.conftest import POSTGRES_URL
from tests.govwatch.test_registry_import import GOOD_ROWS, HEADER, write_csv

FULL_HEADER = [*HEADER, "状态", "采集方式", "采集配置"]
COOKIE_OPTIONS = '{"cookies": {"SUB": "secret"}}'


def govwatch(
    cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    environment.update({"COLUMNS": "200", **env})
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        cwd=cwd,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


class Backend:
    """Where the CLI's database lives: GOVWATCH_* variables and a session factory on the same data."""

    def __init__(self, env: dict[str, str], url: str) -> None:
        self.env = env
        self.url = url
        self._factory: sessionmaker[Session] | None = None

    def session_factory(self) -> sessionmaker[Session]:
        if self._factory is None:
            self._factory = make_session_factory(make_engine(self.url))
        return self._factory

    def count(self, model: type) -> int:
        with self.session_factory()() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    data_dir = tmp_path / "var"
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'govwatch.db'}"
        return Backend({"GOVWATCH_DATA_DIR": str(data_dir)}, url)
    schema = request.getfixturevalue("postgres_schema_factory")()
    url = f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    return Backend({"GOVWATCH_DATA_DIR": str(data_dir), "GOVWATCH_DATABASE_URL": url}, url)


@pytest.fixture
def upgraded(backend: Backend, tmp_path: Path) -> Backend:
    result = govwatch(tmp_path, backend.env, "db", "upgrade")
    assert result.returncode == 0, result.stdout + result.stderr
    return backend


# ---- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({"GOVWATCH_CRAWL_DELAY": "abc"}, ["GOVWATCH_CRAWL_DELAY=abc", "number"]),
        ({"GOVWATCH_ENV": "prod"}, ["GOVWATCH_ENV=prod", "'production'"]),
        ({"GOVWATCH_CRAWL_PROCESSES": "0"}, ["GOVWATCH_CRAWL_PROCESSES=0", "greater than or equal to 1"]),
        ({"GOVWATCH_ENV": "production"}, ["GOVWATCH_SECRET_KEY", "32 characters"]),
        ({"GOVWATCH_LOG_LEVEL": "LOUD"}, ["GOVWATCH_LOG_LEVEL=LOUD", "DEBUG"]),
        ({"GOVWATCH_DATABASE_URL": "nonsense"}, ["GOVWATCH_DATABASE_URL=nonsense", "not a database URL"]),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, env: dict[str, str], fragments: list[str]
) -> None:
    result = govwatch(tmp_path, {"GOVWATCH_DATA_DIR": str(tmp_path / "var"), **env}, "accounts", "list")
    assert_one_line_error(result, 2, *fragments)


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = govwatch(tmp_path, {"GOVWATCH_DATA_DIR": str(tmp_path / "afile")}, "db", "upgrade")
    assert_one_line_error(result, 2, "GOVWATCH_DATA_DIR", "is a file, not a directory")


def test_debug_and_log_level_debug_show_the_traceback(tmp_path: Path) -> None:
    env = {"GOVWATCH_DATA_DIR": str(tmp_path / "var")}
    plain = govwatch(tmp_path, env, "accounts", "list")
    assert_one_line_error(plain, 1, "no database at", "govwatch db upgrade")
    for extra_env, args in (({}, ["--debug"]), ({"GOVWATCH_LOG_LEVEL": "debug"}, [])):
        result = govwatch(tmp_path, {**env, **extra_env}, *args, "accounts", "list")
        assert result.returncode == 1
        assert "Traceback" in result.stderr and "StoreUnavailable" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error: no database at")


# ---- database faults --------------------------------------------------------------------------


def test_read_commands_never_create_a_database_on_a_mistyped_path(tmp_path: Path) -> None:
    env = {"GOVWATCH_DATA_DIR": str(tmp_path / "typo" / "var")}
    for args in (["db", "current"], ["accounts", "list"], ["crawl", "status"], ["users", "list"]):
        assert_one_line_error(govwatch(tmp_path, env, *args), 1, "no database at")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/test", ["Connection refused", "database server running"]),
        ("postgresql+psycopg://no_such_role@127.0.0.1:5432/test", ["no_such_role", "create the role"]),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db_gw", ["no_such_db_gw", "create the role"]),
    ],
)
def test_postgres_faults_are_one_line(
    tmp_path: Path, postgres_available: bool, url: str, fragments: list[str]
) -> None:
    for args in (["db", "upgrade"], ["accounts", "list"]):
        result = govwatch(tmp_path, {"GOVWATCH_DATABASE_URL": url}, *args)
        assert_one_line_error(result, 1, "database error", *fragments)


def test_a_file_that_is_not_a_database_and_a_read_only_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / "govwatch.db").write_bytes(b"this is a spreadsheet, not a database" * 100)
    env = {"GOVWATCH_DATA_DIR": str(data_dir)}
    assert_one_line_error(govwatch(tmp_path, env, "accounts", "list"), 1, "file is not a database")
    assert_one_line_error(govwatch(tmp_path, env, "db", "upgrade"), 1, "file is not a database")
    assert (data_dir / "govwatch.db").read_bytes().startswith(b"this is a spreadsheet")


def test_an_outdated_or_unknown_revision_is_refused_until_db_upgrade(
    backend: Backend, tmp_path: Path
) -> None:
    assert govwatch(tmp_path, backend.env, "db", "upgrade", "0001").returncode == 0
    refused = govwatch(tmp_path, backend.env, "accounts", "list")
    assert_one_line_error(refused, 1, "at revision 0001", "run `govwatch db upgrade`")
    assert "0001 (this govwatch needs" in govwatch(tmp_path, backend.env, "db", "current").stdout
    assert govwatch(tmp_path, backend.env, "db", "upgrade").returncode == 0
    assert govwatch(tmp_path, backend.env, "accounts", "list").returncode == 0
    unknown = govwatch(tmp_path, backend.env, "db", "upgrade", "9999")
    assert_one_line_error(unknown, 2, "cannot upgrade to '9999'")


# ---- working directory and the demo --------------------------------------------------------


def test_a_relative_data_dir_is_resolved_once_and_crawl_workers_use_it(tmp_path: Path) -> None:
    from govwatch.sample_site import SampleSite

    elsewhere = tmp_path / "cron-home"
    elsewhere.mkdir()
    env = {"GOVWATCH_DATA_DIR": "data", "GOVWATCH_CRAWL_DELAY": "0", "GOVWATCH_CRAWL_PROCESSES": "2"}
    registry_text = (Path(__file__).resolve().parents[2] / "govwatch" / "sample" / "registry.csv").read_text(
        encoding="utf-8"
    )
    with SampleSite() as site:
        registry = elsewhere / "registry.csv"
        registry.write_text(registry_text.replace("{site}", site.url), encoding="utf-8")
        assert govwatch(elsewhere, env, "db", "upgrade").returncode == 0
        assert govwatch(elsewhere, env, "accounts", "import", str(registry)).returncode == 0
        crawled = govwatch(elsewhere, env, "crawl", "run", "--all", "--json")
    assert crawled.returncode == 0, crawled.stderr
    summary = json.loads(crawled.stdout)
    assert len(summary["runs"]) == 9 and {r["status"] for r in summary["runs"]} == {"ok"}
    with sqlite3.connect(elsewhere / "data" / "govwatch.db") as connection:
        posts = connection.execute("select count(*) from posts").fetchone()[0]
    assert posts == summary["totals"]["new"] > 0
    assert not (Path(__file__).resolve().parents[2] / "data").exists()


def test_the_demo_never_replaces_a_database_it_did_not_make(tmp_path: Path) -> None:
    env = {"GOVWATCH_DATA_DIR": str(tmp_path / "var")}
    assert govwatch(tmp_path, env, "db", "upgrade").returncode == 0
    database = tmp_path / "var" / "govwatch.db"
    before = database.read_bytes()
    refused = govwatch(tmp_path, env, "demo", "--data-dir", str(tmp_path / "var"))
    assert_one_line_error(refused, 2, "was not created by the demo", "--data-dir")
    assert database.read_bytes() == before
    relative = govwatch(tmp_path, env, "demo", "--data-dir", "var")
    assert_one_line_error(relative, 2, "was not created by the demo")
    assert database.read_bytes() == before


# ---- registry re-import ----------------------------------------------------------------------


def full_rows() -> list[list[str]]:
    rows = [[*row, "", "", ""] for row in GOOD_ROWS]
    rows[0][9] = "关闭"
    rows[1][8] = "https://m.weibo.cn/api/container/getIndex?containerid=1076031234567"
    rows[1][10] = "weibo"
    rows[1][11] = COOKIE_OPTIONS
    return rows


def stored_accounts(backend: Backend) -> dict[str, tuple]:
    with backend.session_factory()() as session:
        return {
            a.handle: (a.name, a.filing_number, a.filing_date, a.status, a.source)
            for a in session.scalars(select(Account))
        }


def test_reimporting_a_shorter_sheet_keeps_what_it_does_not_mention(
    upgraded: Backend, tmp_path: Path
) -> None:
    import csv

    full = tmp_path / "full.csv"
    with full.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([FULL_HEADER, *full_rows()])
    first = govwatch(tmp_path, upgraded.env, "accounts", "import", str(full))
    assert first.returncode == 0, first.stdout + first.stderr
    kept = stored_accounts(upgraded)
    assert kept["hhht_fabu"][3] == "closed" and kept["1234567"][4]["cookies"] == {"SUB": "secret"}
    audit_rows = upgraded.count(AuditLog)

    # Only the required columns, and a misspelt 采集网址: nothing the sheet does not give changes.
    short = write_csv(
        tmp_path / "short.csv",
        [[*HEADER[:5], "采集网址"], *[[*row[:5], "https://elsewhere.example/x"] for row in GOOD_ROWS]],
    )
    again = govwatch(tmp_path, upgraded.env, "accounts", "import", str(short))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 created, 0 updated, 3 unchanged" in again.stdout
    assert "unknown column 6 '采集网址' is ignored; did you mean '采集地址'?" in again.stderr
    assert stored_accounts(upgraded) == kept
    assert upgraded.count(AuditLog) == audit_rows + 1  # the import itself, no account changes

    # A changed name and filing number: the dry run says so field by field and writes nothing.
    changed = [row[:] for row in GOOD_ROWS]
    changed[1][0], changed[1][6] = "新城区融媒", "蒙网备009"
    sheet = write_csv(tmp_path / "changed.csv", [HEADER, *changed])
    dry = govwatch(tmp_path, upgraded.env, "accounts", "import", "--dry-run", str(sheet))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "row 3: would update account" in dry.stdout
    assert "name: 新城区发布 -> 新城区融媒" in dry.stdout and "filing_number: - -> 蒙网备009" in dry.stdout
    assert "1 would be updated (changed fields: filing_number 1, name 1)" in dry.stdout
    assert stored_accounts(upgraded) == kept and upgraded.count(AuditLog) == audit_rows + 1
    real = govwatch(tmp_path, upgraded.env, "accounts", "import", str(sheet))
    assert "1 updated (changed fields: filing_number 1, name 1)" in real.stdout
    after = stored_accounts(upgraded)
    assert after["1234567"][:2] == ("新城区融媒", "蒙网备009") and after["1234567"][4] == kept["1234567"][4]
    with upgraded.session_factory()() as session:
        account_id = session.scalar(select(Account.id).where(Account.handle == "1234567"))
        entries = list(
            session.scalars(select(AuditLog).where(AuditLog.action.in_(["account.create", "account.update"])))
        )
    assert {e.entity_id for e in entries} == {str(i) for i in range(1, 4)} | {str(account_id)}
    assert all(e.entity_id.isdigit() for e in entries)


def test_overlong_and_control_character_cells_are_refused_with_row_and_field(
    upgraded: Backend, tmp_path: Path
) -> None:
    bad = [row[:] for row in GOOD_ROWS]
    bad[0][0] = "名" * 201
    bad[1][2] = "12\x1b[31m34"
    bad[2][3] = "单位\x00"
    sheet = write_csv(tmp_path / "bad.csv", [HEADER, *bad])
    result = govwatch(tmp_path, upgraded.env, "accounts", "import", str(sheet))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "row 2: 账号名称/name is 201 characters long; at most 200 fit" in result.stdout
    assert "row 3: 账号ID/handle contains the control character U+001B at position 3" in result.stdout
    assert "row 4: 主办单位/organization contains the control character U+0000" in result.stdout
    assert upgraded.count(Account) == 0


def test_a_huge_csv_cell_and_every_problem_of_a_row(upgraded: Backend, tmp_path: Path) -> None:
    rows = [row[:] for row in GOOD_ROWS]
    rows[0][5] = "x" * 140_000  # region name: past the csv module's 131,072-character limit
    rows[1][1], rows[1][4] = "qq", "15"
    sheet = write_csv(tmp_path / "huge.csv", [HEADER, *rows])
    result = govwatch(tmp_path, upgraded.env, "accounts", "import", str(sheet))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "row 2: region_name is 140000 characters long; at most 100 fit" in result.stdout
    assert "row 3: unknown platform 'qq'" in result.stdout and "malformed region code '15'" in result.stdout


def test_row_numbers_after_a_multiline_cell_and_gbk_lines_in_utf8(upgraded: Backend, tmp_path: Path) -> None:
    text = ",".join(HEADER) + "\n"
    text += '"呼和浩特\n发布",微信,hhht,某单位,150100,,,,\n'
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        text.encode("utf-8")
        + "新城区发布,微博,123,新城区委宣传部,150102,新城区,,,\n".encode("gbk")
        + "坏,qq,q,某单位,150100,,,,\n".encode()
    )
    result = govwatch(tmp_path, upgraded.env, "accounts", "import", str(path))
    assert "row 5: unknown platform 'qq'" in result.stdout, result.stdout
    assert "line(s) 4 are GBK inside a UTF-8 file" in result.stderr


# ---- concurrency ----------------------------------------------------------------------------


def test_two_imports_at_once_write_each_account_and_audit_row_once(upgraded: Backend, tmp_path: Path) -> None:
    rows = [
        [f"账号{i}", "微博", f"h{i}", f"单位{i % 50}", "150102", "新城区", "", "", ""] for i in range(3000)
    ]
    sheet = write_csv(tmp_path / "big.csv", [HEADER, *rows])
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    environment.update(upgraded.env)
    command = [sys.executable, "-m", "govwatch", "accounts", "import", str(sheet)]
    processes = [
        subprocess.Popen(
            command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    summaries = sorted(out for out, _ in outputs)
    assert "0 created, 0 updated, 3000 unchanged" in summaries[0]
    assert "3000 created, 0 updated, 0 unchanged" in summaries[1]
    assert upgraded.count(Account) == 3000
    with upgraded.session_factory()() as session:
        creates = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "account.create")
        )
        updates = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "account.update")
        )
    assert (creates, updates) == (3000, 0)


def add_posts(backend: Backend, count: int) -> None:
    from store.accounts import ensure_organization, upsert_account
    from store.posts import PostInput, upsert_posts

    with backend.session_factory().begin() as session:
        organization = ensure_organization(session=session, name="新城区委宣传部", region_code="150102")
        account, _ = upsert_account(
            session=session,
            platform="weibo",
            handle="1234567",
            fields={"name": "新城区发布", "organization_id": organization.id, "region_code": "150102"},
        )
        texts = [
            "请加微信下单，原价199元，现价99元，包邮！",
            "某某路与某某街交叉口发生交通事故，请绕行。",
            "今天天气晴朗。",
        ]
        upsert_posts(
            session=session,
            account_id=account.id,
            posts=[PostInput(source_key=f"p{i}", text=f"{texts[i % 3]} 第{i}条") for i in range(count)],
        )


def test_two_classify_runs_at_once_store_each_finding_once(upgraded: Backend, tmp_path: Path) -> None:
    from store.models import Finding, PostClassification

    add_posts(upgraded, 600)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    environment.update(upgraded.env)
    command = [sys.executable, "-m", "govwatch", "classify", "--batch-size", "50", "--show", "0"]
    processes = [
        subprocess.Popen(
            command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    codes = sorted(process.returncode for process in processes)
    assert all("Traceback" not in out + err for out, err in outputs), outputs
    assert codes in ([0, 0], [0, 1]), outputs
    if codes == [0, 1]:
        refused = next(err for (_, err), p in zip(outputs, processes, strict=True) if p.returncode == 1)
        assert "another classify is running" in refused
    assert upgraded.count(PostClassification) == 600
    with upgraded.session_factory()() as session:
        findings = session.execute(
            select(Finding.post_id, Finding.category, func.count()).group_by(
                Finding.post_id, Finding.category
            )
        ).all()
    assert findings and all(n == 1 for _, _, n in findings)
    rerun = govwatch(tmp_path, upgraded.env, "classify", "--show", "0")
    assert rerun.returncode == 0 and "classified 0 posts" in rerun.stdout


def test_claims_tolerate_a_concurrent_writer(upgraded: Backend) -> None:
    """The store-level guarantee under the lease: a second claimer of the same posts gets none."""
    import threading

    from store.findings import claim_posts
    from store.models import Post

    add_posts(upgraded, 20)
    factory = upgraded.session_factory()
    results: dict[str, list[int]] = {}
    with factory.begin() as first:
        posts = list(first.scalars(select(Post).order_by(Post.id)))
        results["first"] = [
            p.id for p in claim_posts(session=first, posts=posts, model_version="m", rules_version="r")
        ]

        def second() -> None:
            with factory.begin() as session:
                mine = list(session.scalars(select(Post).order_by(Post.id)))
                claimed = claim_posts(session=session, posts=mine, model_version="m", rules_version="r")
                results["second"] = [p.id for p in claimed]

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # it waits for the first writer's transaction
    thread.join(timeout=30)
    assert len(results["first"]) == 20 and results["second"] == []


# ---- users ------------------------------------------------------------------------------------


def test_users_add_refuses_bad_input_without_printing_a_hash(upgraded: Backend, tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "reg.csv", [HEADER, *GOOD_ROWS])
    assert govwatch(tmp_path, upgraded.env, "accounts", "import", str(sheet)).returncode == 0
    password = {"GOVWATCH_NEW_USER_PASSWORD": "correct horse"}
    env = {**upgraded.env, **password}
    ok = govwatch(tmp_path, env, "users", "add", "Bob", "--role", "admin")
    assert ok.returncode == 0 and "'bob' added" in ok.stdout
    cases = [
        (["users", "add", "BOB", "--role", "admin"], "already exists"),
        (["users", "add", "a" * 101, "--role", "admin"], "1 to 100 characters"),
        (["users", "add", "x", "--role", "reviewer", "--region", "110000"], "no region 110000"),
        (["users", "add", "x", "--role", "admin", "--account", "1"], "operators only"),
        (["users", "add", "x", "--role", "admin", "--display-name", "名" * 101], "at most 100 fit"),
        (["users", "add", "x", "--role", "admin", "--display-name", "a\x07b"], "control character U+0007"),
    ]
    for args, fragment in cases:
        result = govwatch(tmp_path, env, *args)
        assert_one_line_error(result, 1 if "exists" in fragment else 2, fragment)
        assert "$argon2" not in result.stdout + result.stderr
    spaces = govwatch(
        tmp_path, upgraded.env, "users", "add", "y", "--role", "admin", stdin=" " * 8 + "\n" + " " * 8 + "\n"
    )
    assert_one_line_error(spaces, 2, "besides spaces")
    via_stdin = govwatch(
        tmp_path,
        upgraded.env,
        "users",
        "add",
        "z",
        "--role",
        "admin",
        "--password-stdin",
        stdin="s3cret-pass\n",
    )
    assert via_stdin.returncode == 0
    no_option = govwatch(
        tmp_path, upgraded.env, "users", "add", "w", "--role", "admin", "--password", "abcdefgh"
    )
    assert no_option.returncode == 2 and "No such option" in no_option.stderr
    listed = json.loads(govwatch(tmp_path, upgraded.env, "users", "list", "--json").stdout)
    assert [u["username"] for u in listed] == ["bob", "z"]


# ---- output -----------------------------------------------------------------------------------


def test_lists_escape_controls_print_full_values_in_a_pipe_and_speak_json(
    upgraded: Backend, tmp_path: Path
) -> None:
    from store.accounts import ensure_organization, upsert_account

    long_name = "内蒙古自治区呼和浩特市新城区人民政府新闻办公室官方发布账号" * 3
    with upgraded.session_factory().begin() as session:
        organization = ensure_organization(session=session, name="单位", region_code="150102")
        for handle, name in (("a", "\x1b[2J\x1b[31mevil"), ("b", long_name), ("c", "[red]markup[/red]")):
            upsert_account(
                session=session,
                platform="weibo",
                handle=handle,
                fields={"name": name, "organization_id": organization.id, "region_code": "150102"},
            )
    listed = govwatch(tmp_path, upgraded.env, "accounts", "list")
    assert listed.returncode == 0
    assert "\x1b" not in listed.stdout and "\\x1b[2J\\x1b[31mevil" in listed.stdout
    assert long_name in listed.stdout and "[red]markup[/red]" in listed.stdout
    assert "3 account(s)" in listed.stdout
    limited = govwatch(tmp_path, upgraded.env, "accounts", "list", "--limit", "1", "--offset", "1")
    assert "3 account(s), 1 shown from 2" in limited.stdout and long_name in limited.stdout
    as_json = json.loads(govwatch(tmp_path, upgraded.env, "accounts", "list", "--json").stdout)
    assert [a["name"] for a in as_json] == ["\x1b[2J\x1b[31mevil", long_name, "[red]markup[/red]"]
    for args, fragment in (
        (["accounts", "list", "--region", "110000"], "no region 110000"),
        (["accounts", "list", "--platform", "qq"], "unknown platform 'qq'"),
        (["accounts", "list", "--status", "gone"], "unknown status 'gone'"),
        (["crawl", "run", "--account", "99999"], "no account with id 99999"),
        (["crawl", "run", "--region", ""], "malformed region code ''"),
        (["crawl", "run", "--region", "12"], "malformed region code '12'"),
        (["crawl", "status", "--region", "110000"], "no region 110000"),
    ):
        assert_one_line_error(govwatch(tmp_path, upgraded.env, *args), 2, fragment)
    status = json.loads(govwatch(tmp_path, upgraded.env, "crawl", "status", "--json").stdout)
    assert {row["status"] for row in status} == {"never"} and len(status) == 3


def test_crawl_json_stays_json_when_redis_is_down(upgraded: Backend, tmp_path: Path) -> None:
    from store.accounts import ensure_organization, upsert_account

    with upgraded.session_factory().begin() as session:
        organization = ensure_organization(session=session, name="单位", region_code="150102")
        upsert_account(
            session=session,
            platform="website",
            handle="x",
            fields={
                "name": "x",
                "organization_id": organization.id,
                "region_code": "150102",
                "source": {"kind": "feed", "url": "http://127.0.0.1:9/feed.xml"},
            },
        )
    env = {**upgraded.env, "GOVWATCH_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = govwatch(tmp_path, env, "crawl", "run", "--all", "--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert document["returncode"] != 0 and "crawl process ended" in document["error"]
    assert "[red]" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: the crawl process ended")


@pytest.fixture
def count_processes() -> Callable[[str], int]:
    def count(fragment: str) -> int:
        found = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                        errors="replace"
                    ):
                        found += 1
                except OSError:
                    continue
        return found

    return count
