"""Are the dashboard's hours and days the user's own, across a DST change too?"""

from __future__ import annotations

from datetime import datetime

from app.dashboard.periods import day_buckets, hour_buckets


def test_hours_follow_a_half_hour_zone():
    buckets = hour_buckets(datetime(2026, 11, 26, 10, 0), "Asia/Kolkata", 3)
    assert [(b.label, b.start, b.end) for b in buckets] == [
        ("26 Nov 13:00", datetime(2026, 11, 26, 7, 30), datetime(2026, 11, 26, 8, 30)),
        ("26 Nov 14:00", datetime(2026, 11, 26, 8, 30), datetime(2026, 11, 26, 9, 30)),
        ("26 Nov 15:00", datetime(2026, 11, 26, 9, 30), datetime(2026, 11, 26, 10, 30)),
    ]


def test_days_are_local_and_one_is_25_hours_long_when_the_clocks_go_back():
    buckets = day_buckets(datetime(2026, 11, 2, 12, 0), "America/New_York", 3)
    assert [(b.label, b.start, b.end) for b in buckets] == [
        ("31 Oct", datetime(2026, 10, 31, 4, 0), datetime(2026, 11, 1, 4, 0)),
        ("01 Nov", datetime(2026, 11, 1, 4, 0), datetime(2026, 11, 2, 5, 0)),
        ("02 Nov", datetime(2026, 11, 2, 5, 0), datetime(2026, 11, 3, 5, 0)),
    ]
