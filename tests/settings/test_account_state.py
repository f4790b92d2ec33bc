"""Does the page tell me honestly what the engine is doing with my account, and only mine?"""

from datetime import datetime

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Email, SMTPSettings
from app.states import EmailStatus
from tests.builders import make_queued_campaign
from tests.conftest import post_form
from tests.settings.conftest import accounts

NOW = datetime(2026, 11, 26, 8, 0)  # 13:30 IST


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


@pytest.fixture
def account(client, logged_in, submit_smtp, frozen_clock):
    submit_smtp()
    return accounts()[0]


def settings_page(client) -> str:
    return client.get("/settings/").get_data(as_text=True)


def pause(account, until, reason="451 4.7.1 Ratelimit exceeded"):
    account.paused_until, account.pause_reason = until, reason
    db.session.commit()


def test_cooldown_is_shown_in_my_time_zone_with_the_reply(client, account):
    pause(account, datetime(2026, 11, 26, 8, 35))
    page = settings_page(client)
    assert "Rate-limited by your provider until 14:05 IST (reply: 451 4.7.1 Ratelimit exceeded)." in page
    assert "Resume now" in page


def test_cooldown_ending_another_day_shows_the_date(client, account, logged_in):
    logged_in.timezone = "America/New_York"
    pause(account, datetime(2026, 11, 27, 1, 0))
    assert "Rate-limited by your provider until 20:00 EST (reply:" in settings_page(client)
    pause(account, datetime(2026, 11, 27, 15, 0))
    assert "Rate-limited by your provider until 10:00 EST on 27 Nov" in settings_page(client)


def test_cooldown_in_the_past_is_not_shown(client, account):
    pause(account, datetime(2026, 11, 26, 7, 59))
    page = settings_page(client)
    assert "Rate-limited" not in page
    assert "Resume now" not in page


def test_last_account_error_and_verification_are_shown(client, account):
    account.last_error = "535 5.7.8 Authentication failed"
    account.last_error_at = datetime(2026, 11, 26, 7, 0)
    db.session.commit()
    page = settings_page(client)
    assert "535 5.7.8 Authentication failed" in page
    assert "26 Nov 2026 12:30 IST" in page
    assert "not yet: send a test email" in page


def test_emails_waiting_counts_my_pending_emails_only(client, account, make_user):
    campaign = make_queued_campaign(account, 4)
    db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == campaign.id, Email.address == "r00000@rcpt.example")
        .values(status=EmailStatus.SENT)
    )
    db.session.commit()
    assert '<dt class="col-sm-3">Emails waiting</dt>\n    <dd class="col-sm-9">3</dd>' in settings_page(
        client
    )


def test_resume_now_ends_the_cooldown_and_releases_held_emails(client, account):
    campaign = make_queued_campaign(account, 2)
    held = db.session.scalars(sa.select(Email).where(Email.campaign_id == campaign.id)).first()
    held.rate_limit_retry_at = datetime(2026, 11, 26, 8, 35)
    pause(account, datetime(2026, 11, 26, 8, 35))

    response = post_form(client, "/settings/smtp/resume", {}, follow_redirects=True)
    assert "Sending resumes now." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (account.paused_until, account.pause_reason) == (None, None)
    assert held.rate_limit_retry_at is None


def test_another_user_can_neither_read_nor_change_my_account(client, auth, account, make_user, submit_smtp):
    """Two users, one server: can Ravi see or touch Asha's SMTP account?"""
    make_queued_campaign(account, 2)
    pause(account, datetime(2026, 11, 26, 8, 35))
    auth.logout()
    ravi = make_user("ravi")
    auth.login("ravi")

    page = settings_page(client)
    assert 'value="smtp.example.com"' not in page
    assert 'value="Asha from Spice Co"' not in page
    assert "Rate-limited" not in page

    post_form(client, "/settings/smtp/resume", {})
    sent = post_form(client, "/settings/smtp/send-test", {}, follow_redirects=True)
    assert "Save your SMTP account first." in sent.get_data(as_text=True)
    submit_smtp(host="smtp.ravi.example", from_address="ravi@example.com", from_name="Ravi")

    mine, ravis = accounts()
    assert (mine.host, mine.from_name, mine.user_id) == (
        "smtp.example.com",
        "Asha from Spice Co",
        account.user_id,
    )
    assert mine.paused_until is not None, "Ravi's resume must not end Asha's cooldown"
    assert (ravis.host, ravis.user_id) == ("smtp.ravi.example", ravi.id)


def test_saving_new_settings_clears_the_account_error_so_sending_retries_at_once(
    client, account, submit_smtp
):
    account.last_error, account.last_error_at = "AUTH failed: 535 5.7.8 Authentication failed", NOW
    db.session.commit()
    submit_smtp(password="the-right-one")
    fixed = accounts()[0]
    assert fixed.last_error is None
    assert fixed.last_error_at is None


def hold(account: SMTPSettings, reason: str) -> None:
    account.last_error, account.last_error_at, account.held = reason, NOW, True
    db.session.commit()


def test_a_held_account_says_what_the_provider_said_and_offers_try_again(client, account):
    hold(account, "RCPT failed: 554 5.7.1 Relay access denied — The server will not pass your mail on")
    page = settings_page(client)
    assert "Sending is held: RCPT failed: 554 5.7.1 Relay access denied — The server will not" in page
    assert "Try again" in page

    response = post_form(client, "/settings/smtp/try-again", {}, follow_redirects=True)
    assert "Sending starts again." in response.get_data(as_text=True)
    released = accounts()[0]
    assert (released.held, released.last_error) == (False, None)


def test_saving_the_settings_releases_a_held_account(client, account, submit_smtp):
    hold(account, "MAIL failed: 550 5.7.60 SendAsDenied")
    submit_smtp(from_address="asha@spice.example")
    assert accounts()[0].held is False


def test_another_user_cannot_release_my_held_account(client, auth, account, make_user):
    hold(account, "MAIL failed: 550 5.7.60 SendAsDenied")
    auth.logout()
    make_user("ravi")
    auth.login("ravi")
    post_form(client, "/settings/smtp/try-again", {})
    assert accounts()[0].held is True
