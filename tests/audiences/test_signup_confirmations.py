"""A confirmation email keeps its SMTP account's rules as a campaign's emails do: cooldowns, holds, caps
and the interval; every failure lands where the owner looks (a real SMTP sink on loopback)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.audiences.signup.models import SignupStatus
from app.extensions import db
from app.models import SMTPSettings
from app.smtp_crypto import encrypt_password
from app.states import EmailStatus
from app.tasks import send_signup_confirmation
from tests.audiences.conftest import make_list
from tests.audiences.signup_helpers import open_signup, received, request_of, send_due, sign_up
from tests.builders import add_campaign, add_emails, make_account
from tests.smtp_sink import DROP, RATE_LIMITED

ADDRESS = "reader@rcpt.example"


@pytest.fixture
def owner(make_user):
    return make_user("kiran")


@pytest.fixture
def stranger(app):
    return app.test_client(use_cookies=False)


def signup_through(owner, sink, **account_fields):
    account = make_account(owner, sink, **account_fields)
    return open_signup(make_list(owner), account), account


def reload(account: SMTPSettings) -> SMTPSettings:
    db.session.expire_all()
    return db.session.get(SMTPSettings, account.id)


def test_a_rate_limit_cools_the_account_down_and_the_confirmation_waits_for_it(
    owner, stranger, smtp_sink, monkeypatch
):
    signup, account = signup_through(owner, smtp_sink)
    rule = smtp_sink.script.add("MAIL", RATE_LIMITED)
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.PENDING]
    account = reload(account)
    assert account.paused_until is not None
    assert "451" in account.pause_reason
    request = request_of(ADDRESS)
    assert request.next_attempt_at == account.paused_until
    assert request.attempts == 0
    smtp_sink.script.remove(rule)
    assert send_due() == [], "nothing goes while the account cools down"
    later = account.paused_until + timedelta(seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert send_due() == [SignupStatus.SENT]
    assert received(smtp_sink) == [ADDRESS]


def test_a_refused_login_holds_the_account_and_says_so_on_the_settings_page(
    client, auth, owner, stranger, make_smtp_sink
):
    sink = make_smtp_sink(username="kiran", password="right")
    signup, account = signup_through(owner, sink)
    account.password_encrypted = encrypt_password("wrong")
    db.session.commit()
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.PENDING]
    account = reload(account)
    assert account.held
    assert "535" in account.last_error
    assert "535" in request_of(ADDRESS).last_error
    assert send_due() == [], "a held account sends nothing until its owner acts"
    auth.login(owner.username)
    assert "535" in client.get("/settings/").get_data(as_text=True)


def test_a_recipient_the_server_refuses_fails_with_its_reply(owner, stranger, smtp_sink):
    signup, _ = signup_through(owner, smtp_sink)
    smtp_sink.script.reject_recipients(ADDRESS)
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.FAILED]
    assert "550 5.1.1" in request_of(ADDRESS).last_error


def test_a_dropped_connection_is_tried_again_after_a_backoff(owner, stranger, smtp_sink, monkeypatch):
    signup, _ = signup_through(owner, smtp_sink)
    smtp_sink.script.drop_connection()
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.PENDING]
    request = request_of(ADDRESS)
    assert request.attempts == 1
    assert request.next_attempt_at > clock.utcnow()
    later = request.next_attempt_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert send_due() == [SignupStatus.SENT]


def test_two_confirmations_of_one_account_keep_its_interval(owner, stranger, smtp_sink, monkeypatch):
    signup, account = signup_through(owner, smtp_sink, send_interval=60)
    sign_up(stranger, signup, "first@rcpt.example")
    sign_up(stranger, signup, "second@rcpt.example")
    assert send_due() == [SignupStatus.SENT, SignupStatus.PENDING]
    assert received(smtp_sink) == ["first@rcpt.example"]
    assert request_of("second@rcpt.example").last_error == "waiting for the account's interval"
    later = reload(account).last_send_at + timedelta(seconds=61)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert send_due() == [SignupStatus.SENT]
    assert received(smtp_sink) == ["first@rcpt.example", "second@rcpt.example"]


def test_a_used_up_daily_cap_holds_confirmations_too(owner, stranger, smtp_sink):
    signup, account = signup_through(owner, smtp_sink, daily_cap=2)
    add_emails(add_campaign(owner, account), 2, EmailStatus.SENT, sent_at=clock.utcnow())
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.PENDING]
    assert smtp_sink.messages == []
    assert "cap" in request_of(ADDRESS).last_error


def test_a_task_delivered_twice_sends_one_email(owner, stranger, smtp_sink):
    signup, _ = signup_through(owner, smtp_sink)
    sign_up(stranger, signup, ADDRESS)
    request_id = request_of(ADDRESS).id
    db.session.commit()  # the task runs in an app context of its own, as in a worker
    assert send_signup_confirmation(request_id) == SignupStatus.SENT
    assert send_signup_confirmation(request_id) == ""
    assert received(smtp_sink) == [ADDRESS]


def test_without_an_account_the_owner_is_told_to_choose_one(owner, stranger, smtp_sink):
    signup = open_signup(make_list(owner), None)
    sign_up(stranger, signup, ADDRESS)
    request_id = request_of(ADDRESS).id
    db.session.commit()
    assert send_signup_confirmation(request_id) == SignupStatus.FAILED
    assert "No SMTP account is chosen" in request_of(ADDRESS).last_error


def test_a_confirmation_whose_worker_died_is_sent_again_by_the_sweep(owner, stranger, smtp_sink, monkeypatch):
    signup, _ = signup_through(owner, smtp_sink)
    sign_up(stranger, signup, ADDRESS)
    request = request_of(ADDRESS)
    request.status, request.claimed_at = SignupStatus.SENDING, clock.utcnow()
    db.session.commit()
    assert send_due() == []
    later = clock.utcnow() + timedelta(minutes=5)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert send_due() == [SignupStatus.SENT]


@pytest.mark.parametrize("app_settings", [{"MAX_ATTEMPTS": 2}])
def test_a_confirmation_that_keeps_failing_gives_up_after_max_attempts(
    owner, stranger, smtp_sink, monkeypatch
):
    signup, _ = signup_through(owner, smtp_sink)
    smtp_sink.script.add("DATA", DROP)  # every time
    sign_up(stranger, signup, ADDRESS)
    assert send_due() == [SignupStatus.PENDING]
    later = clock.utcnow() + timedelta(hours=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert send_due() == [SignupStatus.FAILED]
    assert request_of(ADDRESS).last_error.startswith("Gave up after 2 tries")
