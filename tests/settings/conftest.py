"""Helpers for the settings pages: a valid SMTP form and a way to save it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import SMTPSettings
from app.smtp_crypto import decrypt_password
from tests.conftest import post_form

SMTP_PASSWORD = "pw-Plaintext-7731"
VALID_SMTP = {
    "preset": "",
    "host": "smtp.example.com",
    "port": "587",
    "security": "starttls",
    "username": "asha@example.com",
    "password": SMTP_PASSWORD,
    "from_address": "asha@example.com",
    "from_name": "Asha from Spice Co",
    "reply_to": "",
    "send_interval": "",
    "batch_size": "",
    "hourly_cap": "",
    "daily_cap": "",
}


@pytest.fixture
def submit_smtp(client: FlaskClient) -> Callable[..., TestResponse]:
    """Post the SMTP form (to /settings/smtp, or `url`) with VALID_SMTP changed by `changes`."""

    def submit(url: str = "/settings/smtp", **changes: Any) -> TestResponse:
        return post_form(client, url, {**VALID_SMTP, **changes})

    return submit


def accounts() -> list[SMTPSettings]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SMTPSettings).order_by(SMTPSettings.id)))


def saved_password() -> str:
    """The first account's password, decrypted with the current key."""
    return decrypt_password(accounts()[0].password_encrypted)
