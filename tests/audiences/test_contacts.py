"""A contact's page: does it show their attributes, lists, tags, every campaign email with its outcome,
and why they are no longer mailed; and is the status always the suppression list's?"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.audiences.models import Contact, ContactStatus, ListMember
from app.extensions import db
from app.models import Suppression, SuppressionReason
from app.states import CampaignStatus, EmailStatus
from tests.audiences.conftest import make_list
from tests.builders import add_campaign, add_emails
from tests.conftest import post_form


@pytest.fixture
def ada(logged_in, customers) -> Contact:
    contact = Contact(
        user_id=logged_in.id, address="Ada@example.com", name="Ada Lovelace", attributes={"city": "London"}
    )
    db.session.add(contact)
    db.session.flush()
    db.session.add(ListMember(list_id=customers.id, contact_id=contact.id))
    db.session.commit()
    return contact


def test_the_contact_page_shows_attributes_lists_and_every_campaign_email(client, logged_in, ada):
    spring = add_campaign(logged_in, None, CampaignStatus.COMPLETED, name="Spring sale")
    add_emails(
        spring, 1, EmailStatus.SENT, address="ada@example.com", last_smtp_code=250, last_smtp_message="250 OK"
    )
    autumn = add_campaign(logged_in, None, CampaignStatus.COMPLETED, name="Autumn sale")
    add_emails(
        autumn,
        1,
        EmailStatus.FAILED,
        address="ADA@example.com",
        last_smtp_code=552,
        last_smtp_message="5.2.2 Mailbox full",
    )
    add_emails(autumn, 1, EmailStatus.SENT, address="someone.else@example.com")
    page = client.get(f"/audience/contacts/{ada.id}").get_data(as_text=True)
    assert "Ada Lovelace" in page
    assert "London" in page
    assert "Customers" in page
    history = page[page.index('id="history"') :]
    assert "Spring sale" in history
    assert "Autumn sale" in history
    assert "552 5.2.2 Mailbox full" in history
    assert history.index("Autumn sale") < history.index("Spring sale")  # newest first
    assert "someone.else" not in history


def test_what_the_senders_mailbox_heard_later_shows_on_the_contact_page(client, logged_in, ada):
    """A bounce that came back to the sender's mailbox after the send, and a reply (issue 19)."""
    spring = add_campaign(logged_in, None, CampaignStatus.COMPLETED, name="Spring sale")
    add_emails(spring, 1, EmailStatus.BOUNCED, address="ada@example.com")
    autumn = add_campaign(logged_in, None, CampaignStatus.COMPLETED, name="Autumn sale")
    add_emails(autumn, 1, EmailStatus.REPLIED, address="ada@example.com")
    history = client.get(f"/audience/contacts/{ada.id}").get_data(as_text=True)
    history = history[history.index('id="history"') :]
    assert re.search(r'text-bg-danger">bounced<', history)
    assert re.search(r'text-bg-success">replied<', history)


@pytest.mark.parametrize(
    ("reason", "status", "wording"),
    [
        (SuppressionReason.UNSUBSCRIBED, ContactStatus.UNSUBSCRIBED, "Unsubscribed by their own request"),
        (SuppressionReason.BOUNCED, ContactStatus.BOUNCED, "Their mailbox does not exist (bounced)"),
        (SuppressionReason.COMPLAINED, ContactStatus.COMPLAINED, "They reported an email as spam"),
        (SuppressionReason.MANUAL, ContactStatus.UNSUBSCRIBED, "Unsubscribed by you"),
    ],
)
def test_the_status_is_the_suppression_lists_and_the_page_says_why(
    client, logged_in, ada, reason, status, wording
):
    db.session.add(Suppression(user_id=logged_in.id, address="ada@example.com", reason=reason))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Contact, ada.id).status == status
    page = client.get(f"/audience/contacts/{ada.id}").get_data(as_text=True)
    assert wording in page
    assert "no campaign mails this address" in page


def test_taking_the_address_off_the_suppression_list_makes_the_contact_subscribed_again(logged_in, ada):
    suppression = Suppression(user_id=logged_in.id, address="ada@example.com", reason="unsubscribed")
    db.session.add(suppression)
    db.session.commit()
    db.session.delete(suppression)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Contact, ada.id).status == ContactStatus.SUBSCRIBED


def test_unsubscribing_a_contact_suppresses_the_address_for_every_list(client, logged_in, ada):
    url = f"/audience/contacts/{ada.id}"
    response = post_form(client, f"{url}/unsubscribe", {}, follow_redirects=True)
    assert "no campaign will mail it, whatever list it is on" in response.get_data(as_text=True)
    rows = db.session.execute(sa.select(Suppression.address, Suppression.reason)).all()
    assert rows == [("ada@example.com", SuppressionReason.MANUAL)]


def test_tags_are_added_and_removed_by_hand(client, logged_in, ada):
    url = f"/audience/contacts/{ada.id}"
    page = post_form(client, f"{url}/tags", {"tag": "vip"}, follow_redirects=True).get_data(as_text=True)
    assert "Tagged “vip”." in page
    assert "Remove tag vip" in page
    empty = post_form(client, f"{url}/tags", {"tag": "  "})
    assert empty.status_code == 400
    assert "Type the tag to add." in empty.get_data(as_text=True)
    tag_id = db.session.execute(sa.text("SELECT id FROM tag")).scalar_one()
    page = post_form(client, f"{url}/tags/{tag_id}/remove", {}, follow_redirects=True).get_data(as_text=True)
    assert "Tag “vip” removed." in page
    assert "No tags." in page


def test_all_contacts_lists_contacts_on_no_list_too(client, logged_in, ada):
    db.session.add(Contact(user_id=logged_in.id, address="loner@example.com"))
    db.session.commit()
    page = client.get("/audience/contacts").get_data(as_text=True)
    assert "2 contacts" in page
    assert "loner@example.com" in page
    assert "Ada@example.com" in page


@pytest.mark.parametrize("path", ["", "/unsubscribe", "/tags"])
def test_another_users_contact_is_not_found(client, make_user, auth, ada, path):
    auth.logout()
    intruder = make_user("intruder")
    auth.login(intruder.username)
    make_list(intruder, "Theirs")
    url = f"/audience/contacts/{ada.id}{path}"
    response = client.get(url) if not path else post_form(client, url, {"tag": "x"})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 0
    assert "Ada" not in client.get("/audience/contacts").get_data(as_text=True)
