"""The JSON API through a real HTTP client against uvicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.web.conftest import Portal


@pytest.fixture
def api_portal(portal_factory, empty_engine: Engine) -> Portal:
    return portal_factory(empty_engine)


def test_queue_decision_conflict_and_appeal_through_the_api(api_portal: Portal) -> None:
    portal = api_portal
    reviewer, csrf = portal.api_login("reviewer")
    page = reviewer.get("/api/findings", params={"per_page": 2}).json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["page"] == 1
    assert [i["score"] for i in page["items"]] == [0.97, 0.72]
    assert page["items"][0]["waiting_seconds"] == 5 * 3600
    second = reviewer.get("/api/findings", params={"per_page": 2, "page": 2}).json()["items"]
    assert {i["id"] for i in second}.isdisjoint({i["id"] for i in page["items"]})
    filtered = reviewer.get("/api/findings", params={"category": "unverified", "platform": "wechat"}).json()
    assert [i["id"] for i in filtered["items"]] == [portal.ids["finding_a_unverified"]]
    assert reviewer.get("/api/findings", params={"region": "999999"}).status_code == 422

    fid = portal.ids["finding_a_top"]
    detail = reviewer.get(f"/api/findings/{fid}").json()
    assert [s["text"] for s in detail["text_segments"] if s["evidence"]] == ["加微信下单立减50元"]
    assert detail["history"][0]["what"] == "created"

    other, other_csrf = portal.api_login("reviewer2")
    body = {"decision": "dismiss", "reason_code": "false_positive", "version": detail["version"]}
    ok = other.post(f"/api/findings/{fid}/decision", json=body, headers={"X-CSRF-Token": other_csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["finding"]["state"] == "dismissed"
    # The first reviewer still has the old version loaded: a clear 409, nothing overwritten.
    stale = reviewer.post(
        f"/api/findings/{fid}/decision",
        json={"decision": "confirm", "reason_code": "commercial_ad", "version": detail["version"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert stale.status_code == 409 and "已被修改" in stale.json()["detail"]
    assert reviewer.get(f"/api/findings/{fid}").json()["state"] == "dismissed"

    # An operator appeals a confirmed finding of their account once, through the API.
    operator, op_csrf = portal.api_login("operator")
    cid = portal.ids["finding_a_confirmed"]
    scores = operator.get(f"/api/accounts/{portal.ids['account_a']}/assessments").json()
    assert scores["assessments"][0]["deductions"][0]["finding_id"] == cid
    assert scores["assessments"][0]["passed"] is True
    too_long = operator.post(
        f"/api/findings/{cid}/appeal", json={"reason": "长" * 2001}, headers={"X-CSRF-Token": op_csrf}
    )
    assert too_long.status_code == 422
    appeal = operator.post(
        f"/api/findings/{cid}/appeal", json={"reason": "转载的提示"}, headers={"X-CSRF-Token": op_csrf}
    )
    assert appeal.status_code == 200, appeal.text
    again = operator.post(
        f"/api/findings/{cid}/appeal", json={"reason": "再次"}, headers={"X-CSRF-Token": op_csrf}
    )
    assert again.status_code == 409
    appeal_id = appeal.json()["id"]
    own = reviewer.post(
        f"/api/appeals/{appeal_id}/decision", json={"outcome": "rejected"}, headers={"X-CSRF-Token": csrf}
    )
    assert own.status_code == 403  # the confirmer may not decide the appeal
    assert [a["id"] for a in other.get("/api/appeals").json()] == [appeal_id]
    decided = other.post(
        f"/api/appeals/{appeal_id}/decision",
        json={"outcome": "rejected", "note": "证据充分"},
        headers={"X-CSRF-Token": other_csrf},
    )
    assert decided.status_code == 200 and decided.json()["outcome"] == "rejected"
    assert operator.get(f"/api/findings/{cid}").json()["appeals"][0]["outcome"] == "rejected"
    # Operators cannot decide; the lead reads but does not decide.
    assert (
        operator.post(
            f"/api/findings/{portal.ids['finding_a_unverified']}/decision",
            json={"decision": "dismiss", "reason_code": "false_positive", "version": 1},
            headers={"X-CSRF-Token": op_csrf},
        ).status_code
        == 403
    )
    lead, lead_csrf = portal.api_login("lead")
    assert lead.get("/api/findings").json()["total"] == 3
    reopened = lead.post(
        f"/api/findings/{fid}/reopen",
        json={"note": "需复核", "version": 2},
        headers={"X-CSRF-Token": lead_csrf},
    )
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    # Sign-out ends the session.
    assert operator.request("DELETE", "/api/session", headers={"X-CSRF-Token": op_csrf}).status_code == 200
    assert operator.get("/api/me").status_code == 401


def test_bulk_decision_from_a_filtered_list(portal: Portal) -> None:
    from tests.web.test_security import csrf_of
    from tests.web.test_smoke import login

    client = login(portal, "reviewer")
    page = client.get("/queue", params={"category": "marketing"}).text
    assert 'name="finding"' in page  # a filtered list offers bulk decisions, showing each excerpt
    assert 'name="finding"' not in client.get("/queue").text
    csrf = csrf_of(client)
    ids = [portal.ids["finding_a_top"], portal.ids["finding_a2_deleted"]]
    data: dict[str, object] = {
        "csrf_token": csrf,
        "decision": "dismiss",
        "reason_dismiss": "false_positive",
        "back": "category=marketing",
        "finding": [str(i) for i in ids],
    }
    data.update({f"version_{i}": "1" for i in ids})
    response = client.post("/queue/bulk", data=data)
    assert response.status_code == 303 and "bulk_done=2" in response.headers["location"]
    api = client.get("/api/findings", params={"state": "dismissed"}).json()
    assert sorted(i["id"] for i in api["items"]) == sorted(ids)
    # Not from an unfiltered list, and not on a finding the filtered list did not show.
    unverified = portal.ids["finding_a_unverified"]
    for back in ("", "category=marketing"):
        response = client.post(
            "/queue/bulk",
            data={
                "csrf_token": csrf,
                "decision": "dismiss",
                "reason_dismiss": "false_positive",
                "back": back,
                "finding": [str(unverified)],
                f"version_{unverified}": "1",
            },
        )
        assert response.status_code == 422, back
    assert client.get(f"/api/findings/{unverified}").json()["state"] == "open"
