"""Can I send my campaign's failed emails again, or cancel what it has not sent yet?"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Email
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_campaign, add_emails, add_failures, make_account, reload
from tests.conftest import post_form


def emails(campaign) -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Email.status, Email.attempts).where(Email.campaign_id == campaign.id).order_by(Email.id)
    )
    return [tuple(row) for row in rows]


def press(client, campaign, action):
    return post_form(
        client,
        f"/campaigns/{campaign.id}/{action}",
        {},
        follow_redirects=True,
    )


@pytest.fixture
def completed(logged_in):
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    add_emails(campaign, 2, EmailStatus.SENT, sent_at=datetime(2026, 11, 26))
    add_emails(campaign, 3, EmailStatus.FAILED, attempts=5, next_attempt_at=datetime(2026, 11, 27))
    add_emails(campaign, 1, EmailStatus.CANCELLED)
    return campaign


def test_retry_failed_puts_them_back_to_pending_with_attempts_reset(client, completed, make_user):
    other = make_user()
    theirs = add_campaign(other, make_account(other), CampaignStatus.COMPLETED)
    add_emails(theirs, 2, EmailStatus.FAILED, attempts=5)

    response = press(client, completed, "retry-failed")
    assert "3 temporary failures of “Spring sale” will be tried again." in response.get_data(as_text=True)
    assert emails(completed) == [
        (EmailStatus.SENT, 0),
        (EmailStatus.SENT, 0),
        *[(EmailStatus.PENDING, 0)] * 3,
        (EmailStatus.CANCELLED, 0),
    ]
    retried = db.session.scalars(
        sa.select(Email).where(Email.campaign_id == completed.id, Email.status == "pending")
    )
    assert all(email.next_attempt_at is None for email in retried)
    assert (reload(completed).status, reload(completed).completed_at) == (CampaignStatus.SENDING, None)
    assert emails(theirs) == [(EmailStatus.FAILED, 5)] * 2


def test_retry_with_nothing_failed_or_on_a_cancelled_campaign_is_refused(client, logged_in):
    account = make_account(logged_in)
    clean = add_campaign(logged_in, account, CampaignStatus.COMPLETED, name="Clean")
    add_emails(clean, 1, EmailStatus.SENT)
    assert "“Clean” has no temporary failures to retry." in press(client, clean, "retry-failed").get_data(
        as_text=True
    )
    stopped = add_campaign(logged_in, account, CampaignStatus.CANCELLED, name="Stopped")
    add_emails(stopped, 1, EmailStatus.FAILED)
    page = press(client, stopped, "retry-failed").get_data(as_text=True)
    assert "“Stopped” is cancelled: its failed emails cannot be retried." in page
    assert emails(stopped) == [(EmailStatus.FAILED, 0)]


def test_cancel_pending_cancels_the_rest_and_a_sending_one_finishes(client, logged_in):
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.SENDING)
    add_emails(campaign, 1, EmailStatus.SENT)
    add_emails(campaign, 1, EmailStatus.SENDING)
    add_emails(campaign, 2, EmailStatus.QUEUED)
    add_emails(campaign, 3)
    assert "5 pending emails of “Spring sale” are cancelled." in press(
        client, campaign, "cancel-pending"
    ).get_data(as_text=True)
    assert [status for status, _ in emails(campaign)] == ["sent", "sending", *["cancelled"] * 5]
    assert (
        reload(campaign).status == CampaignStatus.SENDING
    )  # the engine completes it after the one in flight


@pytest.mark.parametrize("status", [CampaignStatus.SCHEDULED, CampaignStatus.PAUSED])
def test_cancel_pending_completes_a_campaign_with_nothing_left(client, logged_in, status):
    campaign = add_campaign(logged_in, make_account(logged_in), status)
    add_emails(campaign, 4)
    press(client, campaign, "cancel-pending")
    campaign = reload(campaign)
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.completed_at is not None
    assert emails(campaign) == [(EmailStatus.CANCELLED, 0)] * 4


def test_cancel_pending_on_a_completed_campaign_is_refused(client, completed):
    page = press(client, completed, "cancel-pending").get_data(as_text=True)
    assert "“Spring sale” is completed: it has no pending emails." in page


@pytest.fixture
def refused_and_busy(logged_in):
    """A completed campaign: 2 temporary failures given up on, 3 addresses refused for good."""
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    add_emails(campaign, 1, EmailStatus.SENT, sent_at=datetime(2026, 11, 26))
    add_failures(campaign)
    return campaign


def test_the_report_offers_permanent_failures_apart_with_a_count_and_a_warning(client, refused_and_busy):
    page = client.get(f"/campaigns/{refused_and_busy.id}/report").get_data(as_text=True)
    assert "Retry temporary failures (2)" in page
    assert "Retry permanent failures too (3)" in page
    assert (
        "these addresses were refused by the receiving server, or their message could not be built; "
        "retrying can hurt your sender reputation" in page
    )


def test_retry_failed_leaves_the_permanent_failures_failed(client, refused_and_busy):
    response = press(client, refused_and_busy, "retry-failed")
    assert "2 temporary failures of “Spring sale” will be tried again." in response.get_data(as_text=True)
    assert emails(refused_and_busy) == [
        (EmailStatus.SENT, 0),
        *[(EmailStatus.PENDING, 0)] * 2,
        *[(EmailStatus.FAILED, 1)] * 3,
    ]
    page = client.get(f"/campaigns/{refused_and_busy.id}/report").get_data(as_text=True)
    assert "Retry temporary failures" not in page
    assert "Retry permanent failures too (3)" in page


def test_retry_permanent_failures_too_sends_every_failed_email_again(client, refused_and_busy):
    response = press(client, refused_and_busy, "retry-all-failed")
    assert "5 failed emails of “Spring sale”, permanent failures included, will be tried again." in (
        response.get_data(as_text=True)
    )
    assert emails(refused_and_busy) == [(EmailStatus.SENT, 0), *[(EmailStatus.PENDING, 0)] * 5]
    assert reload(refused_and_busy).status == CampaignStatus.SENDING


def test_another_users_campaign_cannot_have_its_failures_retried(client, logged_in, make_user):
    other = make_user()
    theirs = add_campaign(other, make_account(other), CampaignStatus.COMPLETED)
    add_emails(theirs, 1, EmailStatus.FAILED, permanent_failure=True)
    assert press(client, theirs, "retry-all-failed").status_code == 404
    assert emails(theirs) == [(EmailStatus.FAILED, 0)]
