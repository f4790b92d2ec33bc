"""The recipient's pages: the sender's name without the app's navigation, and "subscribe again"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Suppression, SuppressionReason
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.unsubscribe.resubscribe import VALID_FOR, ResubscribeLinks
from tests.builders import make_account
from tests.conftest import csrf_token_from

ADDRESS = "reader@example.com"


@pytest.fixture
def unsubscribe_path(app, owner) -> str:
    return f"/unsubscribe/{UnsubscribeLinks.from_config(app.config).token(owner.id, ADDRESS)}"


def suppressions() -> list[tuple[str, str]]:
    db.session.expire_all()
    return sorted(
        tuple(row) for row in db.session.execute(sa.select(Suppression.address, Suppression.reason))
    )


def again_path(page: str) -> str:
    match = re.search(r'<form method="post" action="(/unsubscribe/again/[^"]+)" id="subscribe-again">', page)
    assert match, "the page offers no way to subscribe again"
    return match.group(1)


def test_the_unsubscribe_page_shows_the_senders_name_and_none_of_the_apps_navigation(
    client, unsubscribe_path
):
    for response in (client.get(unsubscribe_path), client.post(unsubscribe_path)):
        page = response.get_data(as_text=True)
        assert '<span class="h5 mb-0" id="sender-name">Monsoon Books</span>' in page
        assert "Stop emails from Monsoon Books" in page or "no more emails from Monsoon Books" in page
        assert "navbar" not in page
        assert "Log in" not in page
        assert "Campaigns" not in page


def test_without_a_from_name_the_page_names_the_senders_address(app, make_user):
    user = make_user("ravi")
    make_account(user)
    token = UnsubscribeLinks.from_config(app.config).token(user.id, ADDRESS)
    page = app.test_client().get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop emails from ravi@example.com" in page


def test_after_unsubscribing_the_person_can_subscribe_again(client, unsubscribe_path):
    done = client.post(unsubscribe_path)
    page = done.get_data(as_text=True)
    assert suppressions() == [(ADDRESS, SuppressionReason.UNSUBSCRIBED)]
    assert "Unsubscribed by mistake?" in page
    response = client.post(again_path(page), data={"csrf_token": csrf_token_from(done)})
    assert response.status_code == 200
    assert "You are subscribed again" in response.get_data(as_text=True)
    assert suppressions() == []


def test_the_subscribe_again_link_asks_before_it_acts(client, unsubscribe_path):
    path = again_path(client.post(unsubscribe_path).get_data(as_text=True))
    response = client.get(path)
    assert "Subscribe again?" in response.get_data(as_text=True)
    assert suppressions() == [(ADDRESS, SuppressionReason.UNSUBSCRIBED)]
    client.post(path, data={"csrf_token": csrf_token_from(response)})
    assert suppressions() == []


def test_the_subscribe_again_link_expires_after_a_week(app, client, owner, monkeypatch):
    db.session.add(Suppression(user_id=owner.id, address=ADDRESS, reason=SuppressionReason.UNSUBSCRIBED))
    db.session.commit()
    path = f"/unsubscribe/again/{ResubscribeLinks.from_config(app.config).token(owner.id, ADDRESS)}"
    later = clock.utcnow() + VALID_FOR + timedelta(minutes=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    response = client.get(path)
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)
    assert suppressions() == [(ADDRESS, SuppressionReason.UNSUBSCRIBED)]


def test_an_unsubscribe_token_does_not_pass_for_a_subscribe_again_one(client, unsubscribe_path):
    token = unsubscribe_path.rsplit("/", 1)[1]
    client.post(unsubscribe_path)
    response = client.get(f"/unsubscribe/again/{token}")
    assert response.status_code == 400
    assert suppressions() == [(ADDRESS, SuppressionReason.UNSUBSCRIBED)]


def test_subscribing_again_leaves_a_bounce_or_the_owners_own_entry_alone(
    app, client, owner, unsubscribe_path
):
    db.session.add(Suppression(user_id=owner.id, address=ADDRESS, reason=SuppressionReason.BOUNCED))
    db.session.commit()
    page = client.post(unsubscribe_path).get_data(as_text=True)
    assert "Unsubscribed by mistake?" not in page
    path = f"/unsubscribe/again/{ResubscribeLinks.from_config(app.config).token(owner.id, ADDRESS)}"
    form = client.get(path)
    client.post(path, data={"csrf_token": csrf_token_from(form)})
    assert suppressions() == [(ADDRESS, SuppressionReason.BOUNCED)]
