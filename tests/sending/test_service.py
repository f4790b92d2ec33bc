"""A worker process's sender: every account handed to it sends at once, on a few database connections."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Email, SMTPSettings
from app.sending.dispatcher import Handoff, claim_batch
from app.sending.service import SenderService
from app.sending.settings import EngineSettings
from app.smtp_crypto import configured_keys, password_decrypter
from app.states import EmailStatus
from tests.builders import make_account, make_queued_campaign
from tests.processes import wait_until

DB_CONNECTIONS = 2


@pytest.fixture
def service(engine_settings: EngineSettings) -> Iterator[SenderService]:
    running = SenderService(
        replace(engine_settings, claim_lease=2.0),
        db.engine,
        password_decrypter(configured_keys()),
        db_connections=DB_CONNECTIONS,
        build_threads=2,
    )
    yield running
    running.stop(timeout=10)


def hand_over(service: SenderService, engine_settings: EngineSettings, *accounts: SMTPSettings) -> None:
    """Claim a batch of each account and hand it over, as the dispatcher would; the test's session is
    left with no transaction open (on SQLite an open one would hold the write lock)."""
    handoffs = []
    for account_id in [account.id for account in accounts]:
        claim = claim_batch(db.session, engine_settings, account_id)
        assert claim is not None
        handoffs.append(Handoff(claim.batch_id, account_id))
    db.session.rollback()
    service.submit(handoffs)


def count(*conditions: sa.ColumnElement[bool]) -> int:
    """Read in a transaction of its own, so the sender's writers are never blocked by the test."""
    try:
        return db.session.scalar(sa.select(sa.func.count(Email.id)).where(*conditions))
    finally:
        db.session.rollback()


def heartbeat() -> object:
    try:
        return db.session.scalar(sa.select(SMTPSettings.batch_heartbeat_at))
    finally:
        db.session.rollback()


def test_many_accounts_send_at_once_each_at_its_own_pace(service, engine_settings, make_user, smtp_sink):
    """Twenty accounts, three emails each 0.4 s apart: done in about 0.8 s, not 20 × 0.8 s."""
    accounts = [make_account(make_user(f"u{i}"), smtp_sink, send_interval=0.4) for i in range(20)]
    for account in accounts:
        make_queued_campaign(account, 3)
    started = time.monotonic()
    hand_over(service, engine_settings, *accounts)
    wait_until(lambda: count(Email.status == EmailStatus.SENT) == 60, 30, "60 sent")
    assert time.monotonic() - started < 8
    by_sender: dict[str, list[float]] = {}
    for message in smtp_sink.messages:
        by_sender.setdefault(message.mail_from, []).append(message.received_monotonic)
    assert len(by_sender) == 20
    gaps = [later - earlier for times in by_sender.values() for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.39
    assert db.engine.pool.checkedout() <= DB_CONNECTIONS + 1  # the sender's, and the test's own


def test_a_finished_batch_goes_on_to_the_accounts_next_one_without_the_broker(
    service, engine_settings, account, smtp_sink
):
    make_queued_campaign(account, 45)
    hand_over(service, engine_settings, account)
    wait_until(lambda: count(Email.status == EmailStatus.SENT) == 45, 30, "all 45 sent in three batches")
    assert smtp_sink.addresses_received() == {f"r{i:05d}@rcpt.example": 1 for i in range(45)}


def test_the_heartbeat_keeps_a_long_batch_claimed(service, engine_settings, account, smtp_sink):
    """A batch outlives its lease (2 s here) and is not taken for a dead worker's."""
    account.send_interval = 0.5
    db.session.commit()
    make_queued_campaign(account, 8)
    hand_over(service, engine_settings, account)
    smtp_sink.wait_for(1)
    first_beat = heartbeat()
    wait_until(lambda: heartbeat() not in (None, first_beat), 5, "a fresh heartbeat")
    wait_until(lambda: count(Email.status == EmailStatus.SENT) == 8, 30, "8 sent")


def test_stopping_finishes_the_email_in_flight_and_gives_the_rest_back(
    service, engine_settings, account, smtp_sink
):
    account.send_interval = 0.5
    db.session.commit()
    make_queued_campaign(account, 10)
    hand_over(service, engine_settings, account)
    smtp_sink.wait_for(2)
    started = time.monotonic()
    service.stop(timeout=10)
    assert time.monotonic() - started < 2
    sent = count(Email.status == EmailStatus.SENT)
    assert 2 <= sent <= 3
    assert smtp_sink.count == sent
    assert count(Email.status == EmailStatus.PENDING, Email.batch_id.is_(None)) == 10 - sent
    assert heartbeat() is None  # the account is free: no claim, no heartbeat
