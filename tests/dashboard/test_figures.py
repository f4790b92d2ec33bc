"""Does the dashboard show exactly the user's own figures, in their time zone?"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from app.extensions import db
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_campaign, add_emails, make_account
from tests.dashboard.conftest import NOW

COOLDOWN_END = NOW + timedelta(minutes=30)
#: 00:00 IST on Thursday 26 Nov and on Monday 23 Nov, in UTC.
TODAY_STARTS = datetime(2026, 11, 25, 18, 30)
WEEK_STARTS = datetime(2026, 11, 22, 18, 30)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def history(logged_in, make_user, frozen_now):
    """The logged-in user (IST) with a known history on two accounts, and another user with more."""
    main = make_account(logged_in)
    cooling = make_account(logged_in, paused_until=COOLDOWN_END, pause_reason="451 4.7.1 slow down")
    done = add_campaign(logged_in, main, CampaignStatus.COMPLETED, name="Done")
    add_emails(done, 3, EmailStatus.SENT, sent_at=NOW - timedelta(hours=1))
    add_emails(done, 1, EmailStatus.SENT, sent_at=TODAY_STARTS)
    add_emails(done, 2, EmailStatus.SENT, sent_at=TODAY_STARTS - MINUTE)
    add_emails(done, 1, EmailStatus.SENT, sent_at=WEEK_STARTS)
    add_emails(done, 4, EmailStatus.SENT, sent_at=WEEK_STARTS - MINUTE)
    add_emails(done, 3, EmailStatus.FAILED, last_smtp_code=550, last_smtp_message="5.1.1 user unknown")
    add_emails(done, 2, EmailStatus.CANCELLED)
    add_emails(done, 1, EmailStatus.SUPPRESSED)
    sending = add_campaign(logged_in, main, name="Sending")
    add_emails(sending, 5)
    add_emails(sending, 2, EmailStatus.QUEUED)
    add_emails(sending, 1, EmailStatus.SENDING)
    later = add_campaign(
        logged_in, main, CampaignStatus.SCHEDULED, name="Later", scheduled_at=NOW + timedelta(days=1)
    )
    add_emails(later, 6, scheduled_at=NOW + timedelta(days=1))
    held = add_campaign(logged_in, cooling, name="Held")
    add_emails(held, 4)
    # Scheduled, not waiting on the rate limit: its start is after the cooldown.
    held_later = add_campaign(
        logged_in, cooling, CampaignStatus.SCHEDULED, name="Held later", scheduled_at=NOW + timedelta(hours=2)
    )
    add_emails(held_later, 2, scheduled_at=NOW + timedelta(hours=2))

    other = make_user()
    theirs = add_campaign(other, make_account(other, paused_until=COOLDOWN_END))
    for status in (EmailStatus.PENDING, EmailStatus.QUEUED, EmailStatus.FAILED, EmailStatus.CANCELLED):
        add_emails(theirs, 10, status)
    add_emails(theirs, 10, EmailStatus.SENT, sent_at=NOW - timedelta(minutes=5))
    add_emails(theirs, 10, scheduled_at=NOW + timedelta(days=1))
    return {"sending": sending, "later": later, "held": held, "held_later": held_later, "done": done}


EXPECTED = {
    "sent_today": 4,
    "sent_week": 7,
    "sent_total": 11,
    "pending": 8,
    "scheduled": 8,
    "rate_limited": 4,
    "failed": 3,
    "bounced": 0,
    "complained": 0,
    "replied": 0,
}


def test_stats_give_exactly_the_users_own_figures(client, history):
    stats = client.get("/dashboard/stats").get_json()
    assert stats["figures"] == EXPECTED


def test_the_page_shows_the_figures_the_cooldown_and_the_failures(client, history):
    page = client.get("/").get_data(as_text=True)
    for name, value in EXPECTED.items():
        assert f'data-figure="{name}">{value}<' in page
    assert "resumes 26 Nov 16:00 IST" in page
    assert "until 26 Nov 2026 16:00 IST (reply: 451 4.7.1 slow down)" in page
    assert page.count("550 5.1.1 user unknown") == 3
    assert "Next scheduled send" in page
    assert "Later</a>" in page


def test_a_week_starts_on_the_users_monday(client, logged_in, frozen_now):
    """In New York it is still Thursday morning, and Monday began at 05:00 UTC."""
    logged_in.timezone = "America/New_York"
    db.session.commit()
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    add_emails(campaign, 1, EmailStatus.SENT, sent_at=NOW.replace(hour=5) - timedelta(days=3))
    add_emails(campaign, 2, EmailStatus.SENT, sent_at=NOW.replace(hour=4, minute=59) - timedelta(days=3))
    add_emails(campaign, 3, EmailStatus.SENT, sent_at=NOW.replace(hour=4, minute=59))
    figures = client.get("/dashboard/stats").get_json()["figures"]
    assert (figures["sent_today"], figures["sent_week"], figures["sent_total"]) == (0, 4, 6)


def test_active_campaigns_show_progress_and_an_estimated_finish(client, history):
    stats = client.get("/dashboard/stats").get_json()
    assert set(stats["campaigns"]) == {
        str(history[name].id) for name in ("sending", "later", "held", "held_later")
    }
    sending = stats["campaigns"][str(history["sending"].id)]
    assert "0 of 8 sent" in sending
    assert 'aria-valuenow="0"' in sending
    # 8 left at the default 15 s apart: two minutes.
    assert "Estimated finish 26 Nov 15:32 IST" in sending


def test_nothing_in_flight_without_a_sending_or_due_campaign(client, logged_in, frozen_now):
    account = make_account(logged_in)
    add_campaign(logged_in, account, CampaignStatus.COMPLETED)
    add_campaign(logged_in, account, CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(hours=1))
    assert client.get("/dashboard/stats").get_json()["in_flight"] is False
    assert 'data-in-flight="false"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("status", [CampaignStatus.SENDING, CampaignStatus.SCHEDULED])
def test_a_sending_or_due_campaign_is_in_flight(client, logged_in, frozen_now, status):
    add_campaign(logged_in, make_account(logged_in), status)
    assert client.get("/dashboard/stats").get_json()["in_flight"] is True
    assert 'data-in-flight="true"' in client.get("/").get_data(as_text=True)


def test_another_users_sending_is_not_in_flight_for_me(client, logged_in, make_user, frozen_now):
    other = make_user()
    add_campaign(other, make_account(other), CampaignStatus.SENDING)
    stats = client.get("/dashboard/stats").get_json()
    assert (stats["in_flight"], stats["figures"], stats["campaigns"], stats["badges"]) == (
        False,
        dict.fromkeys(EXPECTED, 0),
        {},
        {},
    )
    assert sum(stats["charts"]["hours"]["counts"]) == sum(stats["charts"]["days"]["counts"]) == 0


def test_the_stats_need_a_login(client):
    response = client.get("/dashboard/stats")
    assert response.status_code == 302
    assert "/login" in response.location


def test_the_charts_count_sends_per_local_hour_and_day(client, history):
    page = client.get("/").get_data(as_text=True)
    charts = json.loads(
        re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page).group(1)
    )
    hours, days = charts["hours"], charts["days"]
    assert len(hours["labels"]) == 48
    assert hours["labels"][-1] == "26 Nov 15:00"
    assert hours["counts"][-2:] == [3, 0]  # 14:30 IST falls in the 14:00 hour
    assert dict(zip(hours["labels"], hours["counts"], strict=True))["26 Nov 00:00"] == 1
    assert sum(hours["counts"]) == 6  # the sends of today and of last night at 23:59
    assert len(days["labels"]) == 30
    assert days["labels"][-1] == "26 Nov"
    assert days["counts"][-5:] == [4, 1, 0, 2, 4]  # Sunday 22 … Thursday 26 Nov
    assert sum(days["counts"]) == 11


def test_hours_and_days_are_exact_where_the_zone_is_a_quarter_hour_off(client, logged_in, frozen_now):
    """In Kathmandu (UTC+05:45) it is 15:45: the hour began at 09:15 UTC, the day at 18:15 UTC."""
    logged_in.timezone = "Asia/Kathmandu"
    db.session.commit()
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    for sent_at, count in (
        (datetime(2026, 11, 25, 18, 14, 59), 1),
        (datetime(2026, 11, 25, 18, 15), 2),
        (datetime(2026, 11, 26, 9, 14, 59), 3),
        (datetime(2026, 11, 26, 9, 15), 4),
    ):
        add_emails(campaign, count, EmailStatus.SENT, sent_at=sent_at)
    charts = json.loads(
        re.search(r'id="chart-data">(.*?)</script>', client.get("/").get_data(as_text=True)).group(1)
    )
    assert charts["hours"]["labels"][-1] == "26 Nov 15:00"
    assert charts["hours"]["counts"][-2:] == [3, 4]
    assert charts["days"]["counts"][-2:] == [1, 9]
    assert client.get("/dashboard/stats").get_json()["figures"]["sent_today"] == 9


def test_a_send_shows_in_the_figures_at_once(client, history):
    client.get("/")
    add_emails(history["done"], 2, EmailStatus.SENT, sent_at=NOW - MINUTE)
    charts = json.loads(
        re.search(r'id="chart-data">(.*?)</script>', client.get("/").get_data(as_text=True)).group(1)
    )
    assert charts["days"]["counts"][-1] == 6
    assert charts["hours"]["counts"][-2:] == [3, 2]


def test_the_stats_carry_the_charts_the_page_draws(client, history):
    page = client.get("/").get_data(as_text=True)
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', page).group(1))
    assert client.get("/dashboard/stats").get_json()["charts"] == charts


def test_a_campaign_the_page_shows_is_followed_to_its_end(client, history, make_user):
    """The page names the campaigns it lists; one that completed since comes back completed."""
    done = history["done"]
    other = make_user()
    theirs = add_campaign(other, make_account(other), CampaignStatus.COMPLETED)
    add_emails(theirs, 1, EmailStatus.SENT, sent_at=NOW)
    shown = f"{history['sending'].id},{done.id},{theirs.id},oops"
    stats = client.get("/dashboard/stats", query_string={"shown": shown}).get_json()
    assert str(theirs.id) not in stats["campaigns"]
    assert str(theirs.id) not in stats["badges"]
    assert "11 of 17 sent, 3 failed" in stats["campaigns"][str(done.id)]
    assert "Estimated finish" not in stats["campaigns"][str(done.id)]
    assert ">completed</span>" in stats["badges"][str(done.id)]
    assert ">sending</span>" in stats["badges"][str(history["sending"].id)]


def test_the_stats_carry_the_cooldown_the_account_the_next_send_and_the_failures(client, history):
    html = client.get("/dashboard/stats").get_json()["html"]
    assert "resumes 26 Nov 16:00 IST" in html["resumes"]
    assert "until 26 Nov 2026 16:00 IST (reply: 451 4.7.1 slow down)" in html["accounts"]
    assert "Held later</a>\n  at 26 Nov 2026 17:30 IST." in html["next"]
    assert html["failures"].count("550 5.1.1 user unknown") == 3


def test_a_failure_shows_on_the_next_refresh(client, history):
    add_emails(
        history["sending"], 1, EmailStatus.FAILED, last_smtp_code=552, last_smtp_message="5.2.2 mailbox full"
    )
    assert "552 5.2.2 mailbox full" in client.get("/dashboard/stats").get_json()["html"]["failures"]
