"""Is a date and time typed in a zone turned into the right UTC, a DST gap or overlap refused, and a
local day started at its own midnight?"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.timezones import ScheduleTimeError, local_midnight, local_to_utc, to_user_clock


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        # IST is +05:30 all year; `tzinfo=` would have used LMT (+05:53) and given 03:37.
        ("Asia/Kolkata", "2026-12-01 09:30", "2026-12-01 04:00"),
        ("Asia/Kolkata", "2026-06-30 00:15", "2026-06-29 18:45"),
        # New York: EST (-5) until 2026-03-08 02:00, EDT (-4) until 2026-11-01 02:00, then EST.
        ("America/New_York", "2026-03-08 01:59", "2026-03-08 06:59"),
        ("America/New_York", "2026-03-08 03:00", "2026-03-08 07:00"),
        ("America/New_York", "2026-07-04 12:00", "2026-07-04 16:00"),
        ("America/New_York", "2026-11-01 00:59", "2026-11-01 04:59"),
        ("America/New_York", "2026-11-01 02:00", "2026-11-01 07:00"),
        # Lord Howe Island moves by half an hour: +11 in its summer, +10:30 in its winter.
        ("Australia/Lord_Howe", "2026-01-15 12:00", "2026-01-15 01:00"),
        ("Australia/Lord_Howe", "2026-07-15 12:00", "2026-07-15 01:30"),
        ("Australia/Lord_Howe", "2026-10-04 01:59", "2026-10-03 15:29"),
        ("Australia/Lord_Howe", "2026-10-04 02:30", "2026-10-03 15:30"),
        ("Australia/Lord_Howe", "2026-04-05 02:00", "2026-04-04 15:30"),
    ],
)
def test_local_time_is_converted_to_utc(zone, local, utc):
    parsed = datetime.strptime(local, "%Y-%m-%d %H:%M")
    assert local_to_utc(parsed, zone) == datetime.strptime(utc, "%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("America/New_York", "2026-03-08 02:00"),
        ("America/New_York", "2026-03-08 02:30"),
        ("America/New_York", "2026-03-08 02:59"),
        ("Australia/Lord_Howe", "2026-10-04 02:00"),
        ("Australia/Lord_Howe", "2026-10-04 02:15"),
    ],
)
def test_time_skipped_by_the_clocks_going_forward_is_refused(zone, local):
    with pytest.raises(ScheduleTimeError, match=f"does not exist in {zone}: the clocks go forward"):
        local_to_utc(datetime.strptime(local, "%Y-%m-%d %H:%M"), zone)


@pytest.mark.parametrize(
    ("zone", "local", "twice"),
    [
        ("America/New_York", "2026-11-01 01:30", r"\(01:30 EDT and again at 01:30 EST\)"),
        ("America/New_York", "2026-11-01 01:00", r"\(01:00 EDT and again at 01:00 EST\)"),
        ("Australia/Lord_Howe", "2026-04-05 01:45", r"happens twice in Australia/Lord_Howe"),
    ],
)
def test_time_repeated_by_the_clocks_going_back_is_refused(zone, local, twice):
    with pytest.raises(ScheduleTimeError, match=twice):
        local_to_utc(datetime.strptime(local, "%Y-%m-%d %H:%M"), zone)


@pytest.mark.parametrize(
    ("zone", "day", "utc"),
    [
        ("Asia/Kolkata", date(2026, 12, 3), datetime(2026, 12, 2, 18, 30)),
        ("Europe/Paris", date(2026, 3, 29), datetime(2026, 3, 28, 23, 0)),
        # São Paulo's clocks went from 00:00 to 01:00 that night: the day began at 01:00 local.
        ("America/Sao_Paulo", date(2018, 11, 4), datetime(2018, 11, 4, 3, 0)),
    ],
)
def test_a_local_day_starts_at_its_first_moment_in_utc(zone, day, utc):
    assert local_midnight(day, zone) == utc


def test_a_stored_utc_time_reads_as_the_users_wall_clock():
    assert to_user_clock(datetime(2026, 7, 1, 12, 0), "Europe/Paris") == datetime(2026, 7, 1, 14, 0)
