"""Marking a campaign's hard bounces: only a permanent failure of the mailbox itself suppresses an address."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Suppression
from app.sending.classify import is_mailbox_failure
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_emails, make_account, make_campaign
from tests.conftest import post_form


@pytest.mark.parametrize(
    ("code", "reply", "bounced"),
    [
        (550, "550 5.1.1 <a@rcpt.example>: user unknown", True),
        (550, "550 5.1.10 RESOLVER.ADR.RecipientNotFound", True),
        (550, "5.2.1 The email account that you tried to reach is disabled", True),
        (550, "550 Requested action not taken: mailbox unavailable", True),
        (551, "551 No such user here", True),
        (550, "550 Recipient address does not exist", True),
        (552, "5.2.2 Mailbox full", False),
        (550, "5.7.1 Message rejected as spam", False),
        (553, "553 5.1.8 Sender address domain does not exist", False),
        (450, "450 4.1.1 user unknown (try again)", False),
        (None, "The message could not be built: bad template", False),
    ],
)
def test_only_a_permanent_mailbox_failure_counts_as_a_bounce(code, reply, bounced):
    assert is_mailbox_failure(code, reply) is bounced


def fail(campaign, address: str, code: int, reply: str) -> None:
    add_emails(campaign, 1, EmailStatus.FAILED, address=address, last_smtp_code=code, last_smtp_message=reply)


@pytest.fixture
def bounced_campaign(logged_in):
    account = make_account(logged_in)
    campaign = make_campaign(
        logged_in, recipients=0, status=CampaignStatus.COMPLETED, smtp_account_id=account.id
    )
    fail(campaign, "Gone@Rcpt.Example", 550, "5.1.1 <gone@rcpt.example>: user unknown")
    fail(campaign, "closed@rcpt.example", 550, "5.2.1 Mailbox disabled")
    fail(campaign, "full@rcpt.example", 552, "5.2.2 Mailbox full")
    fail(campaign, "spam@rcpt.example", 550, "5.7.1 Rejected as spam")
    fail(campaign, "busy@rcpt.example", 450, "4.2.1 Mailbox busy (gave up after 5 attempts)")
    db.session.add(Suppression(user_id=logged_in.id, address="closed@rcpt.example", reason="unsubscribed"))
    db.session.commit()
    return campaign


def test_campaign_page_offers_to_suppress_its_hard_bounces_not_yet_listed(client, bounced_campaign):
    page = client.get(f"/campaigns/{bounced_campaign.id}").get_data(as_text=True)
    assert "Add 1 bounced address to suppressions" in page


def test_suppressing_bounces_adds_only_hard_bounces_with_reason_bounced(client, logged_in, bounced_campaign):
    url = f"/campaigns/{bounced_campaign.id}"
    response = post_form(client, f"{url}/suppress-bounced", {}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 bounced address added to your suppressions" in page
    assert "bounced address to suppressions" not in page  # nothing left to add
    rows = db.session.execute(
        sa.select(Suppression.address, Suppression.reason).order_by(Suppression.address)
    )
    assert rows.all() == [("closed@rcpt.example", "unsubscribed"), ("gone@rcpt.example", "bounced")]


def test_another_users_campaign_cannot_be_marked(client, make_user, auth, bounced_campaign):
    intruder = make_user("intruder")
    auth.logout()
    auth.login(intruder.username)
    url = f"/campaigns/{bounced_campaign.id}/suppress-bounced"
    assert post_form(client, url, {}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1
