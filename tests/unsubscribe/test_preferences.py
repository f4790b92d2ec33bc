"""The preference page beside the unsubscribe page: leave the list an email came from, stop every email,
or subscribe again; no login, a signed link, CSRF on its forms."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audiences.signup.operations import join_list
from app.extensions import db
from app.models import Suppression, SuppressionReason
from app.sending.unsubscribe_links import Link, UnsubscribeLinks
from tests.audiences.conftest import make_list
from tests.audiences.signup_helpers import members
from tests.conftest import csrf_token_from

ADDRESS = "reader@rcpt.example"


@pytest.fixture
def newsletter(owner):
    contact_list = make_list(owner, "Newsletter")
    join_list(owner.id, ADDRESS, contact_list.id)
    db.session.commit()
    return contact_list


@pytest.fixture
def links(app) -> UnsubscribeLinks:
    return UnsubscribeLinks.from_config(app.config)


@pytest.fixture
def person(app):
    return app.test_client()


def press(person, url: str, action: str):
    page = person.get(url)
    return person.post(url, data={"csrf_token": csrf_token_from(page), "action": action})


def suppressions() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(sa.select(Suppression.address, Suppression.reason))]


@pytest.fixture
def list_page(links, owner, newsletter) -> str:
    return "/" + links.preferences_url(owner.id, ADDRESS, newsletter.id).split("/", 3)[3]


def test_a_link_that_names_its_list_reads_back_with_it(links):
    assert links.read(links.token(7, ADDRESS, list_id=3)) == Link(7, ADDRESS, list_id=3)
    assert links.read(links.token(7, ADDRESS)) == Link(7, ADDRESS)


def test_the_unsubscribe_page_leads_to_the_preference_page(person, links, owner):
    token = links.token(owner.id, ADDRESS)
    page = person.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert f'href="/unsubscribe/{token}/preferences"' in page


def test_leaving_the_list_keeps_every_other_email_coming(person, list_page, newsletter):
    page = person.get(list_page).get_data(as_text=True)
    assert "You are subscribed, and on the list Newsletter." in page
    done = press(person, list_page, "leave").get_data(as_text=True)
    assert "You left Newsletter." in done
    assert members(newsletter) == []
    assert suppressions() == []
    assert "Join Newsletter again" in done


def test_unsubscribing_from_everything_puts_the_address_on_the_suppression_list(person, list_page, owner):
    done = press(person, list_page, "everything").get_data(as_text=True)
    assert "You are unsubscribed from every email of this sender." in done
    assert suppressions() == [(ADDRESS, SuppressionReason.UNSUBSCRIBED)]
    assert "Subscribe again" in done


def test_subscribing_again_lifts_the_unsubscribe_and_rejoins_the_list(person, list_page, newsletter):
    press(person, list_page, "leave")
    press(person, list_page, "everything")
    done = press(person, list_page, "resubscribe").get_data(as_text=True)
    assert "You are subscribed again." in done
    assert suppressions() == []
    assert members(newsletter) == [ADDRESS]


def test_a_bounced_address_is_not_subscribed_again_from_here(person, list_page, owner):
    db.session.add(Suppression(user_id=owner.id, address=ADDRESS, reason=SuppressionReason.BOUNCED))
    db.session.commit()
    page = person.get(list_page).get_data(as_text=True)
    assert "no longer emails this address (bounced)" in page
    assert "Subscribe again" not in page
    press(person, list_page, "resubscribe")
    assert suppressions() == [(ADDRESS, SuppressionReason.BOUNCED)]


def test_a_link_without_a_list_offers_only_everything(person, links, owner):
    url = f"/unsubscribe/{links.token(owner.id, ADDRESS)}/preferences"
    page = person.get(url).get_data(as_text=True)
    assert "Unsubscribe from everything" in page
    assert "Leave" not in page


def test_another_users_list_in_a_link_is_ignored(person, links, owner, make_user):
    other_list = make_list(make_user("ravi"), "Theirs")
    url = f"/unsubscribe/{links.token(owner.id, ADDRESS, list_id=other_list.id)}/preferences"
    page = person.get(url).get_data(as_text=True)
    assert "Theirs" not in page


def test_the_pages_forms_need_their_csrf_token(app, list_page, newsletter):
    response = app.test_client().post(list_page, data={"action": "leave"})
    assert response.status_code == 400
    assert members(newsletter) == [ADDRESS]


def test_a_tampered_link_gets_the_polite_400_page(person, list_page):
    response = person.get(list_page.replace("/preferences", "xx/preferences"))
    assert response.status_code == 400
    assert "This link is not recognised" in response.get_data(as_text=True)


def test_a_test_emails_link_changes_nothing(person, links, owner):
    url = f"/unsubscribe/{links.token(owner.id, ADDRESS, test=True)}/preferences"
    assert "This is the unsubscribe link of a test email" in person.get(url).get_data(as_text=True)
