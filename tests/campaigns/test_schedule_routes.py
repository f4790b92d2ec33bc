"""Does scheduling create the emails the engine sends, at the right UTC time, and refuse what it must?"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import CampaignStatus, EmailStatus, Suppression
from tests.campaigns.campaign_builders import emails_of, make_campaign, make_smtp_account, reload
from tests.conftest import post_form

NOW = datetime(2026, 1, 10, 12, 0)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


def schedule(client, campaign, **fields):
    data = {"when": "later", "timezone": "Asia/Kolkata", **fields}
    return post_form(
        client,
        f"/campaigns/{campaign.id}/schedule",
        data,
        form_url=f"/campaigns/{campaign.id}",
        follow_redirects=True,
    )


@pytest.fixture
def account(logged_in):
    return make_smtp_account(logged_in)


def test_scheduling_creates_one_pending_email_per_recipient_due_at_the_utc_time(client, logged_in, account):
    campaign = make_campaign(logged_in, recipients=3)
    response = schedule(client, campaign, send_date="2026-02-01", send_time="09:30")
    assert "“Spring sale” is scheduled: 3 emails." in response.get_data(as_text=True)

    campaign = reload(campaign)
    due = datetime(2026, 2, 1, 4, 0)  # 09:30 IST
    assert (campaign.status, campaign.scheduled_at, campaign.smtp_account_id) == (
        "scheduled",
        due,
        account.id,
    )
    emails = emails_of(campaign)
    assert [(e.address, e.name, e.merge_data) for e in emails] == [
        (f"reader{i}@rcpt.example", f"Reader {i}", {"code": f"C{i}"}) for i in range(3)
    ]
    assert {(e.user_id, e.smtp_account_id, e.status, e.scheduled_at, e.attempts) for e in emails} == {
        (logged_in.id, account.id, EmailStatus.PENDING, due, 0)
    }


def test_campaign_page_shows_the_schedule_in_the_users_zone_and_in_utc(client, logged_in, account):
    campaign = make_campaign(logged_in)
    page = schedule(client, campaign, send_date="2026-02-01", send_time="09:30").get_data(as_text=True)
    assert "01 Feb 2026 09:30 IST" in page and "01 Feb 2026 04:00 UTC" in page


def test_the_zone_named_on_the_form_is_used(client, logged_in, account):
    campaign = make_campaign(logged_in)
    schedule(client, campaign, send_date="2026-07-04", send_time="12:00", timezone="America/New_York")
    assert reload(campaign).scheduled_at == datetime(2026, 7, 4, 16, 0)


def test_schedule_form_offers_the_users_zone_by_default(client, make_user, auth):
    user = make_user(timezone="Australia/Lord_Howe")
    auth.login(user.username)
    page = client.get(f"/campaigns/{make_campaign(user).id}").get_data(as_text=True)
    assert (
        '<option selected value="Australia/Lord_Howe">' in page
        or 'value="Australia/Lord_Howe" selected' in page
    )


def test_send_now_is_due_immediately(client, logged_in, account):
    campaign = make_campaign(logged_in)
    schedule(client, campaign, when="now")
    assert {email.scheduled_at for email in emails_of(campaign)} == {NOW}


def test_scheduling_is_one_insert_select(client, logged_in, account):
    campaign = make_campaign(logged_in, recipients=5)
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    schedule(client, campaign, when="now")
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO EMAIL")]
    assert len(inserts) == 1 and "SELECT" in inserts[0] and "FROM campaign_recipient" in inserts[0]
    assert len(emails_of(campaign)) == 5


def test_suppressed_addresses_are_skipped_whatever_their_case(client, logged_in, account, make_user):
    campaign = make_campaign(logged_in, recipients=["Ann@Example.com", "bob@example.com", "cy@example.com"])
    db.session.add(Suppression(user_id=logged_in.id, address="ann@example.com"))
    db.session.add(Suppression(user_id=make_user().id, address="bob@example.com"))  # another user's list
    db.session.commit()
    response = schedule(client, campaign, when="now")
    assert "2 emails" in response.get_data(as_text=True)
    assert [email.address for email in emails_of(campaign)] == ["bob@example.com", "cy@example.com"]


def test_without_an_smtp_account_scheduling_is_refused(client, logged_in):
    campaign = make_campaign(logged_in)
    response = schedule(client, campaign, when="now")
    assert "Set up your SMTP account under Settings first" in response.get_data(as_text=True)
    assert reload(campaign).status == CampaignStatus.DRAFT and emails_of(campaign) == []


def test_without_recipients_scheduling_is_refused(client, logged_in, account):
    campaign = make_campaign(logged_in, recipients=0)
    response = schedule(client, campaign, when="now")
    assert "has no recipients yet" in response.get_data(as_text=True)
    assert reload(campaign).status == CampaignStatus.DRAFT


def test_when_every_recipient_is_suppressed_scheduling_is_refused(client, logged_in, account):
    campaign = make_campaign(logged_in, recipients=["gone@example.com"])
    db.session.add(Suppression(user_id=logged_in.id, address="gone@example.com"))
    db.session.commit()
    response = schedule(client, campaign, when="now")
    assert "Every recipient of “Spring sale” is on your suppression list." in response.get_data(as_text=True)
    assert reload(campaign).status == CampaignStatus.DRAFT


def test_a_field_no_recipient_has_stops_scheduling(client, logged_in, account):
    campaign = make_campaign(logged_in, html_body="<p>{{ code }}</p>\n<p>{{ city }}</p>")
    response = schedule(client, campaign, when="now")
    assert "HTML, line 2: {{ city }} is not a field of your recipients" in response.get_data(as_text=True)
    assert reload(campaign).status == CampaignStatus.DRAFT and emails_of(campaign) == []


@pytest.mark.parametrize(
    ("zone", "date", "time", "message"),
    [
        ("America/New_York", "2026-03-08", "02:30", "08 Mar 2026 02:30 does not exist in America/New_York"),
        ("America/New_York", "2026-11-01", "01:30", "01 Nov 2026 01:30 happens twice in America/New_York"),
        ("Australia/Lord_Howe", "2026-10-04", "02:15", "does not exist in Australia/Lord_Howe"),
        ("Australia/Lord_Howe", "2026-04-05", "01:45", "happens twice in Australia/Lord_Howe"),
        ("Asia/Kolkata", "", "09:30", "Enter the date and the time to send at"),
        ("Asia/Kolkata", "2026-02-01", "", "Enter the date and the time to send at"),
        ("Asia/Kolkata", "2026-13-45", "09:30", "Not a valid date value."),
        ("Asia/Kolkata", "2026-02-01", "25:99", "Not a valid time value."),
        ("Mars/Olympus_Mons", "2026-02-01", "09:30", "Not a valid choice."),
    ],
)
def test_a_time_that_cannot_be_scheduled_gets_a_clear_message(
    client, logged_in, account, zone, date, time, message
):
    campaign = make_campaign(logged_in)
    response = schedule(client, campaign, send_date=date, send_time=time, timezone=zone)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert reload(campaign).status == CampaignStatus.DRAFT and emails_of(campaign) == []


def test_a_time_in_the_past_asks_whether_to_send_now(client, logged_in, account):
    campaign = make_campaign(logged_in)
    response = schedule(client, campaign, send_date="2026-01-10", send_time="09:00")  # 03:30 UTC, before NOW
    page = response.get_data(as_text=True)
    assert "10 Jan 2026 09:00 IST has already passed. Send the campaign now instead?" in page
    assert reload(campaign).status == CampaignStatus.DRAFT and emails_of(campaign) == []

    schedule(client, campaign, when="now")
    assert reload(campaign).status == CampaignStatus.SCHEDULED
