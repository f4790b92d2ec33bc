"""Can a user list, schedule, pause, resume, cancel, unschedule, duplicate and delete campaigns?"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, CampaignRecipient, Email
from app.states import CampaignStatus, EmailStatus
from tests.builders import emails_of, make_account, make_campaign, reload, statuses_of
from tests.conftest import post_form


def press(client, campaign: Campaign, action: str):
    """Press a button on the campaign's page."""
    return post_form(
        client,
        f"/campaigns/{campaign.id}/{action}",
        {},
        follow_redirects=True,
    )


def schedule_now(client, campaign: Campaign):
    return post_form(
        client,
        f"/campaigns/{campaign.id}/schedule",
        {"when": "now", "timezone": "Asia/Kolkata"},
        follow_redirects=True,
    )


@pytest.fixture
def scheduled(client, logged_in):
    make_account(logged_in)
    campaign = make_campaign(logged_in)
    schedule_now(client, campaign)
    assert reload(campaign).status == CampaignStatus.SCHEDULED
    return campaign


def test_list_shows_status_schedule_recipients_and_progress(client, logged_in):
    make_account(logged_in)
    campaign = make_campaign(logged_in, recipients=4, name="Diwali offers")
    make_campaign(logged_in, recipients=2, name="Draft newsletter")
    schedule_now(client, campaign)
    db.session.execute(
        sa.update(Email).where(Email.id == emails_of(campaign)[0].id).values(status=EmailStatus.SENT)
    )
    db.session.commit()

    page = client.get("/campaigns/").get_data(as_text=True)
    assert "Diwali offers" in page
    assert "Draft newsletter" in page
    assert "1 of 4 sent" in page
    assert "IST" in page  # the schedule in the user's zone
    assert re.search(r'class="text-end">4</td>', page)
    assert re.search(r'class="text-end">2</td>', page)


def test_list_counts_progress_in_one_query_whatever_the_page_size(client, logged_in, app):
    for index in range(5):
        make_campaign(logged_in, recipients=2, name=f"Campaign {index}")
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client.get("/campaigns/")
    counted = [statement for statement in statements if "email_count" in statement or "GROUP BY" in statement]
    assert len(counted) == 3  # the emails' counters, recipients and emails still to write, by campaign
    assert not any("FROM email " in statement for statement in statements)


def test_list_is_paginated(client, logged_in):
    for index in range(23):
        make_campaign(logged_in, recipients=0, name=f"Campaign {index:02d}")
    first = client.get("/campaigns/").get_data(as_text=True)
    second = client.get("/campaigns/?page=2").get_data(as_text=True)
    assert "Campaign 22" in first
    assert "Campaign 02" not in first
    assert "Campaign 02" in second
    assert "Campaign 22" not in second


def test_another_users_campaigns_are_not_listed(client, logged_in, make_user):
    make_campaign(make_user(), name="Someone else's sale")
    assert "Someone else" not in client.get("/campaigns/").get_data(as_text=True)


def test_pause_then_resume(client, scheduled):
    assert "is paused" in press(client, scheduled, "pause").get_data(as_text=True)
    assert reload(scheduled).status == CampaignStatus.PAUSED
    assert statuses_of(scheduled) == [EmailStatus.PENDING] * 3  # the engine leaves them pending
    assert "resumes" in press(client, scheduled, "resume").get_data(as_text=True)
    assert reload(scheduled).status == CampaignStatus.SCHEDULED


def test_cancel_stops_unsent_emails_and_keeps_sent_ones(client, scheduled):
    first, second, _ = emails_of(scheduled)
    db.session.execute(sa.update(Email).where(Email.id == first.id).values(status=EmailStatus.SENT))
    db.session.execute(sa.update(Email).where(Email.id == second.id).values(status=EmailStatus.QUEUED))
    db.session.execute(
        sa.update(Campaign).where(Campaign.id == scheduled.id).values(status=CampaignStatus.SENDING)
    )
    db.session.commit()
    assert "is cancelled" in press(client, scheduled, "cancel").get_data(as_text=True)
    assert reload(scheduled).status == CampaignStatus.CANCELLED
    assert statuses_of(scheduled) == [EmailStatus.SENT, EmailStatus.CANCELLED, EmailStatus.CANCELLED]


@pytest.mark.parametrize(
    ("status", "action", "refusal"),
    [
        (CampaignStatus.DRAFT, "pause", "only a scheduled or sending campaign can be paused"),
        (CampaignStatus.COMPLETED, "pause", "only a scheduled or sending campaign can be paused"),
        (CampaignStatus.SCHEDULED, "resume", "only a paused campaign can be resumed"),
        (CampaignStatus.DRAFT, "cancel", "there is nothing left to cancel"),
        (CampaignStatus.COMPLETED, "cancel", "there is nothing left to cancel"),
        (
            CampaignStatus.SENDING,
            "unschedule",
            "only a campaign that has not started sending goes back to draft",
        ),
        (CampaignStatus.SCHEDULED, "schedule", "only a draft can be scheduled"),
    ],
)
def test_action_that_does_not_fit_the_status_is_refused(client, logged_in, status, action, refusal):
    make_account(logged_in)
    campaign = make_campaign(logged_in, status=status)
    data = {"when": "now", "timezone": "Asia/Kolkata"} if action == "schedule" else {}
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/{action}",
        data,
        follow_redirects=True,
    )
    assert refusal in response.get_data(as_text=True)
    assert reload(campaign).status == status


def test_back_to_draft_removes_pending_emails(client, scheduled):
    assert "is a draft again" in press(client, scheduled, "unschedule").get_data(as_text=True)
    campaign = reload(scheduled)
    assert (campaign.status, campaign.scheduled_at, campaign.smtp_account_id) == (
        CampaignStatus.DRAFT,
        None,
        None,
    )
    assert emails_of(campaign) == []


def test_editing_a_scheduled_campaign_returns_it_to_draft(client, scheduled):
    response = post_form(
        client,
        f"/campaigns/{scheduled.id}/edit",
        {"name": "Spring sale", "subject": "New subject {{ name }}", "html_body": "<p>Hi {{ name }}</p>"},
        follow_redirects=True,
    )
    assert "It was scheduled: it is a draft again" in response.get_data(as_text=True)
    campaign = reload(scheduled)
    assert (campaign.status, campaign.subject) == (CampaignStatus.DRAFT, "New subject {{ name }}")
    assert emails_of(campaign) == []


@pytest.mark.parametrize(
    "status", [CampaignStatus.SENDING, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED]
)
def test_a_campaign_past_scheduling_cannot_be_edited(client, logged_in, status):
    campaign = make_campaign(logged_in, status=status)
    response = client.get(f"/campaigns/{campaign.id}/edit", follow_redirects=True)
    assert "it can no longer be edited" in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/campaigns/{campaign.id}/edit",
        {"name": "Changed", "subject": "Changed"},
        follow_redirects=True,
    )
    assert reload(campaign).name == "Spring sale"


def test_duplicate_makes_a_draft_with_the_same_content_and_recipients(client, scheduled):
    response = press(client, scheduled, "duplicate")
    assert "“Copy of Spring sale” created as a draft" in response.get_data(as_text=True)
    copy = db.session.scalar(sa.select(Campaign).where(Campaign.name == "Copy of Spring sale"))
    assert (copy.status, copy.subject, copy.html_body, copy.merge_fields) == (
        CampaignStatus.DRAFT,
        scheduled.subject,
        scheduled.html_body,
        scheduled.merge_fields,
    )
    addresses = db.session.scalars(
        sa.select(CampaignRecipient.address)
        .where(CampaignRecipient.campaign_id == copy.id)
        .order_by(CampaignRecipient.position)
    )
    assert list(addresses) == [f"reader{i}@rcpt.example" for i in range(3)]
    assert emails_of(copy) == []


def test_delete_asks_first(client, logged_in):
    campaign = make_campaign(logged_in)
    page = client.get(f"/campaigns/{campaign.id}/delete").get_data(as_text=True)
    assert "Delete “Spring sale”?" in page
    assert "stay in your dashboard" in page
    assert reload(campaign).deleted_at is None


def test_deleted_campaign_is_hidden_its_unsent_emails_cancelled_and_sent_ones_kept(client, scheduled):
    first = emails_of(scheduled)[0]
    db.session.execute(sa.update(Email).where(Email.id == first.id).values(status=EmailStatus.SENT))
    db.session.commit()
    response = post_form(client, f"/campaigns/{scheduled.id}/delete", {}, follow_redirects=True)
    assert "“Spring sale” deleted." in response.get_data(as_text=True)
    campaign = reload(scheduled)
    assert campaign.deleted_at is not None
    assert campaign.status == CampaignStatus.CANCELLED
    assert statuses_of(campaign) == [EmailStatus.SENT, EmailStatus.CANCELLED, EmailStatus.CANCELLED]
    assert "Spring sale" not in client.get("/campaigns/").get_data(as_text=True).split("</nav>", 1)[1]
    for url in (
        f"/campaigns/{campaign.id}",
        f"/campaigns/{campaign.id}/edit",
        f"/campaigns/{campaign.id}/recipients",
    ):
        assert client.get(url).status_code == 404, url


def test_deleting_a_draft_keeps_it_a_draft_but_hidden(client, logged_in):
    campaign = make_campaign(logged_in)
    post_form(client, f"/campaigns/{campaign.id}/delete", {})
    campaign = reload(campaign)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.deleted_at <= clock.utcnow()
