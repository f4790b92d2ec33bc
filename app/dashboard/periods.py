"""Hours and days as the user lives them, turned into the UTC bounds the database counts between.

The bounds are computed here rather than in SQL so that one portable query (a range count per bucket)
serves SQLite and PostgreSQL alike, and a day is the user's local day even across a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.timezones import local_midnight, to_user_zone, to_utc

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Bucket:
    """A span [start, end) in naive UTC, with its label in the user's zone."""

    label: str
    start: datetime
    end: datetime


def hour_buckets(now: datetime, zone_name: str, hours: int) -> list[Bucket]:
    """The last `hours` local clock hours, the current one last."""
    local_now = to_user_zone(now, zone_name)
    current = to_utc(local_now.replace(minute=0, second=0, microsecond=0))
    starts = [current - HOUR * back for back in range(hours - 1, -1, -1)]
    return [
        Bucket(to_user_zone(start, zone_name).strftime("%d %b %H:%M"), start, start + HOUR)
        for start in starts
    ]


def day_buckets(now: datetime, zone_name: str, days: int) -> list[Bucket]:
    """The last `days` local calendar days, today last."""
    today = to_user_zone(now, zone_name).date()
    dates = [today - timedelta(days=back) for back in range(days - 1, -2, -1)]
    midnights = [local_midnight(day, zone_name) for day in dates]
    return [
        Bucket(day.strftime("%d %b"), start, end)
        for day, start, end in zip(dates, midnights, midnights[1:], strict=False)
    ]


def days_this_week(now: datetime, zone_name: str) -> int:
    """How many local days of this week (from Monday) have begun, today included."""
    return to_user_zone(now, zone_name).weekday() + 1
