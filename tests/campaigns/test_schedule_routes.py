"""Does scheduling create the emails the engine sends, at the right UTC time, and refuse what it must?"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Suppression
from app.states import CampaignStatus, EmailStatus
from tests.builders import emails_of, make_account, make_campaign, reload
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
        follow_redirects=True,
    )


@pytest.fixture
def account(logged_in):
    return make_account(logged_in)


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
    assert "01 Feb 2026 09:30 IST" in page
    assert "01 Feb 2026 04:00 UTC" in page


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
    assert len(inserts) == 1
    assert "SELECT" in inserts[0]
    assert "FROM campaign_recipient" in inserts[0]
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
    assert reload(campaign).status == CampaignStatus.DRAFT
    assert emails_of(campaign) == []


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
    assert reload(campaign).status == CampaignStatus.DRAFT
    assert emails_of(campaign) == []


@pytest.mark.parametrize(
    ("zone", "date", "time", "message"),
    [
        ("America/New_York", "2026-03-08", "02:30", "08 Mar 2026 02:30 does not exist in America/New_York"),
        ("America/New_York", "2026-11-01", "01:30", "01 Nov 2026 01:30 happens twice in America/New_York"),
        ("Australia/Lord_Howe", "2026-10-04", "02:15", "does not exist in Australia/Lord_Howe"),
        ("Australia/Lord_Howe", "2026-04-05", "01:45", "happens twice in Australia/Lord_Howe"),
        ("Asia/Kolkata", "", "09:30", "Enter the date to send at, or choose “Send now”."),
        ("Asia/Kolkata", "2026-02-01", "", "Enter the time to send at, or choose “Send now”."),
        ("Asia/Kolkata", "2026-13-45", "09:30", "Enter the date as YYYY-MM-DD, for example 2026-12-08."),
        ("Asia/Kolkata", "2026-02-01", "25:99", "Enter the time as HH:MM on the 24-hour clock"),
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
    assert reload(campaign).status == CampaignStatus.DRAFT
    assert emails_of(campaign) == []


def test_a_time_in_the_past_asks_whether_to_send_now(client, logged_in, account):
    campaign = make_campaign(logged_in)
    response = schedule(client, campaign, send_date="2026-01-10", send_time="09:00")  # 03:30 UTC, before NOW
    page = response.get_data(as_text=True)
    assert "10 Jan 2026 09:00 IST has already passed. Send the campaign now instead?" in page
    assert reload(campaign).status == CampaignStatus.DRAFT
    assert emails_of(campaign) == []

    schedule(client, campaign, when="now")
    assert reload(campaign).status == CampaignStatus.SCHEDULED


def test_the_summary_says_how_many_recipients_were_skipped_as_suppressed(client, logged_in, account):
    campaign = make_campaign(logged_in, recipients=["ann@example.com", "bob@example.com", "cy@example.com"])
    db.session.add(Suppression(user_id=logged_in.id, address="ann@example.com"))
    db.session.commit()
    page = schedule(client, campaign, when="now").get_data(as_text=True)
    assert "“Spring sale” is scheduled: 2 emails. 1 recipient was skipped as suppressed." in page


def test_the_summary_says_nothing_of_suppressions_when_none_was_skipped(client, logged_in, account):
    page = schedule(client, make_campaign(logged_in), when="now").get_data(as_text=True)
    assert "“Spring sale” is scheduled: 3 emails." in page
    assert "skipped as suppressed" not in page


def test_a_time_chosen_in_another_zone_is_shown_in_that_zone_and_the_users(client, logged_in, account):
    logged_in.timezone = "Europe/Paris"
    db.session.commit()
    campaign = make_campaign(logged_in)
    response = schedule(
        client, campaign, send_date="2026-12-08", send_time="09:00", timezone="America/New_York"
    )
    assert "Sends Tue 8 Dec 09:00 in America/New_York — 15:00 your time (Europe/Paris)." in (
        response.get_data(as_text=True)
    )


def test_a_time_in_the_users_own_zone_is_shown_once(client, logged_in, account):
    page = schedule(client, make_campaign(logged_in), send_date="2026-02-01", send_time="09:30").get_data(
        as_text=True
    )
    assert "Sends Sun 1 Feb 09:30 your time (Asia/Kolkata)." in page


def test_the_users_day_is_named_when_it_differs_from_the_chosen_zones(client, logged_in, account):
    page = schedule(
        client,
        make_campaign(logged_in),
        send_date="2026-02-01",
        send_time="20:00",
        timezone="America/New_York",
    ).get_data(as_text=True)
    assert "Sends Sun 1 Feb 20:00 in America/New_York — Mon 2 Feb 06:30 your time (Asia/Kolkata)." in page


@pytest.mark.parametrize("typed", ["8/12/2026", "8 Dec 2026"])
def test_a_malformed_date_keeps_what_was_typed_and_shows_the_format(client, logged_in, account, typed):
    campaign = make_campaign(logged_in)
    page = schedule(client, campaign, send_date=typed, send_time="09:00").get_data(as_text=True)
    assert f'value="{typed}"' in page
    assert "Enter the date as YYYY-MM-DD, for example 2026-12-08." in page
    assert reload(campaign).status == CampaignStatus.DRAFT


def test_both_empty_fields_are_marked(client, logged_in, account):
    campaign = make_campaign(logged_in)
    page = schedule(client, campaign, send_date="", send_time="").get_data(as_text=True)
    assert "Enter the date to send at" in page
    assert "Enter the time to send at" in page
    assert re.search(r'<input[^>]*class="form-control is-invalid"[^>]*id="send_date"', page)
    assert re.search(r'<input[^>]*class="form-control is-invalid"[^>]*id="send_time"', page)
