"""Engine tests run with every deliberate pause set to zero unless a test asks otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.models import Campaign, SMTPSettings, User
from tests.builders import make_account, make_queued_campaign
from tests.smtp_sink import SMTPSink


def unpaused_settings(ca_file: str) -> dict[str, Any]:
    """The engine's settings with no deliberate pause, trusting the test sinks' certificate authority."""
    return {
        "SEND_INTERVAL": 0.0,
        "CONNECTION_SETTLE": 0.0,
        "DISPATCH_SPACING": 0.0,
        "SMTP_TIMEOUT": 5.0,
        "SMTP_TLS_CA_FILE": ca_file,
    }


@pytest.fixture
def app_settings(smtp_tls_files) -> dict[str, Any]:
    return unpaused_settings(smtp_tls_files.ca_file)


@pytest.fixture
def sender(make_user: Callable[..., User]) -> User:
    return make_user("sender")


@pytest.fixture
def account(sender: User, smtp_sink: SMTPSink) -> SMTPSettings:
    return make_account(sender, smtp_sink)


@pytest.fixture
def campaign_for() -> Callable[..., Campaign]:
    return make_queued_campaign
