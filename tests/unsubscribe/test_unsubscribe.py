"""The public unsubscribe page: a signed link, a confirmation, and the one-click POST of RFC 8058."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.models import Suppression, SuppressionReason
from app.sending.unsubscribe_links import Link, UnsubscribeLinks


@pytest.fixture
def links(app) -> UnsubscribeLinks:
    return UnsubscribeLinks.from_config(app.config)


def suppressions() -> list[tuple[int, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Suppression.user_id, Suppression.address, Suppression.reason))
    return sorted(tuple(row) for row in rows)


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_link_starts_with_public_base_url_and_reaches_the_endpoint(app, links, make_user):
    user = make_user()
    url = links.url(user.id, "Reader@Example.com")
    assert url.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/unsubscribe/")
    with app.test_request_context():
        assert path_of(url) == url_for(
            "unsubscribe.unsubscribe", token=links.token(user.id, "reader@example.com")
        )


def test_token_reads_back_its_user_and_lower_cased_address(links):
    assert links.read(links.token(7, "Reader@Example.com")) == Link(7, "reader@example.com", test=False)


def test_token_signed_with_another_key_or_salt_is_refused(links, app):
    other = UnsubscribeLinks("another secret", app.config["PUBLIC_BASE_URL"])
    assert links.read(other.token(1, "a@example.com")) is None
    assert links.read("not-a-token") is None


def test_get_asks_for_confirmation_and_unsubscribes_no_one(client, links, make_user):
    user = make_user()
    response = client.get(path_of(links.url(user.id, "reader@example.com")))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Unsubscribe?" in page
    assert "reader@example.com" in page
    assert suppressions() == []


def test_one_click_post_without_cookie_or_csrf_token_unsubscribes_at_once(app, links, make_user):
    """What Gmail sends: a bare POST with `List-Unsubscribe=One-Click`, no cookie, no CSRF token."""
    user = make_user()
    client = app.test_client(use_cookies=False)
    response = client.post(
        path_of(links.url(user.id, "Reader@Example.com")),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200  # never a redirect
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert suppressions() == [(user.id, "reader@example.com", SuppressionReason.UNSUBSCRIBED)]


def test_posting_twice_is_harmless_and_keeps_the_first_reason(client, links, make_user):
    user = make_user()
    db.session.add(
        Suppression(user_id=user.id, address="reader@example.com", reason=SuppressionReason.BOUNCED)
    )
    db.session.commit()
    url = path_of(links.url(user.id, "reader@example.com"))
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200
    assert suppressions() == [(user.id, "reader@example.com", SuppressionReason.BOUNCED)]


def test_a_token_only_unsubscribes_from_its_own_users_list(client, links, make_user):
    """Alice's link leaves Bob's list alone, and editing the user id inside it breaks the signature."""
    alice, bob = make_user("alice"), make_user("bob")
    token = links.token(alice.id, "reader@example.com")
    client.post(f"/unsubscribe/{token}")
    assert suppressions() == [(alice.id, "reader@example.com", SuppressionReason.UNSUBSCRIBED)]
    signature = token.rsplit(".", 1)[1]
    forged = links.serializer.dump_payload([bob.id, "reader@example.com"]).decode() + "." + signature
    response = client.post(f"/unsubscribe/{forged}")
    assert response.status_code == 400
    assert [row[0] for row in suppressions()] == [alice.id]


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_or_unknown_token_gets_a_polite_400_page(client, links, make_user, method):
    user = make_user()
    token = links.token(user.id, "reader@example.com")
    for bad in (token[:-2] + "xx", "garbage", links.token(user.id + 99, "reader@example.com")):
        response = getattr(client, method)(f"/unsubscribe/{bad}")
        assert response.status_code == 400
        assert "This link is not recognised" in response.get_data(as_text=True)
    assert suppressions() == []
