"""A refusal of the account never fails the list: held accounts, the circuit breaker, and cooldowns that
last as long as the provider says."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings
from app.sending.dispatcher import ready_accounts
from app.states import EmailStatus
from tests.builders import make_queued_campaign
from tests.sending import runs
from tests.sending.test_batch import emails_of
from tests.services import free_port


def run_batch(settings, account, **options):
    return runs.run_batch(settings, account.id, **options)


def account_of(account) -> SMTPSettings:
    db.session.expire_all()
    return db.session.get(SMTPSettings, account.id)


def statuses(campaign: Campaign) -> list[str]:
    return [email.status for email in emails_of(campaign)]


@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("RCPT", "554 5.7.1 <{address}>: Relay access denied"),
        ("RCPT", "550 5.7.60 SMTP; Client does not have permissions to send as this sender"),
        (
            "DATA",
            "554 Message rejected: Email address is not verified. The following identities failed the check",
        ),
        (
            "DATA",
            "550 5.7.26 Unauthenticated email from sender.example is not accepted due to domain's DMARC policy",
        ),
        ("RCPT", "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP."),
    ],
)
def test_an_account_refusal_at_any_stage_fails_no_recipient_and_holds_the_account(
    account, engine_settings, smtp_sink, stage, reply
):
    campaign = make_queued_campaign(account, 5)
    smtp_sink.script.add(stage, reply)
    report = run_batch(engine_settings, account)
    assert report.failed == 0
    assert report.stopped_by.startswith("account")
    assert statuses(campaign) == [EmailStatus.PENDING] * 5
    assert all(email.attempts == 0 for email in emails_of(campaign))
    held = account_of(account)
    assert held.held
    assert reply.split()[0] in held.last_error
    assert " — " in held.last_error, "the reply is followed by what it means and what to do"
    assert account.id not in ready_accounts(db.session, engine_settings, clock.utcnow() + timedelta(days=1))


def test_a_network_failure_does_not_hold_the_account(account, engine_settings):
    account.port = free_port()
    db.session.commit()
    make_queued_campaign(account, 1)
    run_batch(engine_settings, account)
    failing = account_of(account)
    assert failing.last_error
    assert not failing.held


def test_the_same_policy_refusal_for_three_recipients_in_a_row_trips_the_circuit_breaker(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 10)
    smtp_sink.script.add("RCPT", "550 5.7.1 Message refused by local policy ({address})")
    report = run_batch(engine_settings, account)
    assert report.stopped_by.startswith("account")
    assert report.failed == 0
    emails = emails_of(campaign)
    assert [e.status for e in emails] == [EmailStatus.PENDING] * 10
    assert all(e.attempts == 0 and e.last_smtp_message is None for e in emails)
    held = account_of(account)
    assert held.held
    assert "3 recipients in a row" in held.last_error


def test_unknown_users_in_a_row_are_a_stale_list_not_a_refusal_of_the_account(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 5)
    smtp_sink.script.add("RCPT", "550 5.1.1 <{address}>: Recipient address rejected: User unknown")
    report = run_batch(engine_settings, account)
    assert report.failed == 5
    assert report.stopped_by is None
    assert statuses(campaign) == [EmailStatus.FAILED] * 5
    assert not account_of(account).held


def test_a_different_refusal_between_two_resets_the_breaker(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 5)
    smtp_sink.script.add(
        "RCPT",
        "550 5.7.1 Message refused by local policy",
        addresses=[
            "r00000@rcpt.example",
            "r00001@rcpt.example",
            "r00003@rcpt.example",
            "r00004@rcpt.example",
        ],
    )
    run_batch(engine_settings, account)
    assert statuses(campaign) == [EmailStatus.FAILED] * 2 + [EmailStatus.SENT] + [EmailStatus.FAILED] * 2
    assert not account_of(account).held


def test_a_wait_named_in_the_reply_sets_the_cooldown(account, engine_settings, smtp_sink):
    make_queued_campaign(account, 3)
    smtp_sink.script.add("MAIL", "421 4.7.0 Too many messages, try again in 92 seconds", nth=2)
    before = clock.utcnow()
    report = run_batch(engine_settings, account)
    assert report.sent == 1
    assert report.stopped_by.startswith("rate limit")
    cooled = account_of(account)
    assert timedelta(seconds=91) <= cooled.paused_until - before <= timedelta(seconds=95)
    assert "92 seconds" in cooled.pause_reason


def test_a_daily_quota_waits_until_the_oldest_send_of_the_day_is_a_day_old(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 3)
    smtp_sink.script.add("RCPT", "550 5.4.5 Daily user sending limit exceeded.", nth=2)
    run_batch(engine_settings, account)
    first = emails_of(campaign)[0]
    eight_hours_ago = clock.utcnow() - timedelta(hours=8)
    db.session.execute(sa.update(Email).where(Email.id == first.id).values(sent_at=eight_hours_ago))
    db.session.execute(sa.update(SMTPSettings).values(paused_until=None))
    db.session.commit()
    smtp_sink.script.clear()
    smtp_sink.script.add("RCPT", "550 5.4.5 Daily user sending limit exceeded.")
    db.session.execute(sa.update(Email).values(rate_limit_retry_at=None))
    db.session.commit()
    run_batch(engine_settings, account)
    cooled = account_of(account)
    assert abs(cooled.paused_until - (eight_hours_ago + timedelta(days=1))) < timedelta(seconds=2)
    assert "last 24 hours" in cooled.pause_reason


def test_greylisting_retries_that_recipient_in_minutes_and_does_not_park_the_account(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 3)
    smtp_sink.script.add(
        "RCPT",
        "450 4.2.0 <{address}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/rcpt.example.html",
        addresses=["r00001@rcpt.example"],
    )
    report = run_batch(engine_settings, account)
    assert report.sent == 2
    assert report.retried == 1
    assert report.stopped_by is None
    greylisted = emails_of(campaign)[1]
    assert greylisted.status == EmailStatus.PENDING
    assert greylisted.next_attempt_at - clock.utcnow() < timedelta(minutes=10)
    assert account_of(account).paused_until is None


def test_a_full_mailbox_is_that_recipients_temporary_problem_even_as_5xx(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 2)
    smtp_sink.script.add(
        "RCPT",
        "552 5.2.2 The email account that you tried to reach is over quota.",
        addresses=["r00000@rcpt.example"],
    )
    report = run_batch(engine_settings, account)
    assert report.sent == 1
    assert report.retried == 1
    assert statuses(campaign) == [EmailStatus.PENDING, EmailStatus.SENT]


def test_a_temporary_refusal_before_any_recipient_burns_no_attempt(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 3)
    smtp_sink.script.add("MAIL", "421 4.7.0 Try again later, closing connection. (MAIL) gsmtp")
    report = run_batch(engine_settings, account)
    assert report.stopped_by.startswith("account")
    assert [(e.status, e.attempts) for e in emails_of(campaign)] == [(EmailStatus.PENDING, 0)] * 3
    waiting = account_of(account)
    assert "Try again later" in waiting.last_error
    assert not waiting.held
