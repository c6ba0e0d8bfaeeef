"""The working-day clock as a pure function: holidays, days off, year ends, pauses and time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.submissions.clock import Calendar, ClockChange, sla_status

WITA = ZoneInfo("Asia/Makassar")
CUTI_BERSAMA_2026 = frozenset({dt.date(2026, 3, 20), dt.date(2026, 3, 23), dt.date(2026, 3, 24), dt.date(2026, 12, 24)})
BALIKPAPAN = Calendar("Asia/Makassar", CUTI_BERSAMA_2026, published_until=2026)


def at(day: str, time: str = "09:00", zone: ZoneInfo = WITA) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)


def test_weekends_public_holidays_and_collective_leave_are_not_working_days() -> None:
    assert BALIKPAPAN.is_working_day(dt.date(2026, 11, 27))  # a Friday
    assert not BALIKPAPAN.is_working_day(dt.date(2026, 11, 28))  # Saturday
    assert not BALIKPAPAN.is_working_day(dt.date(2026, 8, 17))  # Independence Day (holidays package)
    assert not BALIKPAPAN.is_working_day(dt.date(2026, 3, 23))  # cuti bersama (region configuration)
    assert Calendar("Asia/Makassar").is_working_day(dt.date(2026, 3, 23))  # ... which another region may not have


def test_one_day_used_is_one_working_day_of_running_time() -> None:
    status = sla_status(BALIKPAPAN, [ClockChange(at("2026-11-23", "10:00"), "running")], 15, at("2026-11-24", "10:00"))
    assert status.days_used == pytest.approx(1.0) and status.days_left == pytest.approx(14.0)
    assert status.running and not status.overdue


def test_a_weekend_costs_nothing() -> None:
    filed_friday = [ClockChange(at("2026-11-27", "10:00"), "running")]
    assert sla_status(BALIKPAPAN, filed_friday, 15, at("2026-11-30", "10:00")).days_used == pytest.approx(1.0)


def test_idul_fitri_and_its_collective_leave_stop_the_count() -> None:
    # Thu 19 Mar 2026 (Nyepi), Fri 20 (cuti), Sat 21 + Sun 22 (Idul Fitri), Mon 23 + Tue 24 (cuti).
    filed = [ClockChange(at("2026-03-18", "00:00"), "running")]
    assert sla_status(BALIKPAPAN, filed, 15, at("2026-03-25", "00:00")).days_used == pytest.approx(1.0)


def test_the_deadline_skips_christmas_and_new_year() -> None:
    # Filed Wed 23 Dec 2026 09:00 with 3 working days: the rest of the 23rd (0.625), then 24 (cuti
    # bersama), 25 (Christmas) and the weekend cost nothing; 28 and 29 Dec count, 30 Dec 09:00 is due.
    status = sla_status(BALIKPAPAN, [ClockChange(at("2026-12-23"), "running")], 3, at("2026-12-23"))
    assert status.due_at == at("2026-12-30")
    # On 4 Jan 2027 at noon: 0.625 + 28-31 Dec (4) + nothing for New Year's Day and the weekend + 0.5.
    late = sla_status(BALIKPAPAN, [ClockChange(at("2026-12-23"), "running")], 3, at("2027-01-04", "12:00"))
    assert late.overdue and late.days_used == pytest.approx(5.125)


def test_a_deadline_past_the_published_calendar_is_marked_estimated() -> None:
    status = sla_status(BALIKPAPAN, [ClockChange(at("2026-12-28"), "running")], 10, at("2026-12-28"))
    assert status.due_at is not None and status.due_at.year == 2027 and status.due_estimated


def test_pauses_stop_the_clock_and_resumption_restarts_it() -> None:
    changes = [
        ClockChange(at("2026-11-02"), "running"),  # Monday: filed
        ClockChange(at("2026-11-04"), "paused", reason="revision requested"),  # 2 days used
        ClockChange(at("2026-11-16"), "running"),  # resubmitted after two idle weeks
        ClockChange(at("2026-11-17"), "stopped"),  # decided: 3 days in all
    ]
    assert sla_status(BALIKPAPAN, changes, 15, at("2026-11-10")).days_used == pytest.approx(2.0)
    assert not sla_status(BALIKPAPAN, changes, 15, at("2026-11-10")).running
    final = sla_status(BALIKPAPAN, changes, 15, at("2026-12-30"))
    assert final.days_used == pytest.approx(3.0) and final.due_at is None and not final.overdue


def test_over_the_limit_is_overdue() -> None:
    status = sla_status(BALIKPAPAN, [ClockChange(at("2026-11-02"), "running")], 5, at("2026-11-10", "09:00:01"))
    assert status.overdue and status.days_left is not None and status.days_left < 0


@pytest.mark.parametrize(
    ("zone", "working"),
    [("Asia/Jakarta", True), ("Asia/Makassar", False), ("Asia/Jayapura", False)],
)
def test_the_same_instant_is_friday_in_wib_but_saturday_in_wita_and_wit(zone: str, working: bool) -> None:
    # Friday 27 Nov 2026 23:30 WIB = Saturday 00:30 WITA = Saturday 01:30 WIT.
    instant = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)
    calendar = Calendar(zone)
    assert calendar.is_working_day(calendar.local(instant).date()) is working
    # Twenty minutes from that instant: working time in WIB, nothing in the others.
    spent = calendar.working_time(instant, instant + dt.timedelta(minutes=20))
    assert spent == (dt.timedelta(minutes=20) if working else dt.timedelta())


def test_no_sla_means_no_deadline() -> None:
    status = sla_status(BALIKPAPAN, [ClockChange(at("2026-11-02"), "running")], None, at("2026-12-02"))
    assert status.due_at is None and not status.overdue and status.days_used > 20
