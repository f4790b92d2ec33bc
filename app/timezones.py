"""Time zones as the user sees them: names for forms and UTC conversions at the edges."""

from __future__ import annotations

from datetime import datetime

import pytz
from wtforms import SelectChoice

TIMEZONE_CHOICES: list[SelectChoice] = [
    SelectChoice(name, name.replace("_", " "), optgroup=name.split("/")[0] if "/" in name else "Other")
    for name in pytz.common_timezones
]


def is_known_timezone(name: str) -> bool:
    return name in pytz.all_timezones_set


def to_user_zone(moment: datetime, zone_name: str) -> datetime:
    """A naive UTC datetime as an aware datetime in the user's zone."""
    return pytz.utc.localize(moment).astimezone(pytz.timezone(zone_name))


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
