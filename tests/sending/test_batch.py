"""The batch sender: one connection, each email once, every SMTP outcome handled as DESIGN.md says."""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings, Suppression
from app.sending.batch import BatchSender
from app.sending.connection import open_connection, run_sync
from app.sending.dispatcher import claim_batch, claim_batches
from app.sending.executors import SessionDatabase
from app.sending.outcomes import BatchLedger, BatchReport, Sent
from app.smtp_crypto import decrypt_password
from app.states import CampaignStatus, EmailStatus
from tests.builders import make_account, make_queued_campaign
from tests.sending import runs
from tests.smtp_sink import RATE_LIMITED


def run_batch(settings, account, **options):
    return runs.run_batch(settings, account.id, **options)


def emails_of(campaign: Campaign) -> list[Email]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Email).where(Email.campaign_id == campaign.id).order_by(Email.id))
    )


def set_status_once_sent(sink, count: int, status: str):
    """A pause for the batch that, when `count` emails have arrived, changes the campaign's status
    as the user's click would, between two emails."""

    async def pause(seconds: float) -> None:
        if sink.count == count:
            db.session.execute(sa.update(Campaign).values(status=status))
            db.session.commit()

    return pause


def test_every_email_arrives_once_personalised(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 3)
    report = run_batch(engine_settings, account)
    assert report.sent == 3
    assert smtp_sink.addresses_received() == {f"r{i:05d}@rcpt.example": 1 for i in range(3)}
    first = smtp_sink.messages[0].message
    assert first["Subject"] == "Hello Reader 0"
    assert first["From"] == "Sender <sender@sender.example>"
    assert "your code is C0." in first.get_body(("html",)).get_content()
    sent = emails_of(campaign)
    assert all(
        e.status == EmailStatus.SENT and e.sent_at and e.message_id and e.batch_id is None for e in sent
    )
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.COMPLETED


class SlowCommits(SessionDatabase):
    """The test's session, each commit taking a while to return; notes, as each returns, how many
    messages the sink has begun (MAIL) and how many it has kept."""

    def __init__(self, sink) -> None:
        super().__init__(db.session)
        self.sink = sink
        self.returned: list[tuple[int, int]] = []

    async def run(self, work):
        result = await super().run(work)
        await asyncio.sleep(0.05)
        self.returned.append((self.sink.script.seen("MAIL"), self.sink.count))
        return result


def test_each_email_costs_one_commit_that_overlaps_its_message_which_ends_only_after_it(
    account, engine_settings, smtp_sink
):
    """The commit carrying the last email's `sent` and this one's `sending` runs while this message goes
    out; the message's final "." waits for it, so a crash leaves at most one email in doubt."""
    make_queued_campaign(account, 4)
    database = SlowCommits(smtp_sink)
    claim = claim_batch(db.session, engine_settings, account.id)
    report = runs.run_claimed(engine_settings, claim.batch_id, account.id, database)
    assert report.sent == 4
    assert smtp_sink.count == 4
    take, *per_email, finish = database.returned
    assert take == (0, 0)
    assert finish == (4, 4)
    # The first email connects once its commit has returned; from then on, when email n's commit
    # returned, its message had begun and the ones before it were kept, but not it.
    assert per_email == [(0, 0)] + [(n + 1, n) for n in range(1, 4)]


class CountedCommits(SessionDatabase):
    """The test's session, counting the transactions it commits."""

    def __init__(self) -> None:
        super().__init__(db.session)
        self.transactions = 0

    async def run(self, work):
        self.transactions += 1
        return await super().run(work)


def test_the_accounts_next_batch_is_taken_in_the_transaction_that_ends_this_one_and_goes_on_on_its_connection(
    account, engine_settings, smtp_sink
):
    """Between two batches of an account with more due mail: one commit, not one to finish, one to
    claim and one to take the next; and no new SMTP connection while the account's server is the same."""
    campaign = make_queued_campaign(account, 3)
    settings = replace(engine_settings, batch_size=2)
    claim = claim_batch(db.session, settings, account.id)
    database = CountedCommits()
    connections = []

    async def counting_connect(endpoint):
        connections.append(endpoint)
        return await open_connection(endpoint)

    def sender(ticket: str, **options) -> BatchSender:
        claim_next = functools.partial(claim_batches, settings=settings, account_ids=[account.id])
        return BatchSender(
            database,
            settings,
            ticket,
            account.id,
            decrypt_password,
            connect=counting_connect,
            claim_next=claim_next,
            **options,
        )

    async def two_batches() -> BatchSender:
        first = sender(claim.batch_id)
        assert (await first.run()).sent == 2
        assert database.transactions == 1 + 2 + 1  # take, one per email, finish with the next claim
        next_batch = first.next_batch
        assert next_batch is not None
        assert next_batch.work is not None
        assert len(next_batch.work.emails) == 1
        assert db.session.get(SMTPSettings, account.id).batch_id == next_batch.ledger.run_id
        assert db.session.get(Campaign, campaign.id).status == CampaignStatus.SENDING
        follower = sender(next_batch.ledger.ticket, taken=next_batch)
        assert (await follower.run()).sent == 1
        return follower

    follower = run_sync(two_batches)
    assert database.transactions == 4 + 1 + 1  # no take: one for its email, one to finish
    assert smtp_sink.count == 3
    assert len(connections) == 1
    assert follower.next_batch is None
    assert db.session.get(Campaign, campaign.id).status == CampaignStatus.COMPLETED


def test_the_last_emails_sent_rides_on_the_next_ones_start(account, engine_settings):
    """One write (one statement on PostgreSQL) records the email the server accepted as `sent` and starts
    the next one; the campaign's counters follow both (checked after every test)."""
    make_queued_campaign(account, 2)
    claim = claim_batch(db.session, engine_settings, account.id)
    ledger = BatchLedger(claim.batch_id, account.id, BatchReport())
    work = ledger.take(db.session)
    assert work is not None
    first, second = work.emails
    assert ledger.begin(db.session, first, "<first@sender.example>")
    db.session.commit()
    assert ledger.begin(db.session, second, "<second@sender.example>", Sent(first.id, clock.utcnow()))
    db.session.commit()
    rows = db.session.execute(sa.select(Email.id, Email.status, Email.message_id).order_by(Email.id)).all()
    assert [(row.status, row.message_id) for row in rows] == [
        (EmailStatus.SENT, "<first@sender.example>"),
        (EmailStatus.SENDING, "<second@sender.example>"),
    ]
    assert ledger.report.sent == 1


def test_whole_batch_uses_one_connection(account, engine_settings):
    make_queued_campaign(account, 5)
    connections = []

    async def counting_connect(endpoint):
        connections.append(endpoint)
        return await open_connection(endpoint)

    run_batch(engine_settings, account, connect=counting_connect)
    assert len(connections) == 1


def test_reconnects_every_so_many_emails(account, engine_settings, smtp_sink):
    make_queued_campaign(account, 5)
    connections = []
    settings = replace(engine_settings, reconnect_every=2)

    async def counting_connect(endpoint):
        connections.append(endpoint)
        return await open_connection(endpoint)

    run_batch(settings, account, connect=counting_connect)
    assert len(connections) == 3
    assert smtp_sink.count == 5


def test_rate_limit_parks_the_email_cools_the_account_and_returns_the_rest(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 8)
    smtp_sink.script.add("DATA", RATE_LIMITED, nth=3)
    report = run_batch(engine_settings, account)
    assert report.sent == 2
    assert report.stopped_by.startswith("rate limit")
    emails = emails_of(campaign)
    assert [e.status for e in emails] == [EmailStatus.SENT] * 2 + [EmailStatus.PENDING] * 6
    parked, rest = emails[2], emails[3:]
    assert parked.rate_limit_retry_at is not None
    assert parked.attempts == 0
    assert parked.last_smtp_code == 451
    assert all(e.attempts == 0 and e.rate_limit_retry_at is None and e.batch_id is None for e in rest)
    cooled = db.session.get(SMTPSettings, account.id)
    assert cooled.paused_until == parked.rate_limit_retry_at
    assert cooled.pause_reason == RATE_LIMITED
    assert cooled.batch_id is None


def test_rejected_recipient_fails_with_the_server_reply_and_the_batch_goes_on(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 3)
    smtp_sink.script.reject_recipients("r00001@rcpt.example")
    report = run_batch(engine_settings, account)
    assert report.sent == 2
    assert report.failed == 1
    rejected = emails_of(campaign)[1]
    assert rejected.status == EmailStatus.FAILED
    assert rejected.last_smtp_code == 550
    assert rejected.last_smtp_message == "5.1.1 <r00001@rcpt.example>: user unknown"
    assert rejected.permanent_failure, "a refused recipient failed for good"


def test_every_try_the_recipients_server_answered_counts_as_an_attempt(account, engine_settings, smtp_sink):
    """What the report's Attempts column shows: a sent email and a rejected one were each tried once."""
    campaign = make_queued_campaign(account, 2)
    smtp_sink.script.reject_recipients("r00001@rcpt.example")
    run_batch(engine_settings, account)
    assert [(e.status, e.attempts) for e in emails_of(campaign)] == [
        (EmailStatus.SENT, 1),
        (EmailStatus.FAILED, 1),
    ]


def test_dropped_connection_retries_that_email_later_and_reconnects_for_the_rest(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, 4)
    smtp_sink.script.drop_connection(nth=2)
    report = run_batch(engine_settings, account)
    assert report.sent == 3
    assert report.retried == 1
    dropped = emails_of(campaign)[1]
    assert dropped.status == EmailStatus.PENDING
    assert dropped.attempts == 1
    assert dropped.next_attempt_at > clock.utcnow()
    assert "closed the connection" in dropped.last_smtp_message


def test_temporary_failure_backs_off_exponentially_then_fails(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 1)
    smtp_sink.script.add("RCPT", "450 4.2.1 Mailbox busy")
    backoffs = iter([60, 120, 240, 480])
    for attempt in range(1, engine_settings.max_attempts + 1):
        db.session.execute(sa.update(Email).values(next_attempt_at=None))
        db.session.commit()
        before = clock.utcnow()
        run_batch(engine_settings, account)
        took = clock.utcnow() - before
        email = emails_of(campaign)[0]
        assert email.attempts == attempt
        if email.status == EmailStatus.PENDING:
            # Counted from the failure, which came somewhere within the batch's run.
            backoff = timedelta(seconds=next(backoffs))
            assert backoff <= email.next_attempt_at - before <= backoff + took
    assert next(backoffs, None) is None
    assert email.status == EmailStatus.FAILED
    assert (email.last_smtp_code, email.last_smtp_message) == (
        450,
        "4.2.1 Mailbox busy (gave up after 5 attempts)",
    )
    assert not email.permanent_failure, "temporary failures given up on are not permanent ones"


@pytest.mark.parametrize(
    ("sink_options", "account_changes", "expected"),
    [
        ({"username": "u", "password": "right"}, {"password": "wrong"}, "AUTH failed: 535 5.7.8"),
        ({}, {"port": "closed"}, "CONNECT failed: No SMTP server answered at that host and port"),
        ({"tls": "starttls", "require_starttls": True}, {"security": "none"}, "530"),
    ],
)
def test_account_problem_returns_the_batch_and_records_the_error(
    make_user, make_smtp_sink, engine_settings, sink_options, account_changes, expected
):
    from app.smtp_crypto import encrypt_password
    from tests.services import free_port

    sink = make_smtp_sink(**sink_options)
    account = make_account(make_user("acct"), sink)
    if "password" in account_changes:
        account.password_encrypted = encrypt_password(account_changes["password"])
    if account_changes.get("port") == "closed":
        account.port = free_port()
    if "security" in account_changes:
        account.security = account_changes["security"]
    db.session.commit()
    campaign = make_queued_campaign(account, 3)
    report = run_batch(engine_settings, account)
    assert report.sent == 0
    assert [(e.status, e.attempts, e.batch_id) for e in emails_of(campaign)] == [
        (EmailStatus.PENDING, 0, None)
    ] * 3
    failing = db.session.get(SMTPSettings, account.id)
    assert expected in failing.last_error
    assert failing.last_error_at is not None
    assert failing.batch_id is None
    assert failing.paused_until is None


def test_starttls_with_login_sends(make_user, make_smtp_sink, engine_settings):
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username="u", password="p")
    account = make_account(make_user("tls"), sink)
    make_queued_campaign(account, 2)
    assert run_batch(engine_settings, account).sent == 2


def test_implicit_tls_sends(make_user, make_smtp_sink, engine_settings):
    sink = make_smtp_sink(tls="implicit", username="u", password="p")
    account = make_account(make_user("ssl"), sink)
    make_queued_campaign(account, 2)
    assert run_batch(engine_settings, account).sent == 2
    assert sink.count == 2


def test_paused_campaign_stops_before_its_next_email(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 5)

    settings = replace(engine_settings, send_interval=0.01)
    run_batch(settings, account, pause=set_status_once_sent(smtp_sink, 2, CampaignStatus.PAUSED))
    assert smtp_sink.count == 2
    assert [e.status for e in emails_of(campaign)] == [EmailStatus.SENT] * 2 + [EmailStatus.PENDING] * 3
    assert all(e.batch_id is None for e in emails_of(campaign))


def test_a_message_paused_mid_exchange_is_dropped_unsent_and_the_rest_cost_no_reconnection(
    account, engine_settings, smtp_sink
):
    """The 3rd message goes out while its start commits; the campaign is paused by then, so the message
    is abandoned before its final "." and the server keeps nothing; the 4th and 5th wait for their own
    commits and never reach the server."""
    campaign = make_queued_campaign(account, 5)
    connections = []

    async def counting_connect(endpoint):
        connections.append(endpoint)
        return await open_connection(endpoint)

    settings = replace(engine_settings, send_interval=0.01)
    pause = set_status_once_sent(smtp_sink, 2, CampaignStatus.PAUSED)
    run_batch(settings, account, pause=pause, connect=counting_connect)
    assert smtp_sink.count == 2
    assert smtp_sink.script.seen("MAIL") == 3
    assert len(connections) == 1
    assert [e.status for e in emails_of(campaign)] == [EmailStatus.SENT] * 2 + [EmailStatus.PENDING] * 3


def test_cancelled_campaign_stops_and_its_emails_are_cancelled(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 4)

    settings = replace(engine_settings, send_interval=0.01)
    run_batch(settings, account, pause=set_status_once_sent(smtp_sink, 1, CampaignStatus.CANCELLED))
    assert [e.status for e in emails_of(campaign)] == [EmailStatus.SENT] + [EmailStatus.CANCELLED] * 3


def test_suppressed_address_is_skipped(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, ["a@rcpt.example", "Gone@Rcpt.Example", "c@rcpt.example"])
    db.session.add(Suppression(user_id=account.user_id, address="gone@rcpt.example", reason="unsubscribed"))
    db.session.commit()
    run_batch(engine_settings, account)
    assert set(smtp_sink.addresses_received()) == {"a@rcpt.example", "c@rcpt.example"}
    assert [e.status for e in emails_of(campaign)] == [
        EmailStatus.SENT,
        EmailStatus.SUPPRESSED,
        EmailStatus.SENT,
    ]


def test_running_a_batch_twice_sends_nothing_twice(account, engine_settings, smtp_sink):
    make_queued_campaign(account, 3)
    claim = claim_batch(db.session, engine_settings, account.id)
    runs.run_claimed(engine_settings, claim.batch_id, account.id)
    again = runs.run_claimed(engine_settings, claim.batch_id, account.id)
    assert again.sent == 0
    assert smtp_sink.count == 3


def test_emails_are_spaced_by_the_accounts_interval(account, engine_settings, smtp_sink):
    account.send_interval = 0.2
    db.session.commit()
    make_queued_campaign(account, 3)
    run_batch(engine_settings, account)
    arrivals = [m.received_monotonic for m in smtp_sink.messages]
    assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(arrivals))


def test_interval_holds_across_batches(account, engine_settings, smtp_sink):
    account.send_interval = 0.3
    started = time.monotonic()
    account.last_send_at = clock.utcnow()
    db.session.commit()
    make_queued_campaign(account, 1)
    run_batch(engine_settings, account)
    assert smtp_sink.messages[0].received_monotonic - started >= 0.28


def test_header_injection_through_merge_values_and_names_is_impossible(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, ["a@rcpt.example"], subject="Hi {{ name }}")
    db.session.execute(
        sa.update(Email).values(name="Eve\r\nBcc: victim@evil.example", merge_data={"code": "x\r\nX-Evil: 1"})
    )
    db.session.commit()
    run_batch(engine_settings, account)
    received = smtp_sink.messages[0]
    assert received.rcpt_tos == ("a@rcpt.example",)
    assert received.message["Bcc"] is None
    assert received.message["X-Evil"] is None
    assert received.message["Subject"] == "Hi Eve Bcc: victim@evil.example"
    assert emails_of(campaign)[0].status == EmailStatus.SENT


def test_a_working_connection_clears_the_accounts_last_error(account, engine_settings):
    account.last_error = "AUTH failed: 535 5.7.8 Authentication failed"
    account.last_error_at = clock.utcnow() - timedelta(minutes=5)
    db.session.commit()
    make_queued_campaign(account, 1)
    run_batch(engine_settings, account)
    db.session.expire_all()
    healed = db.session.get(SMTPSettings, account.id)
    assert healed.last_error is None
    assert healed.last_error_at is None
