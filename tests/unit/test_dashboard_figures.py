"""The dashboard's figures from counted cases, in the words of the shipped workflow definitions: what is
open, overdue and waiting follows the definitions (final states, queues), not a list kept here."""

from __future__ import annotations

import datetime as dt

from infra.catalogue import load_catalogue
from services.submissions.case_counts import Count, Counted
from services.submissions.dashboard import figures

AS_OF = dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)


def test_open_overdue_and_queues_follow_the_definitions() -> None:
    counted = Counted(
        AS_OF,
        [
            Count("skm", "submitted", cases=5, paused=0, overdue=2),
            Count("skm", "resubmitted", cases=3, paused=0, overdue=1),
            Count("skm", "revision_requested", cases=4, paused=4, overdue=1),
            Count("skm", "approved", cases=10, paused=0, overdue=6),  # overdue once, closed since
            Count("skm", "withdrawn", cases=1, paused=0, overdue=0),  # a status the definition no longer has
        ],
    )

    answer = figures(load_catalogue(), counted, 60)

    assert answer["as_of"] == "2026-11-29T07:00:00+00:00"
    skm = next(service for service in answer["services"] if service["service"] == "skm")
    assert (skm["cases"], skm["open"], skm["overdue"], skm["paused"]) == (23, 13, 4, 4)
    assert skm["queues"] == {"verifier": 8, "approver": 0}  # submitted and resubmitted both wait for a verifier
    assert skm["by_status"][0] == {"status": "submitted", "label": "Diajukan", "cases": 5}
    assert skm["by_status"][-1] == {"status": "withdrawn", "label": "withdrawn", "cases": 1}


def test_nothing_counted_yet_shows_every_service_at_zero_without_a_moment() -> None:
    answer = figures(load_catalogue(), Counted(None, []), 60)

    assert answer["as_of"] is None
    assert all(
        service["cases"] == 0 and set(service["queues"]) == {"verifier", "approver"} for service in answer["services"]
    )
