"""The monthly assessment on a fixed synthetic month, on SQLite and PostgreSQL, against a golden file."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reports.assessment import assess_month, month_window
from reports.scoring import ScoringError, load_scoring
from store.assessments import (
    current_assessments,
    get_assessment,
    list_account_assessments,
    list_assessment_revisions,
)
from store.errors import InvalidInput, NotFound
from store.models import Assessment, Finding, Post
from tests.reports.synthetic import ASSESSED_AT, LATER, MONTH, Synthetic, build_month, decide_later, local

GOLDEN = Path(__file__).parent / "golden" / "assessment-2026-10.json"


def outcome(assessment: Assessment) -> dict[str, Any]:
    """What the golden file pins for one account: the score and every item behind it."""
    components = assessment.components
    return {
        "revision": assessment.revision,
        "total": assessment.total,
        "points": components["points"],
        "passed": assessment.passed,
        "vetoes": [[v["code"], v["label"], v["detail"], v["finding_ids"]] for v in assessment.veto_reasons],
        "deductions": [
            [d["code"], d["points"], d.get("finding_id"), d.get("capped", False)]
            for d in components["deductions"]
        ],
        "bonuses": [[b["code"], b["points"]] for b in components["bonuses"]],
        "posts": components["update"]["posts"],
        "longest_gap_days": components["update"]["longest_gap_days"],
        "service_share": components["service"]["share"],
        "wci": components["influence"]["wci"],
        "changes": [c["note"] for c in assessment.changes],
    }


def by_name(
    session_factory: sessionmaker[Session], synthetic: Synthetic, month: str = MONTH
) -> dict[str, Any]:
    names = {v: k for k, v in synthetic.accounts.items()}
    with session_factory() as session:
        current = current_assessments(session=session, month=month)
        return {names[a]: outcome(assessment) for a, assessment in sorted(current.items())}


def pin(actual: dict[str, Any], name: str) -> None:
    """Compare with the golden file (GOVWATCH_UPDATE_GOLDEN=1 rewrites it: review the diff)."""
    path = GOLDEN.with_name(GOLDEN.stem + f"-{name}.json")
    if os.environ.get("GOVWATCH_UPDATE_GOLDEN") == "1":
        path.write_text(
            json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert actual == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def synthetic(session_factory: sessionmaker[Session]) -> Synthetic:
    return build_month(session_factory)


def test_the_synthetic_month_matches_the_golden_file(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    summary = assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    assert (summary.accounts, summary.new, summary.passed, summary.failed, summary.vetoed) == (7, 7, 3, 4, 4)
    pin(by_name(session_factory, synthetic), "first")


def test_each_veto_reason_fails_the_account_whatever_its_points(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    result = by_name(session_factory, synthetic)
    f = synthetic.findings
    assert result["harmful"]["vetoes"][0][0] == "serious"
    # The harmful post and the wrong leader title (a serious expression error) are the evidence.
    assert result["harmful"]["vetoes"][0][3] == [f["harmful"], f["leader_title"]]
    assert [v[0] for v in result["inactive"]["vetoes"]] == ["inactive"]
    assert "2026-10-31 前 14 天内无更新，最近一次发布于 2026-10-10" in result["inactive"]["vetoes"][0][2]
    assert [v[0] for v in result["interaction"]["vetoes"]] == ["interaction"]
    assert result["compromised"]["vetoes"][0][:1] == ["compromised"]
    assert result["compromised"]["vetoes"][0][3] == [f["compromised"]]
    for name in ("harmful", "inactive", "interaction", "compromised"):
        assert not result[name]["passed"]
        # The shown score of a vetoed account is the file's vetoed_score (59); its points are kept.
        assert result[name]["total"] == 59
        assert result[name]["points"] >= 60
    for name in ("good", "capped", "sparse"):
        assert result[name]["vetoes"] == [] and result[name]["passed"]
    assert "closed" not in result


def test_a_category_cap_an_upheld_appeal_and_unconfirmed_findings(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    capped = by_name(session_factory, synthetic)["capped"]
    f = synthetic.findings
    marketing = [d for d in capped["deductions"] if d[0] == "finding.marketing"]
    # Six confirmed findings at 5 points each, capped at 20: the last two cost nothing.
    assert [d[1] for d in marketing] == [5, 5, 5, 5, 0, 0]
    assert [d[3] for d in marketing] == [False] * 4 + [True, True]
    deducted_ids = {d[2] for d in capped["deductions"]}
    assert f["appealed"] not in deducted_ids  # its appeal was upheld before the assessment
    assert f["open"] not in deducted_ids  # never reviewed, and the default file sets no auto-confirm
    assert f["later_dismissed"] in deducted_ids  # confirmed at the time of the first assessment
    assert capped["points"] == 100 - 20 - 5 + 5


def test_a_rerun_on_the_same_inputs_writes_nothing(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    again = assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT + timedelta(hours=2))
    assert (again.written, again.unchanged) == (0, 7)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 7


def test_a_later_decision_writes_a_new_revision_and_keeps_the_old(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    decide_later(session_factory, synthetic)
    # Assessed again before the decision's time: the same inputs, nothing new.
    assert (
        assess_month(session_factory=session_factory, month=MONTH, now=LATER - timedelta(hours=2)).written
        == 0
    )
    summary = assess_month(session_factory=session_factory, month=MONTH, now=LATER)
    assert (summary.revised, summary.unchanged) == (2, 5)
    pin(by_name(session_factory, synthetic), "revised")
    account_id = synthetic.accounts["capped"]
    with session_factory() as session:
        revisions = list_assessment_revisions(session=session, account_id=account_id, month=MONTH)
        assert [(r.revision, r.total) for r in revisions] == [(1, 80.0), (2, 85.0)]
        notes = [c["note"] for c in revisions[1].changes]
        assert "得分由 80 变为 85" in notes
        assert f"撤销扣分：发布未经核实信息（发现 #{synthetic.findings['later_dismissed']}） 5 分" in notes
        assert get_assessment(session=session, account_id=account_id, month=MONTH).revision == 2
        listed = list_account_assessments(session=session, account_id=account_id)
        assert [(a.month, a.revision) for a in listed] == [(MONTH, 2)]
        assert revisions[1].created_at == LATER
        assert revisions[0].scoring_version == revisions[1].scoring_version == "gw-2026.12"
        assert revisions[1].model_version == "m-test" and revisions[1].rules_version == "r-test"
        # The appeal upheld after the first assessment restores the 5 points its finding cost.
        good = list_assessment_revisions(session=session, account_id=synthetic.accounts["good"], month=MONTH)
        assert [(r.revision, r.total) for r in good] == [(1, 110.0), (2, 115.0)]
        appeal_note = f"发现 #{synthetic.findings['good_marketing']} 申诉成立，不再计入"
        assert appeal_note in [c["note"] for c in good[1].changes]
        assert good[1].components["deductions"] == []


def test_metrics_are_read_as_of_the_months_end(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    with session_factory() as session:
        good = get_assessment(session=session, account_id=synthetic.accounts["good"], month=MONTH)
    # 16 posts at 20,000 reads each when the month ended; the crawl on 5 November saw 100× more.
    assert good.components["influence"]["reads"] == 16 * 20000
    assert [b["code"] for b in good.components["bonuses"]] == ["influence"]


def test_month_boundaries_and_the_check_date_are_in_asia_shanghai(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    window = month_window(MONTH)
    assert window.start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert window.end == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert str(window.check_date) == "2026-10-31"
    account_id = synthetic.accounts["inactive"]
    with session_factory.begin() as session:
        # 23:30 on 31 October in Shanghai is October; 00:30 on 1 November is not, though both are
        # 31 October in UTC. Only the first one is a post in the two weeks before the check date.
        for key, at in (("late", local(31, 23)), ("next", datetime(2026, 10, 31, 16, 30, tzinfo=UTC))):
            session.add(
                Post(
                    account_id=account_id,
                    source_key=key,
                    text="x",
                    content_hash=key,
                    published_at=at,
                    fetched_at=at,
                )
            )
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    with session_factory() as session:
        quiet = get_assessment(session=session, account_id=account_id, month=MONTH)
    assert quiet.veto_reasons == []
    assert quiet.components["update"]["posts"] == 6


def test_an_auto_confirm_threshold_counts_unreviewed_findings(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    scoring = replace(load_scoring(), auto_confirm_threshold=0.95, version="auto-0.95")
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT, scoring=scoring)
    with session_factory() as session:
        capped = get_assessment(session=session, account_id=synthetic.accounts["capped"], month=MONTH)
    ids = [d["finding_id"] for d in capped.components["deductions"]]
    assert synthetic.findings["open"] in ids
    assert capped.scoring_version == "auto-0.95"


def test_a_running_month_gets_an_interim_check_revised_after_its_end(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    interim = assess_month(session_factory=session_factory, month=MONTH, now=local(20))
    assert interim.accounts == 7
    with session_factory() as session:
        quiet = get_assessment(session=session, account_id=synthetic.accounts["inactive"], month=MONTH)
        # On the 20th the last post (10 October) is 10 days old: no veto yet.
        assert quiet.veto_reasons == [] and quiet.components["check_date"] == "2026-10-20"
    final = assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    assert final.revised == 7
    with session_factory() as session:
        quiet = get_assessment(session=session, account_id=synthetic.accounts["inactive"], month=MONTH)
    assert quiet.revision == 2 and [v["code"] for v in quiet.veto_reasons] == ["inactive"]
    assert "新增单项否决：检查日前两周内未更新" in [c["note"] for c in quiet.changes]


def test_bad_months_regions_and_scoring_files_are_refused(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    for month in ("2026-13", "2026-1", "October"):
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            assess_month(session_factory=session_factory, month=month, now=ASSESSED_AT)
    with pytest.raises(InvalidInput, match="has not begun"):
        assess_month(session_factory=session_factory, month="2027-01", now=ASSESSED_AT)
    with pytest.raises(InvalidInput, match="region code"):
        assess_month(session_factory=session_factory, month=MONTH, region="99", now=ASSESSED_AT)
    with pytest.raises(InvalidInput, match="timezone"):
        assess_month(session_factory=session_factory, month=MONTH, now=datetime(2026, 11, 3))
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(ScoringError, match=r"\[veto\]"):
        load_scoring(bad)
    with session_factory() as session, pytest.raises(NotFound):
        get_assessment(session=session, account_id=1, month=MONTH)


def test_a_region_assesses_only_its_accounts(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    summary = assess_month(session_factory=session_factory, month=MONTH, region="150104", now=ASSESSED_AT)
    assert summary.accounts == 2  # 玉泉区人民政府 and 玉泉融媒
    with session_factory() as session:
        assert set(current_assessments(session=session, month=MONTH)) == {
            synthetic.accounts["interaction"],
            synthetic.accounts["sparse"],
        }


def test_a_new_finding_after_the_assessment_is_a_revision_that_names_it(
    session_factory: sessionmaker[Session], synthetic: Synthetic
) -> None:
    assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT)
    with session_factory.begin() as session:
        post_id = session.scalars(
            select(Post.id).where(Post.account_id == synthetic.accounts["sparse"]).order_by(Post.id)
        ).first()
        finding = Finding(
            account_id=synthetic.accounts["sparse"],
            post_id=post_id,
            category="marketing",
            score=0.7,
            source="model",
            model_version="m-new",
            rules_version="r-test",
            created_at=ASSESSED_AT + timedelta(days=1),
        )
        session.add(finding)
        session.flush()
        finding_id = finding.id
    summary = assess_month(session_factory=session_factory, month=MONTH, now=ASSESSED_AT + timedelta(days=2))
    assert (summary.revised, summary.unchanged) == (1, 6)
    with session_factory() as session:
        sparse = get_assessment(session=session, account_id=synthetic.accounts["sparse"], month=MONTH)
    assert sparse.revision == 2 and sparse.total == 79  # open findings cost nothing
    assert [c["note"] for c in sparse.changes] == [f"新增发现 #{finding_id}（商业营销，未计入）"]
    assert sparse.model_version == "m-new"
