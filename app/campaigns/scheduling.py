"""A date and time the user typed, in a named zone, turned into the UTC the engine schedules by.

pytz's `localize(..., is_dst=None)` refuses a wall-clock time that a DST change skips or repeats
instead of guessing; `datetime(..., tzinfo=zone)` would silently use the zone's first historical
offset (LMT, e.g. +05:53 for Asia/Kolkata), so it is never used here.
"""

from __future__ import annotations

from datetime import datetime

import pytz


class ScheduleTimeError(ValueError):
    """A local time that cannot be turned into one UTC moment; the message is for the user."""


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """The naive local wall-clock time `local` in `zone_name` as naive UTC."""
    zone = pytz.timezone(zone_name)
    shown = f"{local:%d %b %Y %H:%M}"
    out_of_range = f"{shown} in {zone_name} is outside the dates that can be stored."
    try:
        aware = zone.localize(local, is_dst=None)
    except pytz.NonExistentTimeError:
        raise ScheduleTimeError(
            f"{shown} does not exist in {zone_name}: the clocks go forward at that moment. "
            "Please choose a time outside the skipped interval."
        ) from None
    except pytz.AmbiguousTimeError:
        first = zone.localize(local, is_dst=True).strftime("%H:%M %Z")
        second = zone.localize(local, is_dst=False).strftime("%H:%M %Z")
        raise ScheduleTimeError(
            f"{shown} happens twice in {zone_name} ({first} and again at {second}): the clocks go back "
            "at that moment. Please choose a time outside the repeated interval."
        ) from None
    except OverflowError:  # 31 Dec 9999 west of UTC, 1 Jan 0001 east of it
        raise ScheduleTimeError(out_of_range) from None
    try:
        return aware.astimezone(pytz.utc).replace(tzinfo=None)
    except OverflowError:
        raise ScheduleTimeError(out_of_range) from None
