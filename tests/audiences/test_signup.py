"""Public sign-up with double opt-in: the owner's form and snippet, the confirmation email through their
SMTP account (a real SMTP sink on loopback), and the contact on the list only once its link is opened."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.audiences.models import Contact, ContactSource
from app.audiences.signup.models import ListSignup, SignupStatus
from app.extensions import db
from app.models import SMTPSettings, Suppression, SuppressionReason
from tests.audiences.conftest import make_list
from tests.audiences.signup_helpers import (
    confirmation_path,
    members,
    open_signup,
    received,
    request_of,
    send_due,
    sign_up,
)
from tests.builders import make_account
from tests.conftest import csrf_token_from, post_form

ADDRESS = "reader@rcpt.example"


@pytest.fixture
def owner(make_user):
    return make_user("kiran")


@pytest.fixture
def account(owner, smtp_sink) -> SMTPSettings:
    return make_account(owner, smtp_sink, from_name="Monsoon Books")


@pytest.fixture
def newsletter(owner):
    return make_list(owner, "Newsletter")


@pytest.fixture
def signup(newsletter, account) -> ListSignup:
    return open_signup(newsletter, account)


@pytest.fixture
def stranger(app):
    """A visitor of the owner's site: no session, no CSRF token."""
    return app.test_client(use_cookies=False)


# ----- the owner's side -----------------------------------------------------------------------------------


def test_the_owner_turns_signup_on_and_gets_the_forms_address_and_a_snippet_to_copy(
    client, auth, owner, account, newsletter
):
    auth.login(owner.username)
    page = client.get(f"/audience/lists/{newsletter.id}").get_data(as_text=True)
    assert f'href="/audience/lists/{newsletter.id}/signup"' in page

    url = f"/audience/lists/{newsletter.id}/signup"
    response = post_form(client, url, {"enabled": "y", "smtp_account": account.id}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Sign-up is on" in page
    signup = db.session.get(ListSignup, newsletter.id)
    assert signup.enabled
    assert signup.smtp_account_id == account.id
    form_url = f"http://127.0.0.1:5000/subscribe/{signup.token}"
    assert form_url in page
    assert f"&lt;form method=&#34;post&#34; action=&#34;{form_url}&#34;" in page  # shown as text to copy
    assert "name=&#34;website&#34;" in page
    assert len(signup.token) >= 20  # random, not the list's id (which the address never shows)


def test_turning_signup_on_needs_an_account_of_the_owners_own(client, auth, owner, make_user, newsletter):
    other = make_account(make_user("ravi"))
    auth.login(owner.username)
    url = f"/audience/lists/{newsletter.id}/signup"
    response = post_form(client, url, {"enabled": "y"})
    assert response.status_code == 400
    assert "Add an SMTP account in" in response.get_data(as_text=True)
    make_account(owner)
    response = post_form(client, url, {"enabled": "y", "smtp_account": other.id})
    assert response.status_code == 400
    assert "Choose one of your SMTP accounts." in response.get_data(as_text=True)
    assert not db.session.get(ListSignup, newsletter.id).enabled


def test_another_users_list_has_no_signup_page(client, auth, make_user, newsletter):
    intruder = make_user("intruder")
    auth.login(intruder.username)
    assert client.get(f"/audience/lists/{newsletter.id}/signup").status_code == 404
    assert post_form(client, f"/audience/lists/{newsletter.id}/signup", {}).status_code == 404


# ----- signing up and confirming -------------------------------------------------------------------------


def test_a_signup_gets_one_confirmation_and_joins_the_list_only_when_its_link_is_opened(
    app, stranger, signup, newsletter, smtp_sink
):
    response = sign_up(stranger, signup, "Reader@Rcpt.example", name="Asha Rao")
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert members(newsletter) == []

    assert send_due() == [SignupStatus.SENT]
    assert received(smtp_sink) == [ADDRESS]
    message = smtp_sink.messages[0].message
    assert message["Subject"] == "Confirm your subscription to Newsletter"
    assert message["From"] == "Monsoon Books <kiran@sender.example>"
    assert message["To"] == "Asha Rao <reader@rcpt.example>"
    assert members(newsletter) == []

    person = app.test_client()
    path = confirmation_path(smtp_sink.messages[0])
    page = person.get(path)
    assert "Confirm your subscription" in page.get_data(as_text=True)
    assert members(newsletter) == [], "opening the page confirms nothing: a mail scanner opens every link"
    done = person.post(path, data={"csrf_token": csrf_token_from(page)})
    assert "You are subscribed" in done.get_data(as_text=True)
    assert members(newsletter) == [ADDRESS]
    contact = db.session.scalars(sa.select(Contact)).one()
    assert (contact.name, contact.source, contact.status) == ("Asha Rao", ContactSource.SIGNUP, "subscribed")
    assert request_of(ADDRESS).status == SignupStatus.CONFIRMED
    assert "/preferences" in done.get_data(as_text=True)


def test_confirming_without_the_pages_csrf_token_is_refused(app, stranger, signup, newsletter, smtp_sink):
    sign_up(stranger, signup, ADDRESS)
    send_due()
    response = app.test_client().post(confirmation_path(smtp_sink.messages[0]))
    assert response.status_code == 400
    assert members(newsletter) == []


def test_the_web_request_sends_nothing_itself_it_leaves_the_email_to_a_worker(stranger, signup, smtp_sink):
    sign_up(stranger, signup, ADDRESS)
    assert smtp_sink.messages == []
    assert request_of(ADDRESS).status == SignupStatus.PENDING


def test_signing_up_again_within_minutes_sends_no_second_confirmation(
    stranger, signup, smtp_sink, monkeypatch
):
    for _ in range(3):
        assert sign_up(stranger, signup, ADDRESS).status_code == 200
        send_due()
    assert received(smtp_sink) == [ADDRESS]
    later = clock.utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    sign_up(stranger, signup, ADDRESS)
    send_due()
    assert received(smtp_sink) == [ADDRESS, ADDRESS]


def test_an_address_already_on_the_list_is_sent_nothing(stranger, signup, newsletter, smtp_sink):
    from app.audiences.signup.operations import join_list

    join_list(signup.user_id, ADDRESS, newsletter.id)
    db.session.commit()
    assert "Check your inbox" in sign_up(stranger, signup, ADDRESS).get_data(as_text=True)
    send_due()
    assert smtp_sink.messages == []


@pytest.mark.parametrize("reason", [SuppressionReason.BOUNCED, SuppressionReason.COMPLAINED])
def test_a_bounced_or_complained_address_is_sent_nothing_and_the_owner_sees_why(
    client, auth, owner, stranger, signup, newsletter, smtp_sink, reason
):
    db.session.add(Suppression(user_id=owner.id, address=ADDRESS, reason=reason))
    db.session.commit()
    page = sign_up(stranger, signup, ADDRESS).get_data(as_text=True)
    assert "Check your inbox" in page, "a stranger learns nothing about the address"
    send_due()
    assert smtp_sink.messages == []
    assert request_of(ADDRESS).status == SignupStatus.REFUSED
    auth.login(owner.username)
    page = client.get(f"/audience/lists/{newsletter.id}/signup").get_data(as_text=True)
    assert ADDRESS in page
    assert "no confirmation was sent" in page
    assert "take it off your Suppressions page" in page


def test_an_address_that_had_unsubscribed_subscribes_again_by_confirming(
    app, owner, stranger, signup, newsletter, smtp_sink
):
    db.session.add(Suppression(user_id=owner.id, address=ADDRESS, reason=SuppressionReason.UNSUBSCRIBED))
    db.session.commit()
    sign_up(stranger, signup, ADDRESS)
    send_due()
    person = app.test_client()
    path = confirmation_path(smtp_sink.messages[0])
    person.post(path, data={"csrf_token": csrf_token_from(person.get(path))})
    assert members(newsletter) == [ADDRESS]
    db.session.expire_all()
    assert db.session.scalars(sa.select(Suppression)).all() == []


def test_a_filled_in_honeypot_looks_the_same_and_sends_nothing(stranger, signup, smtp_sink):
    response = sign_up(stranger, signup, ADDRESS, website="http://spam.example")
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    send_due()
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Type your email address."), ("not-an-address", "That email address won&#39;t work")],
)
def test_a_bad_address_gets_a_clear_message_and_keeps_what_was_typed(stranger, signup, email, message):
    response = sign_up(stranger, signup, email, name="Asha Rao")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'value="Asha Rao"' in page
    assert f'value="{email}"' in page


def test_a_name_with_a_line_break_is_refused_rather_than_reaching_a_header(stranger, signup):
    response = sign_up(stranger, signup, ADDRESS, name="Asha\r\nBcc: x@example.com")
    assert response.status_code == 400
    assert "single line" in response.get_data(as_text=True)


def test_the_snippet_posts_from_another_site_without_a_csrf_token(stranger, signup):
    response = stranger.post(
        f"/subscribe/{signup.token}",
        data={"email": ADDRESS},
        headers={"Origin": "https://owners-site.example"},
    )
    assert response.status_code == 200
    assert request_of(ADDRESS).status == SignupStatus.PENDING


@pytest.mark.parametrize(
    "app_settings",
    [{"LIST_SIGNUP_RATE_LIMIT_PER_IP": "2 per hour"}],
)
def test_public_posts_are_limited_per_client_address(stranger, signup):
    codes = [sign_up(stranger, signup, f"reader{i}@rcpt.example").status_code for i in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("app_settings", [{"LIST_SIGNUP_RATE_LIMIT_PER_LIST": "2 per hour"}])
def test_public_posts_are_limited_per_list_whatever_the_address(app, signup):
    codes = [
        app.test_client()
        .post(
            f"/subscribe/{signup.token}",
            data={"email": f"reader{i}@rcpt.example"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
        )
        .status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_a_form_that_is_off_or_unknown_takes_no_signups(stranger, signup):
    assert stranger.get("/subscribe/no-such-form").status_code == 404
    signup.enabled = False
    db.session.commit()
    response = sign_up(stranger, signup, ADDRESS)
    assert response.status_code == 404
    assert "This sign-up form is closed" in response.get_data(as_text=True)


def test_the_hosted_form_shows_the_list_and_the_sender(stranger, signup):
    page = stranger.get(f"/subscribe/{signup.token}").get_data(as_text=True)
    assert "Subscribe to Newsletter" in page
    assert '<span class="h5 mb-0" id="sender-name">Monsoon Books</span>' in page
    assert 'class="signup-trap"' in page


def test_an_expired_or_tampered_confirmation_link_is_refused(app, stranger, signup, smtp_sink, monkeypatch):
    sign_up(stranger, signup, ADDRESS)
    send_due()
    path = confirmation_path(smtp_sink.messages[0])
    assert app.test_client().get(path[:-3] + "xyz").status_code == 400
    later = clock.utcnow() + timedelta(days=app.config["SIGNUP_CONFIRMATION_DAYS"], minutes=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    response = app.test_client().get(path)
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)
