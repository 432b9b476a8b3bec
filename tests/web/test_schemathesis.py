"""The API fuzzed by schemathesis against its own OpenAPI schema: no input gives a server error."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import PASSWORD, Portal

pytestmark = pytest.mark.slow


def test_no_server_error_for_any_generated_request(portal: Portal) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(portal.url + "/openapi.json")
    signed_in = requests.Session()
    response = signed_in.post(
        portal.url + "/api/session", json={"username": "reviewer", "password": PASSWORD}
    )
    assert response.status_code == 200
    csrf = response.json()["csrf_token"]
    anonymous = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Sign-out would end the fuzzing session; it is tried last, once.
    operations.sort(key=lambda op: (op.path == "/api/session" and op.method.upper() == "DELETE", op.path))
    assert len(operations) >= 14
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(case=operation.as_strategy(), authenticated=st.booleans())
        def check(case, authenticated: bool) -> None:
            session = signed_in if authenticated else anonymous
            result = case.call(base_url=portal.url, session=session, headers={"X-CSRF-Token": csrf})
            statuses.append(result.status_code)
            if result.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {result.status_code}: {result.text[:200]}"
                )
            # The body is JSON whenever the API answers.
            kind = (result.headers.get("content-type") or [""])[0]
            if not kind.startswith("application/json"):
                failures.append(
                    f"{case.method} {case.formatted_path} -> {result.status_code} answered {kind!r}"
                )

        if operation.path == "/api/session" and operation.method.upper() == "DELETE":
            continue
        check()
    assert failures == []
    # The fuzzing got past sign-in and validation, not only to 401 and 422.
    assert len(statuses) >= 10 * (len(operations) - 1)
    assert {200, 401, 422} <= set(statuses), sorted(set(statuses))
