"""A campaign sent to lists and segments: who gets it, once each, as they are when it is scheduled; and an
upload that keeps its contacts in a list."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app import clock
from app.audiences.models import CampaignAudience, Contact, ContactList, ListMember
from app.campaigns import routes as campaign_pages
from app.extensions import db
from app.models import Campaign
from app.states import EmailStatus
from tests.audiences.conftest import ListImport, make_list
from tests.builders import emails_of, make_campaign, reload
from tests.campaigns.conftest import RecipientsFlow
from tests.campaigns.recipients.conftest import choose, mailed, schedule
from tests.conftest import post_form

NOW = datetime(2026, 1, 10, 12, 0)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)


def test_the_recipients_page_offers_each_list_and_segment_with_its_live_count(client, campaign, kochi):
    page = client.get(f"/campaigns/{campaign.id}/recipients").get_data(as_text=True)
    assert "Send to lists and segments" in page
    assert "Customers (4 contacts)" in page
    assert "Kochi (3 contacts)" in page


def test_the_recipients_page_shows_the_segment_chosen_ticked_and_linked_with_no_empty_upload_beside_it(
    client, account, campaign, kochi
):
    choose(client, campaign, segments=[kochi])
    page = client.get(f"/campaigns/{campaign.id}/recipients").get_data(as_text=True)
    ticked = re.findall(r'<input checked[^>]*name="(\w+)"[^>]*value="(\d+)"', page)
    assert ticked == [("segments", str(kochi.id))]
    assert f'Goes to segment <a href="/audience/segments/{kochi.id}">“Kochi”</a>' in page
    assert ">0 recipients<" not in page
    assert "No recipients yet" not in page

    schedule(client, campaign)
    page = client.get(f"/campaigns/{campaign.id}/recipients").get_data(as_text=True)
    assert f'Scheduled for segment <a href="/audience/segments/{kochi.id}">“Kochi”</a>' in page
    assert f'href="/campaigns/{campaign.id}/report">its report</a>' in page
    assert "would be mailed today" not in page


def test_a_list_and_a_segment_mail_each_contact_once_leaving_out_the_suppressed(
    client, account, campaign, customers, kochi
):
    chosen = choose(client, campaign, [customers], [kochi]).get_data(as_text=True)
    assert "goes to Customers, Kochi: 3 contacts today, 1 left out as suppressed" in chosen

    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "would be mailed today, 1 left out as suppressed" in page

    response = schedule(client, campaign).get_data(as_text=True)
    assert "“Spring sale” is scheduled: 3 emails. 1 recipient was skipped as suppressed." in response
    assert sorted(mailed(campaign)) == [
        ("asha@example.com", "Asha", {"city": "Kochi", "company": "Acme"}),
        ("meera@example.com", "Meera", {"city": "Kochi"}),
        ("ravi@example.com", "Ravi", {"city": "Pune", "company": "Beta"}),
    ]
    assert {email.status for email in emails_of(campaign)} == {EmailStatus.PENDING}


def test_who_is_on_the_list_is_read_when_the_campaign_is_scheduled(
    client, logged_in, account, campaign, customers
):
    choose(client, campaign, [customers])
    ListImport(client, customers).upload_and_confirm(b"email,city\nearly@example.com,Goa\n")
    schedule(client, campaign)
    ListImport(client, customers).upload_and_confirm(b"email,city\nlate@example.com,Goa\n")

    addresses = {address for address, _, _ in mailed(campaign)}
    assert "early@example.com" in addresses
    assert "late@example.com" not in addresses


def test_a_field_some_contacts_lack_blocks_scheduling_unless_it_has_a_fallback(
    client, account, logged_in, customers
):
    strict = make_campaign(logged_in, recipients=[], html_body="<p>{{ company }}</p>", merge_fields=[])
    choose(client, strict, [customers])
    refused = schedule(client, strict).get_data(as_text=True)
    assert "{{ company }} is not a field of your recipients" in refused
    assert reload(strict).status == "draft"
    assert mailed(strict) == []

    lenient = make_campaign(
        logged_in, recipients=[], html_body="<p>{{ company | default('there') }}</p>", merge_fields=[]
    )
    choose(client, lenient, [customers])
    assert "is scheduled: 3 emails" in schedule(client, lenient).get_data(as_text=True)


def test_the_preview_shows_the_email_as_a_contact_of_the_list_gets_it(client, campaign, customers):
    choose(client, campaign, [customers])
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Hello Asha in Kochi, from Acme." in page
    meera = db.session.scalar(sa.select(Contact).where(Contact.address == "meera@example.com"))
    page = client.get(f"/campaigns/{campaign.id}?recipient={meera.id}").get_data(as_text=True)
    assert "Hello Meera in Kochi, from there." in page


def test_choosing_lists_replaces_an_upload_only_once_the_user_confirmed_it(
    client, logged_in, customers, uploads_folder
):
    uploaded = make_campaign(logged_in, recipients=2)
    refused = choose(client, uploaded, [customers])
    assert refused.status_code == 400
    assert "This campaign has 2 uploaded recipients: tick this box" in refused.get_data(as_text=True)
    assert len(RecipientsFlow(client, uploaded).saved()) == 2

    choose(client, uploaded, [customers], replace_upload="y")
    assert RecipientsFlow(client, uploaded).saved() == []
    chosen = db.session.scalars(
        sa.select(CampaignAudience).where(CampaignAudience.campaign_id == uploaded.id)
    )
    assert [audience.list_id for audience in chosen] == [customers.id]


def test_saving_an_upload_replaces_the_lists_and_segments(client, campaign, customers, uploads_folder):
    choose(client, campaign, [customers])
    flow = RecipientsFlow(client, campaign)
    saved = flow.save(flow.paste("solo@example.com")).get_data(as_text=True)
    assert "They replace the lists and segments the campaign was going to." in saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignAudience)) == 0
    assert [address for address, _, _ in flow.saved()] == ["solo@example.com"]


def test_nothing_chosen_and_another_users_list_are_refused(client, campaign, customers, make_user):
    assert "Choose at least one list or segment." in choose(client, campaign).get_data(as_text=True)
    theirs = make_list(make_user(), "Theirs")
    assert choose(client, campaign, [theirs]).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignAudience)) == 0


def save_keeping(client, campaign, text: str, **fields):
    """Paste, then press Save with the "keep them in a list" choice."""
    flow = RecipientsFlow(client, campaign)
    review = flow.paste(text)
    page = review.get_data(as_text=True)
    action = page.split('action="', 2)
    save_url = next(part.split('"')[0] for part in action if "/recipients/save/" in part.split('"')[0])
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        save_url.replace("&amp;", "&"), data={"csrf_token": token, **fields}, follow_redirects=True
    )


def test_an_upload_can_keep_its_contacts_in_a_new_list(client, logged_in, campaign, uploads_folder):
    saved = save_keeping(
        client, campaign, "Ann <ann@example.com>\nbob@example.com", keep_in="-1", new_list="Fair visitors"
    )
    assert "Imported into “Fair visitors”: 2 added" in saved.get_data(as_text=True)
    new_list = db.session.scalar(sa.select(ContactList).where(ContactList.name == "Fair visitors"))
    members = db.session.scalars(
        sa.select(Contact.address)
        .join(ListMember, ListMember.contact_id == Contact.id)
        .where(ListMember.list_id == new_list.id)
    )
    assert sorted(members) == ["ann@example.com", "bob@example.com"]
    assert len(RecipientsFlow(client, campaign).saved()) == 2


def test_an_upload_kept_in_an_existing_list_updates_known_contacts(client, campaign, customers):
    saved = save_keeping(
        client, campaign, "Asha K <asha@example.com>\nnew@example.com", keep_in=str(customers.id)
    )
    assert "Imported into “Customers”: 1 added, 1 updated" in saved.get_data(as_text=True)
    asha = db.session.scalar(sa.select(Contact).where(Contact.address == "asha@example.com"))
    assert (asha.name, asha.attributes) == ("Asha K", {"city": "Kochi", "company": "Acme"})


def test_a_new_list_needs_a_free_name_and_nothing_is_saved_without_it(client, campaign, customers):
    unnamed = save_keeping(client, campaign, "ann@example.com", keep_in="-1", new_list="")
    assert "Name the new list, or choose an existing one." in unnamed.get_data(as_text=True)
    taken = save_keeping(client, campaign, "ann@example.com", keep_in="-1", new_list="Customers")
    assert "You already have a list named “Customers”" in taken.get_data(as_text=True)
    assert RecipientsFlow(client, campaign).saved() == []
    assert db.session.scalar(sa.select(Contact).where(Contact.address == "ann@example.com")) is None


def test_the_contact_page_shows_a_campaign_sent_to_its_list_with_its_outcome(
    client, account, campaign, customers
):
    choose(client, campaign, [customers])
    schedule(client, campaign)
    asha = next(email for email in emails_of(campaign) if email.address == "asha@example.com")
    asha.status, asha.sent_at = EmailStatus.SENT, NOW
    db.session.commit()
    contact = db.session.scalar(sa.select(Contact).where(Contact.address == "asha@example.com"))
    page = client.get(f"/audience/contacts/{contact.id}").get_data(as_text=True)
    assert "Spring sale" in page
    assert "sent" in page


def test_a_duplicate_goes_to_the_same_lists_and_segments(client, campaign, customers, kochi):
    choose(client, campaign, [customers], [kochi])
    post_form(client, f"/campaigns/{campaign.id}/duplicate", {})
    copy = db.session.scalar(sa.select(Campaign).where(Campaign.name == "Copy of Spring sale"))
    chosen = db.session.scalars(
        sa.select(CampaignAudience)
        .where(CampaignAudience.campaign_id == copy.id)
        .order_by(CampaignAudience.id)
    )
    assert [(audience.list_id, audience.segment_id) for audience in chosen] == [
        (customers.id, None),
        (None, kochi.id),
    ]


def test_the_campaign_list_counts_a_scheduled_campaigns_contacts(client, account, campaign, customers):
    choose(client, campaign, [customers])
    schedule(client, campaign)
    row = client.get("/campaigns/").get_data(as_text=True).split("Spring sale</a>")[1].split("</tr>")[0]
    assert '<td class="text-end">3</td>' in row


@pytest.mark.parametrize(("read_up_to", "offered"), [(20_000, True), (2, False)], ids=["small", "large"])
def test_a_drafts_page_reads_a_small_audiences_fields_again_and_keeps_a_large_ones_as_chosen(
    client, logged_in, campaign, customers, monkeypatch, read_up_to, offered
):
    monkeypatch.setattr(campaign_pages, "FIELDS_READ_ON_VIEW_UP_TO", read_up_to)
    choose(client, campaign, [customers])
    contacts = db.session.scalars(sa.select(Contact).where(Contact.user_id == logged_in.id)).all()
    for contact in contacts:
        contact.attributes = {**contact.attributes, "plan": "gold"}
    db.session.commit()

    client.get(f"/campaigns/{campaign.id}")
    assert ({"key": "plan", "header": "plan"} in reload(campaign).merge_fields) is offered
