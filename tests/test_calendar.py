"""Every day, ISO week, month and fiscal year is cut at local midnight in the coop's time zone,
DST included: each instant falls in exactly one span of each kind. A member's "earnings this
month", the board's figures, the weekly cap and the sensitive-minutes day all use that one
calendar, so an earning at 23:30 UTC on 30 November (00:30 on 1 December in Paris) counts for
December for the member and the board alike."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import calendar
from coop.board.operations import dashboard_figures, members_overview
from coop.delivery.operations import my_work
from coop.errors import DomainError
from coop.market.operations import check_limits
from coop.models import Earning, TaskState

PARIS = ZoneInfo("Europe/Paris")
US = 1e-6
ZONES = ["Europe/Paris", "UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia",
         "America/Santiago", "Asia/Kathmandu", "America/Havana"]


def test_a_late_november_evening_in_utc_is_december_in_paris():
    moment = datetime(2025, 11, 30, 23, 30)
    assert calendar.month_key(moment, PARIS) == "2025-12"
    assert calendar.month(moment, PARIS) == calendar.Span(datetime(2025, 11, 30, 23),
                                                          datetime(2025, 12, 31, 23))


def test_month_start_moves_with_summer_time():
    # 15 March 2026 in Paris is UTC+1: the month began at 23:00 UTC on 28 February.
    assert calendar.month(datetime(2026, 3, 15, 12), PARIS).start == datetime(2026, 2, 28, 23)
    # Just after midnight Paris time on 1 July (UTC+2) is already July.
    assert calendar.month(datetime(2026, 6, 30, 22, 30), PARIS).start == datetime(2026, 6, 30, 22)


def test_dst_days_last_23_and_25_hours():
    spring = calendar.day(datetime(2026, 3, 29, 12), PARIS)  # last Sunday of March
    assert spring == calendar.Span(datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22))
    autumn = calendar.day(datetime(2026, 10, 25, 12), PARIS)  # last Sunday of October
    assert autumn == calendar.Span(datetime(2026, 10, 24, 22), datetime(2026, 10, 25, 23))
    assert calendar.month(datetime(2026, 3, 29, 12), PARIS).end == datetime(2026, 3, 31, 22)


def test_iso_weeks_start_on_local_monday():
    # Sunday 23:30 UTC is already Monday in Paris: a new week.
    assert calendar.iso_week(datetime(2025, 11, 30, 23, 30), PARIS).start == datetime(
        2025, 11, 30, 23)
    assert calendar.iso_week(datetime(2025, 11, 30, 22, 30), PARIS).start == datetime(
        2025, 11, 23, 23)
    # ISO week 1 of 2026 starts on Monday 29 December 2025.
    week = calendar.iso_week(datetime(2026, 1, 1, 12), PARIS)
    assert week == calendar.Span(datetime(2025, 12, 28, 23), datetime(2026, 1, 4, 23))
    # The week holding the spring change is 167 hours long.
    assert calendar.iso_week(datetime(2026, 3, 26), PARIS).end - calendar.iso_week(
        datetime(2026, 3, 26), PARIS).start == timedelta(hours=167)


def test_fiscal_years():
    assert calendar.fiscal_year(datetime(2026, 3, 15), zone=PARIS) == calendar.Span(
        datetime(2025, 12, 31, 23), datetime(2026, 12, 31, 23))
    assert calendar.fiscal_year(datetime(2026, 3, 15), 7, PARIS) == calendar.Span(
        datetime(2025, 6, 30, 22), datetime(2026, 6, 30, 22))
    assert calendar.fiscal_year(datetime(2026, 7, 15), 7, PARIS).start == datetime(2026, 6, 30, 22)
    with pytest.raises(ValueError):
        calendar.fiscal_year(datetime(2026, 1, 1), 13)


def test_month_names_and_nanoseconds():
    assert calendar.shift_month("2025-01", -1) == "2024-12"
    assert calendar.shift_month("2025-12", 1) == "2026-01"
    span = calendar.month_span("2025-03", PARIS)
    assert span == calendar.Span(datetime(2025, 2, 28, 23), datetime(2025, 3, 31, 22))
    assert span.start_ns == 1740783600 * 10**9
    assert calendar.unix_ns(datetime(1970, 1, 1, 0, 0, 1, 5)) == 1_000_005_000


def test_the_app_zone_comes_from_config(app):
    app.config["TIMEZONE"] = "America/New_York"
    assert calendar.month_key(datetime(2025, 12, 1, 3)) == "2025-11"
    app.config["TIMEZONE"] = "Europe/Paris"
    assert calendar.month_key(datetime(2025, 12, 1, 3)) == "2025-12"


moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 1))
KINDS = {
    "day": calendar.day,
    "week": calendar.iso_week,
    "month": calendar.month,
    "fiscal": lambda m, z: calendar.fiscal_year(m, 4, z),
}


@settings(max_examples=300, deadline=None)
@given(moment=moments, zone=st.sampled_from(ZONES), kind=st.sampled_from(sorted(KINDS)))
def test_every_instant_falls_in_exactly_one_span(moment, zone, kind):
    zone = ZoneInfo(zone)
    span = KINDS[kind](moment, zone)
    assert moment in span and span.start < span.end
    # The spans tile time: the one after ends where this one ends, the one before ends here.
    assert KINDS[kind](span.end, zone).start == span.end
    assert KINDS[kind](span.start - timedelta(microseconds=1), zone).end == span.start


@settings(max_examples=300, deadline=None)
@given(moment=moments, zone=st.sampled_from(ZONES), kind=st.sampled_from(sorted(KINDS)))
def test_boundaries_are_local_midnights(moment, zone, kind):
    zone = ZoneInfo(zone)
    span = KINDS[kind](moment, zone)
    first = calendar.local_date(span.start, zone)
    # The first instant of a local day: midnight, or the end of a DST gap that swallowed it.
    assert calendar.local_date(span.start - timedelta(microseconds=1), zone) < first
    local = span.start.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    assert local.time().minute == 0 and local.hour in (0, 1)
    if kind == "week":
        assert first.isoweekday() == 1
    if kind in ("month", "fiscal"):
        assert first.day == 1
    if kind == "fiscal":
        assert first.month == 4


# -- everywhere "this month/week/day" is computed ------------------------------------------

LATE_NOVEMBER = datetime(2025, 11, 30, 23, 30)  # 00:30 on 1 December in Paris
DECEMBER_FIRST = datetime(2025, 12, 1, 10, 0)


def test_member_and_board_agree_on_this_months_earnings(app, make_task, make_member,
                                                        make_board):
    member, board = make_member(), make_board()
    task = make_task(state=TaskState.COMPLETED, member=member, completed_at=LATE_NOVEMBER)
    Earning.create(member=member, task=task, price_cents=1000, earnings_cents=920,
                   margin_cents=80, created_at=LATE_NOVEMBER)
    with app.test_request_context():
        start = calendar.month(DECEMBER_FIRST).start
        assert my_work(member, DECEMBER_FIRST).earnings_this_month_cents == 920
        assert dashboard_figures(board, start).earnings_month_cents == 920
        rows = {row.id: row for row in members_overview(board, start)}
        assert rows[member.id].earnings_month_cents == 920
        # At 22:30 UTC on 31 December it is still December in Paris; at midnight UTC it is
        # already January there, and the earning is last month's.
        assert my_work(member, datetime(2025, 12, 31, 22, 30)).earnings_this_month_cents == 920
        assert my_work(member, datetime(2026, 1, 1, 0, 0)).earnings_this_month_cents == 0


def test_the_weekly_cap_counts_the_local_week(app, make_task, make_member):
    from coop.params import current

    member = make_member()
    cap_minutes = current().weekly_hours_cap * 60
    # Taken on Sunday 23:30 UTC, which is Monday in Paris: it counts for the new week.
    make_task(state=TaskState.ASSIGNED, member=member, estimated_minutes=cap_minutes,
              assigned_at=LATE_NOVEMBER, price_cents=cap_minutes * 100)
    other = make_task(estimated_minutes=30)
    with app.test_request_context():
        with pytest.raises(DomainError, match="weekly cap"):
            check_limits(member, other, DECEMBER_FIRST)
        # A week later the cap is free again.
        check_limits(member, other, DECEMBER_FIRST + timedelta(days=7))


def test_the_sensitive_minutes_day_is_the_local_day(app, make_task, make_member):
    from coop.params import current

    member = make_member(sensitive_opt_in=True)
    limit = current().sensitive_minutes_per_day
    make_task(state=TaskState.ASSIGNED, member=member, estimated_minutes=limit, sensitive=True,
              assigned_at=LATE_NOVEMBER, price_cents=limit * 100)
    other = make_task(estimated_minutes=10, sensitive=True)
    with app.test_request_context():
        with pytest.raises(DomainError, match="Europe/Paris"):
            check_limits(member, other, DECEMBER_FIRST)
        check_limits(member, other, DECEMBER_FIRST + timedelta(days=1))
