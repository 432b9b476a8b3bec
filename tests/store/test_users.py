"""Users, roles, scopes and Argon2 hashing on a real database."""

import pytest

from store.accounts import ensure_organization, upsert_account
from store.errors import Conflict, InvalidInput, NotFound
from store.users import authenticate, create_user, get_user_by_name


@pytest.fixture
def account_id(session_factory) -> int:
    with session_factory.begin() as session:
        organization = ensure_organization(session=session, name="新城区委宣传部", region_code="150102")
        account, _ = upsert_account(
            session=session,
            platform="weibo",
            handle="1234567",
            fields={"name": "新城区发布", "organization_id": organization.id, "region_code": "150102"},
        )
        return account.id


def test_passwords_are_argon2_hashed_and_checked(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        user = create_user(
            session=session, username="rev", password="correct horse", role="reviewer", region_code="150000"
        )
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    with session_factory() as session:
        assert authenticate(session=session, username="rev", password="correct horse").username == "rev"
        assert authenticate(session=session, username="rev", password="wrong horse") is None
        assert authenticate(session=session, username="nobody", password="correct horse") is None


def test_operator_scope_is_its_accounts(session_factory, account_id: int) -> None:
    with session_factory.begin() as session:
        create_user(
            session=session, username="op", password="12345678", role="operator", account_ids=[account_id]
        )
    with session_factory() as session:
        assert [a.handle for a in get_user_by_name(session=session, username="op").accounts] == ["1234567"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"role": "reviewer"}, InvalidInput, "region scope"),
        ({"role": "operator"}, InvalidInput, "at least one account"),
        ({"role": "operator", "account_ids": [999]}, NotFound, "no account with id 999"),
        ({"role": "boss"}, InvalidInput, "unknown role"),
        ({"role": "admin", "password": "short"}, InvalidInput, "at least 8"),
        ({"role": "reviewer", "region_code": "15"}, InvalidInput, "malformed region code"),
        ({"role": "reviewer", "region_code": "110000"}, NotFound, "no region 110000"),
        ({"role": "admin", "account_ids": [1]}, InvalidInput, "for operators only"),
        ({"role": "reviewer", "region_code": "150000", "account_ids": [1]}, InvalidInput, "operators only"),
        ({"role": "operator", "region_code": "150000", "account_ids": [1]}, InvalidInput, "reviewers only"),
        ({"role": "admin", "password": " " * 8}, InvalidInput, "besides spaces"),
        ({"role": "admin", "password": "aaaaaaaaaa"}, InvalidInput, "one character repeated"),
        ({"role": "admin", "display_name": "x\x1b[31m"}, InvalidInput, "control character U\\+001B"),
    ],
)
def test_invalid_users_are_refused(session_factory, account_id: int, kwargs, error, message) -> None:
    with pytest.raises(error, match=message), session_factory.begin() as session:
        create_user(session=session, username="x", **{"password": "12345678", **kwargs})


def test_usernames_are_unique(session_factory) -> None:
    with session_factory.begin() as session:
        create_user(session=session, username="admin", password="12345678", role="admin")
    with pytest.raises(Conflict), session_factory.begin() as session:
        create_user(session=session, username="admin", password="12345678", role="admin")
    # Case does not make another user: ADMIN is admin, on both databases.
    with pytest.raises(Conflict, match="already exists"), session_factory.begin() as session:
        create_user(session=session, username=" ADMIN ", password="12345678", role="admin")
    with session_factory() as session:
        assert get_user_by_name(session=session, username="Admin").username == "admin"


@pytest.mark.parametrize(
    ("value", "written"),
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"),
     ("@SUM(A1)", "'@SUM(A1)"), ("正常文本", "正常文本"), (-2, -2), (None, None)],
)  # fmt: skip
def test_spreadsheet_cells_that_would_run_as_formulas_are_neutralised(value, written) -> None:
    from store.validation import spreadsheet_safe

    assert spreadsheet_safe(value) == written
