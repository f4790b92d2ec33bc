"""Does the campaign page's live refresh keep up with the campaign: when to look again, its buttons,
its bar with failures apart, and its account's cooldown with "Resume now"?"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import CampaignRecipient, Email, SMTPSettings
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_campaign, add_draft, add_emails, make_account
from tests.conftest import csrf_token_from, post_form

#: 15:30 in India (the users' default zone, UTC+05:30).
NOW = datetime(2026, 11, 26, 10, 0)
REPLY = "451 4.7.1 Too many messages, slow down"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW


def stats_of(client, campaign) -> dict:
    return client.get(f"/campaigns/{campaign.id}/stats").get_json()


def test_a_campaign_scheduled_for_later_is_looked_at_again_when_it_is_due(client, logged_in):
    campaign = add_campaign(
        logged_in,
        make_account(logged_in),
        CampaignStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=5),
    )
    stats = stats_of(client, campaign)
    assert (stats["in_flight"], stats["starts_in"]) == (False, 300)
    for page in ("", "/report"):
        html = client.get(f"/campaigns/{campaign.id}{page}").get_data(as_text=True)
        assert 'data-in-flight="false" data-starts-in="300.0"' in html


@pytest.mark.parametrize(
    "status", [CampaignStatus.COMPLETED, CampaignStatus.PAUSED, CampaignStatus.CANCELLED]
)
def test_a_campaign_the_engine_is_not_on_is_not_looked_at_again(client, logged_in, status):
    campaign = add_campaign(logged_in, make_account(logged_in), status, scheduled_at=NOW + timedelta(hours=1))
    stats = stats_of(client, campaign)
    assert (stats["in_flight"], stats["starts_in"]) == (False, None)


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (CampaignStatus.SCHEDULED, ["Edit", "Back to draft", "Pause", "Cancel campaign"]),
        (CampaignStatus.SENDING, ["Pause", "Cancel campaign"]),
        (CampaignStatus.PAUSED, ["Resume", "Cancel campaign"]),
        (CampaignStatus.COMPLETED, []),
        (CampaignStatus.CANCELLED, []),
    ],
)
def test_the_live_buttons_are_those_of_the_campaigns_status(client, logged_in, status, offered):
    campaign = add_campaign(logged_in, make_account(logged_in), status)
    actions = stats_of(client, campaign)["html"]["actions"]
    labels = ["Edit", "Back to draft", "Pause", "Resume", "Cancel campaign"]
    assert [label for label in labels if f">{label}</" in actions] == offered
    assert ">Duplicate</button>" in actions
    assert ">Delete</a>" in actions
    assert 'name="csrf_token"' in actions


def test_the_bar_shows_sent_failed_and_skipped_apart_from_what_remains(client, logged_in):
    campaign = add_campaign(logged_in, make_account(logged_in))
    add_emails(campaign, 5, EmailStatus.SENT, sent_at=NOW)
    add_emails(campaign, 2, EmailStatus.FAILED)
    add_emails(campaign, 1, EmailStatus.SUPPRESSED)
    add_emails(campaign, 2)
    bar = stats_of(client, campaign)["campaigns"][str(campaign.id)]
    assert "5 of 10 sent, 2 failed, 1 skipped as suppressed, 2 to go" in bar
    assert 'aria-valuenow="80"' in bar
    assert 'bg-success" data-progress-part="sent" style="width: 50.000%"' in bar
    assert 'bg-danger" data-progress-part="failed" style="width: 20.000%"' in bar
    assert 'bg-secondary" data-progress-part="skipped" style="width: 10.000%"' in bar


def test_a_cooldown_shows_its_reply_and_the_time_it_lifts_in_the_users_zone(client, logged_in):
    account = make_account(logged_in, paused_until=NOW + timedelta(minutes=45), pause_reason=REPLY)
    campaign = add_campaign(logged_in, account)
    cooldown = stats_of(client, campaign)["html"]["cooldown"]
    assert "sends again at" in cooldown
    assert "<strong>16:15 IST</strong>" in cooldown
    assert f"(its reply: “{REPLY}”)" in cooldown
    assert f'action="/campaigns/{campaign.id}/resume-sending"' in cooldown
    assert ">Resume now</button>" in cooldown
    assert "Resume now" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)


def test_a_cooldown_that_has_lifted_is_not_shown(client, logged_in):
    account = make_account(logged_in, paused_until=NOW - timedelta(seconds=1), pause_reason=REPLY)
    assert stats_of(client, add_campaign(logged_in, account))["html"]["cooldown"].strip() == ""


def test_resume_now_lifts_the_cooldown_and_frees_the_held_emails(client, logged_in):
    account = make_account(logged_in, paused_until=NOW + timedelta(hours=1), pause_reason=REPLY)
    campaign = add_campaign(logged_in, account)
    add_emails(campaign, 2, rate_limit_retry_at=NOW + timedelta(hours=1))
    page = f"/campaigns/{campaign.id}"
    response = post_form(client, f"{page}/resume-sending", {}, follow_redirects=True)
    assert "Sending resumes now." in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(SMTPSettings, account.id)
    assert (stored.paused_until, stored.pause_reason) == (None, None)
    assert db.session.scalars(
        sa.select(Email.rate_limit_retry_at).where(Email.campaign_id == campaign.id)
    ).all() == [
        None,
        None,
    ]


def test_resume_now_without_a_cooldown_says_so(client, logged_in):
    campaign = add_campaign(logged_in, make_account(logged_in))
    page = f"/campaigns/{campaign.id}"
    response = post_form(client, f"{page}/resume-sending", {}, follow_redirects=True)
    assert "Your SMTP account is not cooling down" in response.get_data(as_text=True)


def test_resume_now_needs_the_forms_token(client, logged_in):
    account = make_account(logged_in, paused_until=NOW + timedelta(hours=1), pause_reason=REPLY)
    campaign = add_campaign(logged_in, account)
    assert client.post(f"/campaigns/{campaign.id}/resume-sending").status_code == 400
    db.session.expire_all()
    assert db.session.get(SMTPSettings, account.id).paused_until is not None


def test_resume_now_on_another_users_campaign_is_a_404_and_leaves_their_cooldown(
    client, logged_in, make_user
):
    other = make_user()
    theirs = make_account(other, paused_until=NOW + timedelta(hours=1), pause_reason=REPLY)
    campaign = add_campaign(other, theirs)
    token = csrf_token_from(client.get("/campaigns/"))
    response = client.post(f"/campaigns/{campaign.id}/resume-sending", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get(f"/campaigns/{campaign.id}/stats").status_code == 404
    db.session.expire_all()
    assert db.session.get(SMTPSettings, theirs.id).paused_until is not None


def test_cancel_campaign_asks_first(client, logged_in):
    campaign = add_campaign(logged_in, make_account(logged_in), name="Winter sale")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'data-confirm="Cancel “Winter sale” for good?' in page
    assert "/static/campaigns/confirm.js" in page


def test_a_new_draft_lists_what_it_needs_in_one_notice(client, logged_in):
    draft = add_draft(logged_in, html_body="<p>Hello {{ company }}</p>")
    page = client.get(f"/campaigns/{draft.id}").get_data(as_text=True)
    assert page.count('role="alert"') == 1
    notice = page[page.index('id="campaign-notice"') :]
    for need in ("recipients: <a", "an SMTP account to send through", "{{ company }} is not a field"):
        assert need in notice


def test_a_ready_draft_has_no_notice(client, logged_in):
    make_account(logged_in)
    draft = add_draft(logged_in, html_body="<p>Hello {{ name }}</p>")
    db.session.add(
        CampaignRecipient(user_id=logged_in.id, campaign_id=draft.id, address="a@example.com", position=0)
    )
    db.session.commit()
    assert 'id="campaign-notice"' not in client.get(f"/campaigns/{draft.id}").get_data(as_text=True)


HELD = "RCPT failed: 554 5.7.1 Relay access denied — The server will not pass your mail on"


def test_a_held_account_shows_what_the_provider_said_and_what_to_do_with_try_again(client, logged_in):
    account = make_account(logged_in, held=True, last_error=HELD, last_error_at=NOW)
    campaign = add_campaign(logged_in, account)
    notice = stats_of(client, campaign)["html"]["cooldown"]
    assert "is held, and nothing of this campaign is lost" in notice
    assert HELD in notice
    assert f'action="/campaigns/{campaign.id}/release-account"' in notice
    assert ">Try again</button>" in notice

    page = f"/campaigns/{campaign.id}"
    response = post_form(client, f"{page}/release-account", {}, follow_redirects=True)
    assert "Sending starts again." in response.get_data(as_text=True)
    db.session.expire_all()
    released = db.session.get(SMTPSettings, account.id)
    assert (released.held, released.last_error) == (False, None)
    assert stats_of(client, campaign)["html"]["cooldown"].strip() == ""


def test_try_again_on_another_users_campaign_is_a_404_and_leaves_their_account_held(
    client, logged_in, make_user
):
    other = make_user()
    theirs = make_account(other, held=True, last_error=HELD, last_error_at=NOW)
    campaign = add_campaign(other, theirs)
    token = csrf_token_from(client.get("/campaigns/"))
    assert (
        client.post(f"/campaigns/{campaign.id}/release-account", data={"csrf_token": token}).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(SMTPSettings, theirs.id).held is True
