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
