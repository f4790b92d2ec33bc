"""Helpers every template can use."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Flask
from flask_login import current_user
from wtforms import Field
from wtforms.widgets import Select

from app.sending.replies import smtp_reply
from app.states import DELIVERED
from app.timezones import to_user_zone
from app.wording import counted


def user_time(moment: datetime | None, fmt: str = "%d %b %Y %H:%M %Z") -> str:
    """A stored UTC time shown in the logged-in user's zone."""
    if moment is None:
        return ""
    zone = current_user.timezone if current_user.is_authenticated else "UTC"
    return to_user_zone(moment, zone).strftime(fmt)


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(user_time, "user_time")
    app.add_template_filter(counted, "counted")
    app.add_template_global(smtp_reply, "smtp_reply")
    app.add_template_global(delivered, "delivered")
    app.add_template_test(renders_a_select, "select_field")


def renders_a_select(field: Field) -> bool:
    """Whether a form field renders as a `<select>` (Bootstrap styles those apart), whatever its class."""
    return isinstance(field.widget, Select)


def delivered(counts: Mapping[str, int]) -> int:
    """Emails that went out, whatever their mailbox heard afterwards (bounced, complained, replied)."""
    return sum(counts.get(status, 0) for status in DELIVERED)
