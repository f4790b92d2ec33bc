"""A campaign's lists and segments as the tests of its recipients build them: four contacts, one of them
unsubscribed, a segment of three, and the Recipients page's and the Schedule button's requests."""

from __future__ import annotations

import pytest

from app.audiences.models import ContactList, Segment
from app.extensions import db
from app.models import Campaign, Suppression
from tests.audiences.conftest import ListImport, make_list
from tests.builders import emails_of, make_account, make_campaign, write_all_emails
from tests.conftest import post_form

CUSTOMERS = (
    b"email,name,city,company\n"
    b"asha@example.com,Asha,Kochi,Acme\n"
    b"ravi@example.com,Ravi,Pune,Beta\n"
    b"meera@example.com,Meera,Kochi,\n"
    b"gone@example.com,Gone,Kochi,Gamma\n"
)
HTML = "<p>Hello {{ name }} in {{ city }}, from {{ company | default('there') }}.</p>"


@pytest.fixture
def account(logged_in):
    return make_account(logged_in)


@pytest.fixture
def customers(client, logged_in, uploads_folder) -> ContactList:
    """Four contacts, one of them unsubscribed; Meera has no company."""
    contact_list = make_list(logged_in, "Customers")
    ListImport(client, contact_list).upload_and_confirm(CUSTOMERS)
    db.session.add(Suppression(user_id=logged_in.id, address="gone@example.com", reason="unsubscribed"))
    db.session.commit()
    return contact_list


@pytest.fixture
def kochi(logged_in, customers) -> Segment:
    segment = Segment(
        user_id=logged_in.id,
        name="Kochi",
        list_id=customers.id,
        conditions=[{"kind": "attribute", "key": "city", "op": "equals", "value": "Kochi"}],
    )
    db.session.add(segment)
    db.session.commit()
    return segment


@pytest.fixture
def campaign(logged_in) -> Campaign:
    return make_campaign(
        logged_in, recipients=[], html_body=HTML, text_body="Hello {{ name }}", merge_fields=[]
    )


def choose(client, campaign, lists=(), segments=(), **fields):
    data = {
        "lists": [str(item.id) for item in lists],
        "segments": [str(item.id) for item in segments],
        **fields,
    }
    url = f"/campaigns/{campaign.id}/recipients"
    return post_form(client, f"{url}/audiences", data, follow_redirects=True)


def schedule(client, campaign, write_emails=True):
    """Press Schedule, then (unless told not to) let the workers write its emails."""
    data = {"when": "later", "timezone": "Asia/Kolkata", "send_date": "2026-02-01", "send_time": "09:30"}
    url = f"/campaigns/{campaign.id}"
    response = post_form(client, f"{url}/schedule", data, follow_redirects=True)
    if write_emails:
        write_all_emails(campaign)
    return response


def mailed(campaign) -> list[tuple[str, str, dict]]:
    return [(email.address, email.name, email.merge_data) for email in emails_of(campaign)]
