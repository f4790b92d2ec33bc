"""Time zones as the user sees them: names for forms, and every conversion between the naive UTC the
database stores and the user's wall clock.

pytz's `localize(..., is_dst=...)` is how a wall-clock time gets its zone here: `datetime(...,
tzinfo=zone)` would silently use the zone's first historical offset (LMT, e.g. +05:53 for
Asia/Kolkata), so it is never used.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytz
from wtforms import SelectChoice

TIMEZONE_CHOICES: list[SelectChoice] = [
    SelectChoice(name, name.replace("_", " "), optgroup=name.split("/")[0] if "/" in name else "Other")
    for name in pytz.common_timezones
]


class ScheduleTimeError(ValueError):
    """A local time that cannot be turned into one UTC moment; the message is for the user."""


def is_known_timezone(name: str) -> bool:
    return name in pytz.all_timezones_set


def to_user_zone(moment: datetime, zone_name: str) -> datetime:
    """A naive UTC datetime as an aware datetime in the user's zone."""
    return pytz.utc.localize(moment).astimezone(pytz.timezone(zone_name))


def to_user_clock(moment: datetime, zone_name: str) -> datetime:
    """A naive UTC datetime as the naive time the user's clock showed then (a spreadsheet has no zones)."""
    return to_user_zone(moment, zone_name).replace(tzinfo=None)


def to_utc(aware: datetime) -> datetime:
    """An aware datetime as the naive UTC the database stores."""
    return aware.astimezone(pytz.utc).replace(tzinfo=None)


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """The naive local wall-clock time `local` in `zone_name` (a time the user typed) as naive UTC.

    `is_dst=None` refuses a time that a DST change skips or repeats instead of guessing.
    """
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
        return to_utc(aware)
    except OverflowError:
        raise ScheduleTimeError(out_of_range) from None


def local_midnight(day: date, zone_name: str) -> datetime:
    """The UTC moment `day` starts in the zone (where midnight is skipped, the first hour that exists)."""
    return to_utc(pytz.timezone(zone_name).localize(datetime.combine(day, time()), is_dst=False))


def _day_and_time(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"


def in_both_zones(moment: datetime, chosen_zone: str, user_zone: str) -> str:
    """A naive UTC moment as the user chose it and as their own clock shows it:
    "Tue 8 Dec 09:00 in America/New_York — 15:00 your time (Europe/Paris)"; the day is repeated
    only when it differs. In the user's own zone: "Tue 8 Dec 09:00 your time (Europe/Paris)"."""
    own = to_user_zone(moment, user_zone)
    if chosen_zone == user_zone:
        return f"{_day_and_time(own)} your time ({user_zone})"
    chosen = to_user_zone(moment, chosen_zone)
    own_text = f"{own:%H:%M}" if own.date() == chosen.date() else _day_and_time(own)
    return f"{_day_and_time(chosen)} in {chosen_zone} — {own_text} your time ({user_zone})"
