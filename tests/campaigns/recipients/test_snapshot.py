"""Scheduling to lists and segments fixes who is mailed at once and writes the emails after, a chunk at a
time, ahead of the engine: what the user sees meanwhile, what a chunk writes, and what stops it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock, tasks
from app.audiences.models import Contact
from app.campaigns import routes
from app.campaigns.recipients.snapshot import write_chunk
from app.extensions import db
from app.models import Campaign, CampaignContact, Email, Suppression
from app.sending.dispatcher import completing
from app.states import CampaignStatus, EmailStatus
from tests.builders import emails_of, reload, write_all_emails
from tests.campaigns.recipients.conftest import choose, mailed, schedule
from tests.conftest import post_form

NOW = datetime(2026, 1, 10, 12, 0)


@pytest.fixture
def now(monkeypatch) -> list[datetime]:
    """The clock, which a test moves by setting `now[0]`."""
    moment = [NOW]
    monkeypatch.setattr(clock, "utcnow", lambda: moment[0])
    return moment


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The campaigns whose next chunk was queued, in order, instead of going to the broker."""
    calls: list[int] = []
    monkeypatch.setattr(routes, "enqueue_email_writing", calls.append)
    monkeypatch.setattr(tasks, "enqueue_email_writing", calls.append)
    return calls


@pytest.fixture
def scheduled(client, account, campaign, customers, now, queued) -> Campaign:
    """The campaign scheduled to the list of four (one unsubscribed), none of its emails written yet."""
    choose(client, campaign, [customers])
    schedule(client, campaign, write_emails=False)
    return campaign


def contacts_left(campaign: Campaign) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(CampaignContact.contact_id)
            .where(CampaignContact.campaign_id == campaign.id)
            .order_by(CampaignContact.contact_id)
        )
    )


def page_of(client, campaign: Campaign) -> str:
    return client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)


def live_preparing_note(client, campaign: Campaign) -> str:
    """The "Preparing …" note as the open pages' live refresh gets it."""
    return client.get(f"/campaigns/{campaign.id}/stats").get_json()["html"]["preparing"]


def contact(address: str) -> Contact:
    found = db.session.scalar(sa.select(Contact).where(Contact.address == address))
    assert found is not None
    return found


def test_scheduling_takes_who_is_mailed_and_writes_no_email_yet(
    client, account, campaign, customers, now, queued
):
    choose(client, campaign, [customers])
    page = schedule(client, campaign, write_emails=False).get_data(as_text=True)

    assert "“Spring sale” is scheduled: 3 emails. 1 recipient was skipped as suppressed." in page
    assert "Preparing 3 more emails…" in page
    assert emails_of(campaign) == []
    addresses = ["asha@example.com", "ravi@example.com", "meera@example.com"]
    assert contacts_left(campaign) == sorted(contact(address).id for address in addresses)
    assert reload(campaign).status == CampaignStatus.SCHEDULED
    assert queued == [campaign.id]


def test_before_any_email_is_written_the_lists_count_its_recipients_and_say_they_are_being_prepared(
    client, scheduled
):
    campaigns = client.get("/campaigns/").get_data(as_text=True)
    assert re.search(
        r'<td class="text-end">3</td>\s*<td>\s*<span[^>]*>emails being prepared</span>', campaigns
    )
    assert "not scheduled" not in campaigns
    dashboard = client.get("/").get_data(as_text=True)
    assert "emails being prepared" in dashboard
    live = client.get(f"/campaigns/{scheduled.id}/stats").get_json()["campaigns"][str(scheduled.id)]
    assert "emails being prepared" in live

    write_all_emails(scheduled, chunk_size=2)
    assert "emails being prepared" not in client.get("/campaigns/").get_data(as_text=True)
    assert "0 of 3 sent" in client.get("/").get_data(as_text=True)


def test_chunks_write_the_emails_in_contact_order_with_the_contacts_attributes_then(client, scheduled):
    asha = contact("asha@example.com")
    asha.attributes = {"city": "Goa", "company": "Acme"}
    db.session.commit()

    first = write_chunk(scheduled.id, 2)
    db.session.commit()
    assert (first.contacts, first.emails, first.more) == (2, 2, True)
    assert len(contacts_left(scheduled)) == 1
    assert "Preparing 1 more email…" in page_of(client, scheduled)
    assert "Preparing 1 more email…" in live_preparing_note(client, scheduled)

    write_all_emails(scheduled, chunk_size=2)
    emails = emails_of(scheduled)
    by_contact = sorted(emails, key=lambda email: contact(email.address).id)
    assert emails == by_contact
    assert ("asha@example.com", "Asha", {"city": "Goa", "company": "Acme"}) in mailed(scheduled)
    assert {(email.status, email.scheduled_at, email.smtp_account_id) for email in emails} == {
        (EmailStatus.PENDING, reload(scheduled).scheduled_at, reload(scheduled).smtp_account_id)
    }
    assert contacts_left(scheduled) == []
    assert "Preparing" not in page_of(client, scheduled)
    assert live_preparing_note(client, scheduled) == ""


def test_a_contact_unsubscribed_or_deleted_after_scheduling_is_not_mailed(logged_in, scheduled):
    db.session.add(Suppression(user_id=logged_in.id, address="ravi@example.com", reason="unsubscribed"))
    db.session.delete(contact("meera@example.com"))
    db.session.commit()

    write_all_emails(scheduled)

    assert [address for address, _, _ in mailed(scheduled)] == ["asha@example.com"]
    assert contacts_left(scheduled) == []


def test_the_engine_does_not_complete_a_campaign_whose_emails_are_still_being_written(scheduled):
    write_chunk(scheduled.id, 1)
    db.session.execute(sa.update(Campaign).values(status=CampaignStatus.SENDING))
    for email in emails_of(scheduled):
        email.status, email.sent_at = EmailStatus.SENT, NOW
    db.session.commit()

    db.session.execute(completing([scheduled.id]))
    db.session.commit()
    assert reload(scheduled).status == CampaignStatus.SENDING

    write_all_emails(scheduled)
    for email in emails_of(scheduled):
        email.status, email.sent_at = EmailStatus.SENT, NOW
    db.session.execute(completing([scheduled.id]))
    db.session.commit()
    assert reload(scheduled).status == CampaignStatus.COMPLETED


@pytest.mark.parametrize(
    ("action", "status", "emails_left"),
    [
        ("cancel", CampaignStatus.CANCELLED, [EmailStatus.CANCELLED]),
        ("unschedule", CampaignStatus.DRAFT, []),
    ],
)
def test_cancelling_or_unscheduling_drops_the_contacts_not_written_yet(
    client, scheduled, action, status, emails_left
):
    write_chunk(scheduled.id, 1)
    db.session.commit()

    url = f"/campaigns/{scheduled.id}"
    post_form(client, f"{url}/{action}", {})

    assert contacts_left(scheduled) == []
    assert reload(scheduled).status == status
    assert [email.status for email in emails_of(scheduled)] == emails_left
    assert write_chunk(scheduled.id, 10).emails == 0


def test_a_paused_campaign_goes_on_being_written(client, scheduled):
    url = f"/campaigns/{scheduled.id}"
    post_form(client, f"{url}/pause", {})
    assert reload(scheduled).status == CampaignStatus.PAUSED

    write_all_emails(scheduled)
    assert len(emails_of(scheduled)) == 3


def test_deleting_a_campaign_for_good_takes_its_contacts_with_it(scheduled):
    db.session.execute(sa.delete(Campaign).where(Campaign.id == scheduled.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignContact)) == 0


# The tasks' bodies (`.run`), in the test's app context: what a worker runs, less Celery's own app context.


def test_the_task_writes_one_chunk_and_queues_the_next_while_contacts_are_left(app, scheduled, queued):
    app.config["EMAIL_CHUNK_SIZE"] = 2
    queued.clear()

    assert tasks.write_emails.run(scheduled.id) == 2
    assert queued == [scheduled.id]
    assert tasks.write_emails.run(scheduled.id) == 1
    assert queued == [scheduled.id]
    assert len(emails_of(scheduled)) == 3


def test_beat_restarts_a_writing_whose_task_was_lost_once_its_lease_has_passed(app, scheduled, now, queued):
    queued.clear()
    lease = timedelta(seconds=app.config["EMAIL_CHUNK_LEASE"])

    now[0] = NOW + lease - timedelta(seconds=1)
    assert tasks.sweep_email_writing.run() == 0
    now[0] = NOW + lease + timedelta(seconds=1)
    assert tasks.sweep_email_writing.run() == 1
    assert queued == [scheduled.id]
    assert tasks.sweep_email_writing.run() == 0, "restarted once, not at every tick"

    write_all_emails(scheduled)
    now[0] += 2 * lease
    assert tasks.sweep_email_writing.run() == 0, "nothing left to write"


def test_the_report_offers_cancel_pending_while_contacts_are_left_even_with_every_written_email_started(
    client, scheduled
):
    write_chunk(scheduled.id, 1)
    db.session.execute(sa.update(Email).values(status=EmailStatus.SENT))
    db.session.commit()

    report = f"/campaigns/{scheduled.id}/report"
    assert "Cancel pending" in client.get(report).get_data(as_text=True)
    done = post_form(client, f"/campaigns/{scheduled.id}/cancel-pending", {}, follow_redirects=True)
    assert "2 pending emails of “Spring sale” are cancelled." in done.get_data(as_text=True)
    assert contacts_left(scheduled) == []
