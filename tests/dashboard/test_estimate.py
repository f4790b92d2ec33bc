"""When will a campaign finish, given its account's interval and caps?"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.dashboard.estimate import Queued, estimated_finishes, seconds_per_email
from app.models import SMTPSettings
from config import Config
from tests.dashboard.conftest import NOW


@pytest.mark.parametrize(
    ("fields", "pace"),
    [
        ({}, 15),
        ({"send_interval": 2}, 2),
        ({"send_interval": 2, "hourly_cap": 600}, 6),
        ({"send_interval": 1, "hourly_cap": 3600, "daily_cap": 8640}, 10),
    ],
)
def test_the_pace_is_the_slowest_of_interval_and_caps(fields, pace):
    assert seconds_per_email(SMTPSettings(**fields), 15) == pace


def test_campaigns_on_one_account_finish_one_after_another_in_schedule_order():
    account = SMTPSettings(send_interval=10)
    queue = [Queued(2, NOW + timedelta(minutes=1), 6), Queued(1, NOW, 3)]
    assert estimated_finishes(queue, account, 15, NOW) == {
        1: NOW + timedelta(seconds=30),
        2: NOW + timedelta(minutes=1, seconds=60),
    }


def test_a_cooldown_or_a_later_schedule_delays_the_start():
    cooling = SMTPSettings(send_interval=1, paused_until=NOW + timedelta(hours=1))
    assert estimated_finishes([Queued(1, NOW, 60)], cooling, 15, NOW) == {
        1: NOW + timedelta(hours=1, minutes=1)
    }
    idle = SMTPSettings(send_interval=1)
    later = NOW + timedelta(days=1)
    assert estimated_finishes([Queued(1, later, 60)], idle, 15, NOW) == {1: later + timedelta(minutes=1)}


def test_a_thousand_recipients_at_the_shipped_interval_take_about_four_hours():
    """README, Troubleshooting: 1,000 × 15 s is about four hours and ten minutes; at 1 s, 17 minutes."""
    shipped = Config.SEND_INTERVAL
    [default_finish] = estimated_finishes([Queued(1, NOW, 1000)], SMTPSettings(), shipped, NOW).values()
    assert default_finish - NOW == timedelta(hours=4, minutes=10)
    [fast_finish] = estimated_finishes(
        [Queued(1, NOW, 1000)], SMTPSettings(send_interval=1), shipped, NOW
    ).values()
    assert timedelta(minutes=16) < fast_finish - NOW < timedelta(minutes=17)
