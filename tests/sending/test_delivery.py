"""The delivery guarantees, proven with real processes: a Celery worker and beat, a real broker
(the embedded filesystem one with SQLite, Redis with PostgreSQL) and an SMTP server on loopback."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings
from app.sending.dispatcher import claim_batch
from app.states import CampaignStatus, EmailStatus
from app.tasks import send_batches
from tests.builders import make_account, make_queued_campaign
from tests.processes import wait_until
from tests.services import free_port, service_missing
from tests.smtp_sink import RATE_LIMITED, SMTPSink
from tests.stack import Stack

pytestmark = pytest.mark.processes


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """The engine tests' settings, with beat ticking twice a second."""
    return {**app_settings, "DISPATCH_INTERVAL": 0.5}


def status_counts(campaign: Campaign) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Email.status, sa.func.count())
        .where(Email.campaign_id == campaign.id)
        .group_by(Email.status)
    )
    return dict(rows.all())


def sent_count(campaign: Campaign) -> int:
    return status_counts(campaign).get(EmailStatus.SENT, 0)


def received_once(sink: SMTPSink, campaign: Campaign) -> bool:
    addresses = db.session.scalars(sa.select(Email.address).where(Email.campaign_id == campaign.id)).all()
    return sink.addresses_received() == Counter(addresses)


def test_200_recipients_each_receive_the_campaign_exactly_once(stack: Stack, account, smtp_sink):
    campaign = make_queued_campaign(account, 200)
    stack.start()
    stack.wait_for(lambda: sent_count(campaign) == 200, 90, "200 sent")
    assert stack.read(lambda: received_once(smtp_sink, campaign)), stack.logs
    stack.wait_for(
        lambda: db.session.get(Campaign, campaign.id).status == CampaignStatus.COMPLETED, 15, "completed"
    )


@pytest.mark.one_database
def test_a_campaign_due_between_two_ticks_starts_on_time_not_at_the_next_tick(
    stack: Stack, account, smtp_sink
):
    worker, _beat = stack.start(DISPATCH_INTERVAL=6)
    worker.wait_for_log("Task campaigns.dispatch[", timeout=30)
    start = clock.utcnow() + timedelta(seconds=8)  # seen by the next tick, 4 s before the one after
    make_queued_campaign(account, 1, scheduled_at=start)
    db.session.commit()
    wait_until(lambda: smtp_sink.messages, 30, "the first email")
    late = datetime.fromtimestamp(smtp_sink.messages[0].received_at, UTC).replace(tzinfo=None) - start
    assert timedelta(0) <= late < timedelta(seconds=3), stack.logs


def test_two_beats_and_two_workers_still_send_each_email_once(stack: Stack, make_user, make_smtp_sink):
    """Only one beat should run, but a second one (and a second worker) must do no harm."""
    sinks = [make_smtp_sink(), make_smtp_sink()]
    campaigns = [
        make_queued_campaign(make_account(make_user(f"u{i}"), sink), 60) for i, sink in enumerate(sinks)
    ]
    stack.worker("w1")
    stack.worker("w2")
    stack.beat("b1")
    stack.beat("b2")
    for campaign, sink in zip(campaigns, sinks, strict=True):
        stack.wait_for(lambda c=campaign: sent_count(c) == 60, 90, "60 sent")
        assert stack.read(lambda c=campaign, s=sink: received_once(s, c)), stack.logs


def test_rate_limit_parks_the_account_for_the_cooldown_while_others_keep_sending(
    stack: Stack, make_user, make_smtp_sink
):
    limited_sink, other_sink = make_smtp_sink(), make_smtp_sink()
    limited_sink.script.add("DATA", RATE_LIMITED, nth=5, once=True)
    limited = make_queued_campaign(make_account(make_user("limited"), limited_sink), 10)
    other = make_queued_campaign(make_account(make_user("other"), other_sink, send_interval=0.2), 30)
    stack.start(concurrency=2, RATE_LIMIT_RETRY=4)

    stack.wait_for(
        lambda: db.session.get(SMTPSettings, limited.smtp_account_id).paused_until is not None, 30, "cooldown"
    )
    assert limited_sink.count == 4
    emails = stack.read(
        lambda: [
            (e.status, e.attempts, e.rate_limit_retry_at is not None)
            for e in db.session.scalars(
                sa.select(Email).where(Email.campaign_id == limited.id).order_by(Email.id)
            )
        ]
    )
    assert emails[:4] == [(EmailStatus.SENT, 1, False)] * 4
    assert emails[4] == (EmailStatus.PENDING, 0, True)
    assert emails[5:] == [(EmailStatus.PENDING, 0, False)] * 5

    paused_until = stack.read(lambda: db.session.get(SMTPSettings, limited.smtp_account_id).paused_until)
    other_before = other_sink.count
    while clock.utcnow() < paused_until:
        assert limited_sink.count == 4, "nothing may be tried for a cooling account"
        time.sleep(0.2)
    assert other_sink.count > other_before, "another user's campaign keeps sending meanwhile"

    stack.wait_for(lambda: sent_count(limited) == 10, 30, "all 10 sent after the cooldown")
    assert stack.read(lambda: received_once(limited_sink, limited))
    stack.wait_for(lambda: sent_count(other) == 30, 30, "the other campaign finished")
    assert stack.read(lambda: received_once(other_sink, other))


def test_two_workers_keep_each_accounts_spacing(stack: Stack, make_user, make_smtp_sink):
    sinks = [make_smtp_sink(), make_smtp_sink()]
    for index, sink in enumerate(sinks):
        make_queued_campaign(make_account(make_user(f"s{index}"), sink, send_interval=0.3, batch_size=3), 7)
    stack.worker("w1")
    stack.start(worker="w2")
    for sink in sinks:
        sink.wait_for(7, timeout=60)
        arrivals = [message.received_monotonic for message in sink.messages]
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert min(gaps) >= 0.29, gaps


def test_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_email_in_flight(
    stack: Stack, account, smtp_sink
):
    campaign = make_queued_campaign(account, 30)
    settings = {"SEND_INTERVAL": 0.2, "CLAIM_LEASE": 3}
    doomed = stack.worker("doomed", **settings)
    stack.beat(**settings)
    smtp_sink.wait_for(5, timeout=30)
    doomed.kill()
    stack.worker("survivor", **settings)
    stack.wait_for(lambda: sent_count(campaign) == 30, 60, "all 30 sent after the lease")
    copies = smtp_sink.addresses_received()
    assert len(copies) == 30
    assert sum(copies.values()) - 30 <= 1, copies.most_common(3)


def test_worker_killed_at_full_speed_loses_nothing_and_repeats_at_most_the_email_in_flight(
    stack: Stack, account, smtp_sink
):
    """No pause between emails: each commit overlaps the next message, so the kill lands anywhere in
    the exchange, a message's body sent and its end held back for a commit included."""
    campaign = make_queued_campaign(account, 200)
    settings = {"SEND_INTERVAL": 0, "CLAIM_LEASE": 3}
    doomed = stack.worker("doomed", **settings)
    stack.beat(**settings)
    smtp_sink.wait_for(20, timeout=30)
    doomed.kill()
    stack.worker("survivor", **settings)
    stack.wait_for(lambda: sent_count(campaign) == 200, 90, "all 200 sent after the lease")
    copies = smtp_sink.addresses_received()
    assert len(copies) == 200
    assert sum(copies.values()) - 200 <= 1, copies.most_common(3)


def test_rejected_recipient_fails_with_the_server_reply_and_the_rest_go(stack: Stack, account, smtp_sink):
    campaign = make_queued_campaign(account, 5)
    smtp_sink.script.reject_recipients("r00002@rcpt.example")
    stack.start()
    stack.wait_for(
        lambda: status_counts(campaign) == {EmailStatus.SENT: 4, EmailStatus.FAILED: 1},
        30,
        "4 sent, 1 failed",
    )
    failed = stack.read(
        lambda: db.session.execute(
            sa.select(Email.last_smtp_code, Email.last_smtp_message).where(Email.status == EmailStatus.FAILED)
        ).one()
    )
    assert tuple(failed) == (550, "5.1.1 <r00002@rcpt.example>: user unknown")


def test_an_account_refused_at_every_recipient_fails_nobody_and_is_held(stack: Stack, account, smtp_sink):
    """(The circuit breaker, for refusals whose words say nothing, is proven in test_account_refusals.)"""
    campaign = make_queued_campaign(account, 20)
    smtp_sink.script.add("RCPT", "554 5.7.1 <{address}>: Relay access denied")
    stack.start()
    stack.wait_for(lambda: db.session.get(SMTPSettings, account.id).held, 30, "the account held")
    time.sleep(1)  # beat ticks twice a second: a held account gets no batch
    assert stack.read(lambda: status_counts(campaign)) == {EmailStatus.PENDING: 20}, stack.logs
    assert len(smtp_sink.messages) == 0


def test_dropped_connections_lose_nothing_and_send_nothing_twice(stack: Stack, account, smtp_sink):
    campaign = make_queued_campaign(account, 30)
    smtp_sink.script.drop_connection(nth=4)
    smtp_sink.script.drop_connection(nth=17, stage="RCPT")
    stack.start(RETRY_BACKOFF=1)
    stack.wait_for(lambda: sent_count(campaign) == 30, 60, "all 30 sent")
    assert stack.read(lambda: received_once(smtp_sink, campaign)), stack.logs
    retried = stack.read(
        lambda: db.session.scalars(sa.select(Email.attempts).where(Email.attempts > 1)).all()
    )
    assert retried == [2, 2]  # the dropped try, then the one that went out


@pytest.mark.parametrize("action", [CampaignStatus.PAUSED, CampaignStatus.CANCELLED])
def test_paused_or_cancelled_campaign_stops_before_its_next_email(stack: Stack, account, smtp_sink, action):
    campaign = make_queued_campaign(account, 10)
    stack.start(SEND_INTERVAL=0.4)
    smtp_sink.wait_for(2, timeout=30)
    db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(status=action))
    db.session.commit()
    time.sleep(0.1)
    stopped_at = smtp_sink.count
    assert stopped_at <= 3, "at most the email already past its check may still go"
    time.sleep(2)
    assert smtp_sink.count == stopped_at
    expected_rest = EmailStatus.PENDING if action == CampaignStatus.PAUSED else EmailStatus.CANCELLED
    stack.wait_for(
        lambda: status_counts(campaign) == {EmailStatus.SENT: stopped_at, expected_rest: 10 - stopped_at},
        10,
        f"the rest {expected_rest}",
    )
    if action == CampaignStatus.PAUSED:
        db.session.execute(
            sa.update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.SENDING)
        )
        db.session.commit()
        stack.wait_for(lambda: sent_count(campaign) == 10, 30, "all sent after resuming")
        assert stack.read(lambda: received_once(smtp_sink, campaign))


def test_a_batch_delivered_twice_is_sent_once(stack: Stack, account, smtp_sink, engine_settings):
    """Redis re-delivers a task whose worker did not acknowledge it in time: that must be harmless."""
    campaign = make_queued_campaign(account, 10)
    claim = claim_batch(db.session, engine_settings, account.id)
    stack.worker(concurrency=2)
    send_batches.delay([[claim.batch_id, account.id, 0]])
    send_batches.delay([[claim.batch_id, account.id, 0]])
    stack.wait_for(lambda: sent_count(campaign) == 10, 30, "10 sent")
    time.sleep(1)
    assert stack.read(lambda: received_once(smtp_sink, campaign))


def test_broker_restarted_mid_campaign_loses_nothing(
    app, database_url, app_settings, tmp_path, account, smtp_sink
):
    if not database_url.startswith("postgresql"):
        pytest.skip("the restartable broker is Redis, which runs with PostgreSQL")
    server = shutil.which("redis-server")
    if server is None:
        service_missing("redis-server is not installed")
    port = free_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    wait_until(lambda: _redis_answers(port), 10, "the test's own Redis")
    stack = Stack(app, database_url, f"redis://127.0.0.1:{port}/0", tmp_path, app_settings)
    try:
        campaign = make_queued_campaign(account, 60)
        settings = {"SEND_INTERVAL": 0.05, "BATCH_SIZE": 5, "CLAIM_LEASE": 3}
        stack.worker(**settings)
        stack.beat(**settings)
        smtp_sink.wait_for(15, timeout=30)
        broker.kill()
        broker.wait()
        time.sleep(1)
        broker = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        stack.wait_for(lambda: sent_count(campaign) == 60, 90, "all 60 sent after the broker came back")
        assert stack.read(lambda: received_once(smtp_sink, campaign)), stack.logs
    finally:
        stack.stop()
        broker.kill()
        broker.wait()


def _redis_answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False
