"""The dispatcher hands each ready account one batch of its due emails, oldest first."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings
from app.sending.dispatcher import (
    HANDOFF_CHUNK,
    Handoff,
    claim_batch,
    complete_finished_campaigns,
    dispatch,
    recover_stale_claims,
)
from app.states import CampaignStatus, EmailStatus
from tests.builders import make_account, make_queued_campaign


class Recorder:
    """Stands in for the broker: what would have been enqueued, and whether its claim was committed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, float]] = []
        self.messages = 0
        self.visible: list[int] = []

    def __call__(self, handoffs: list[Handoff]) -> None:
        self.messages += 1
        for handoff in handoffs:
            self.calls.append((handoff.ticket, handoff.account_id, handoff.delay))
            with db.engine.connect() as other_connection:
                self.visible.append(
                    other_connection.scalar(
                        sa.select(sa.func.count()).where(Email.batch_id == handoff.ticket)
                    )
                )


def statuses(campaign: Campaign) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Email.status, sa.func.count())
        .where(Email.campaign_id == campaign.id)
        .group_by(Email.status)
    )
    return dict(rows.all())


def test_claims_a_batch_of_the_oldest_due_emails(account, engine_settings):
    old = make_queued_campaign(account, 5, scheduled_at=clock.utcnow() - timedelta(hours=2))
    new = make_queued_campaign(account, 30)
    enqueue = Recorder()
    claims = dispatch(db.session, engine_settings, enqueue)
    assert len(claims) == 1
    assert len(claims[0].email_ids) == engine_settings.batch_size == 20
    assert statuses(old) == {EmailStatus.QUEUED: 5}
    assert statuses(new) == {EmailStatus.QUEUED: 15, EmailStatus.PENDING: 15}
    assert db.session.get(Campaign, old.id).status == CampaignStatus.SENDING


def test_batch_is_enqueued_only_after_its_claim_is_committed(account, engine_settings):
    make_queued_campaign(account, 3)
    enqueue = Recorder()
    dispatch(db.session, engine_settings, enqueue)
    assert enqueue.visible == [3]


def test_account_with_a_batch_in_flight_gets_no_second_one(account, engine_settings):
    make_queued_campaign(account, 50)
    assert len(dispatch(db.session, engine_settings, Recorder())) == 1
    assert dispatch(db.session, engine_settings, Recorder()) == []


def test_accounts_are_served_least_recently_used_first_and_spaced(make_user, smtp_sink, app, engine_settings):
    busy = make_account(make_user("busy"), smtp_sink, last_send_at=clock.utcnow())
    idle = make_account(make_user("idle"), smtp_sink)
    make_queued_campaign(busy, 100)
    make_queued_campaign(idle, 2)
    enqueue = Recorder()
    settings = replace(engine_settings, dispatch_spacing=1.5)
    dispatch(db.session, settings, enqueue)
    assert [(account_id, delay) for _, account_id, delay in enqueue.calls] == [(idle.id, 0.0), (busy.id, 1.5)]


def test_batches_to_different_hosts_start_together(make_user, make_smtp_sink, engine_settings):
    """Spacing keeps a herd off one provider; users of different providers never wait for each other."""
    sinks = [make_smtp_sink(), make_smtp_sink()]
    first = make_account(make_user("first"), sinks[0])
    second = make_account(make_user("second"), sinks[1])
    db.session.execute(sa.update(SMTPSettings).where(SMTPSettings.id == second.id).values(host="localhost"))
    db.session.commit()
    for account in (first, second):
        make_queued_campaign(account, 2)
    enqueue = Recorder()
    dispatch(db.session, replace(engine_settings, dispatch_spacing=1.5), enqueue)
    assert sorted((account_id, delay) for _, account_id, delay in enqueue.calls) == [
        (first.id, 0.0),
        (second.id, 0.0),
    ]


def test_many_ready_accounts_are_handed_over_in_few_messages(make_user, smtp_sink, engine_settings):
    """A thousand accounts must not cost the broker a thousand messages."""
    for i in range(HANDOFF_CHUNK + 5):
        make_queued_campaign(make_account(make_user(f"many{i}"), smtp_sink), 1)
    enqueue = Recorder()
    dispatch(db.session, engine_settings, enqueue)
    assert len(enqueue.calls) == HANDOFF_CHUNK + 5
    assert enqueue.messages == 2


def test_one_tick_claims_capped_and_uncapped_accounts_each_within_its_limits(
    make_user, smtp_sink, engine_settings
):
    """A chunk of accounts is claimed at once (PostgreSQL: a few set-based statements); caps still hold."""
    capped = make_account(make_user("capped"), smtp_sink, hourly_cap=3)
    small = make_account(make_user("small"), smtp_sink, batch_size=4)
    plain = make_account(make_user("plain"), smtp_sink)
    idle = make_account(make_user("idle"), smtp_sink)
    for account in (capped, small, plain):
        make_queued_campaign(account, 30)
    make_queued_campaign(idle, 2, scheduled_at=clock.utcnow() + timedelta(hours=1))
    claims = dispatch(db.session, engine_settings, Recorder())
    assert {claim.account_id: len(claim.email_ids) for claim in claims} == {
        capped.id: 3,
        small.id: 4,
        plain.id: 20,
    }
    assert db.session.get(SMTPSettings, idle.id).batch_id is None


def test_nothing_is_claimed_for_an_account_in_cooldown(account, engine_settings):
    make_queued_campaign(account, 3)
    account.paused_until = clock.utcnow() + timedelta(minutes=30)
    db.session.commit()
    assert dispatch(db.session, engine_settings, Recorder()) == []


def test_account_with_a_fresh_error_waits_one_backoff(account, engine_settings):
    make_queued_campaign(account, 3)
    account.last_error_at = clock.utcnow()
    db.session.commit()
    assert dispatch(db.session, engine_settings, Recorder()) == []
    account.last_error_at = clock.utcnow() - timedelta(seconds=engine_settings.retry_backoff + 1)
    db.session.commit()
    assert len(dispatch(db.session, engine_settings, Recorder())) == 1


def test_emails_not_yet_due_are_left_alone(account, engine_settings):
    later = make_queued_campaign(account, 2, scheduled_at=clock.utcnow() + timedelta(hours=1))
    retrying = make_queued_campaign(account, 2)
    parked = make_queued_campaign(account, 2)
    db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == retrying.id)
        .values(next_attempt_at=clock.utcnow() + timedelta(minutes=5))
    )
    db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == parked.id)
        .values(rate_limit_retry_at=clock.utcnow() + timedelta(minutes=5))
    )
    db.session.commit()
    assert dispatch(db.session, engine_settings, Recorder()) == []
    assert statuses(later) == statuses(retrying) == statuses(parked) == {EmailStatus.PENDING: 2}


def test_paused_cancelled_and_draft_campaigns_are_not_dispatched(account, engine_settings):
    for status in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
        make_queued_campaign(account, 2, status=status)
    assert dispatch(db.session, engine_settings, Recorder()) == []


def test_hourly_cap_limits_the_batch(account, engine_settings):
    account.hourly_cap = 5
    done = make_queued_campaign(account, 3)
    db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == done.id)
        .values(status=EmailStatus.SENT, sent_at=clock.utcnow())
    )
    db.session.commit()
    make_queued_campaign(account, 10)
    claims = dispatch(db.session, engine_settings, Recorder())
    assert len(claims[0].email_ids) == 2


def test_daily_cap_reached_claims_nothing(account, engine_settings):
    account.daily_cap = 3
    done = make_queued_campaign(account, 3)
    db.session.execute(
        sa.update(Email)
        .where(Email.campaign_id == done.id)
        .values(status=EmailStatus.SENT, sent_at=clock.utcnow() - timedelta(hours=23))
    )
    db.session.commit()
    make_queued_campaign(account, 10)
    assert claim_batch(db.session, engine_settings, account.id) is None
    assert db.session.get(SMTPSettings, account.id).batch_id is None


def test_account_batch_size_overrides_the_global_one(account, engine_settings):
    account.batch_size = 7
    db.session.commit()
    make_queued_campaign(account, 10)
    assert len(dispatch(db.session, engine_settings, Recorder())[0].email_ids) == 7


def test_stale_claims_return_to_pending_and_free_the_account(account, engine_settings):
    campaign = make_queued_campaign(account, 3)
    claim = claim_batch(db.session, engine_settings, account.id)
    long_ago = clock.utcnow() - timedelta(seconds=engine_settings.claim_lease + 1)
    db.session.execute(sa.update(Email).where(Email.batch_id == claim.batch_id).values(claimed_at=long_ago))
    db.session.execute(sa.update(SMTPSettings).values(batch_heartbeat_at=long_ago))
    db.session.commit()
    assert recover_stale_claims(db.session, engine_settings, clock.utcnow()) == 3
    assert statuses(campaign) == {EmailStatus.PENDING: 3}
    assert db.session.get(SMTPSettings, account.id).batch_id is None


def test_fresh_claims_are_not_recovered(account, engine_settings):
    make_queued_campaign(account, 3)
    claim_batch(db.session, engine_settings, account.id)
    assert recover_stale_claims(db.session, engine_settings, clock.utcnow()) == 0


def test_campaign_with_nothing_left_to_send_is_completed(account, engine_settings):
    campaign = make_queued_campaign(account, 2, status=CampaignStatus.SENDING)
    db.session.execute(sa.update(Email).values(status=EmailStatus.SENT))
    db.session.commit()
    complete_finished_campaigns(db.session)
    finished = db.session.get(Campaign, campaign.id)
    assert finished.status == CampaignStatus.COMPLETED
    assert finished.completed_at is not None


def test_two_dispatchers_at_once_never_claim_one_email_twice(
    app, database_url, make_user, smtp_sink, engine_settings
):
    """PostgreSQL only: SQLite has a single writer and ignores FOR UPDATE."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent claiming is a PostgreSQL matter")
    accounts = [make_account(make_user(f"d{i}"), smtp_sink) for i in range(8)]
    for account in accounts:
        make_queued_campaign(account, 60)
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def finish_at_once(handoffs: list[Handoff]) -> None:
        """Play a worker that sends the batches instantly, so the dispatchers keep finding work."""
        with db.engine.begin() as connection:
            for handoff in handoffs:
                connection.execute(
                    sa.update(Email)
                    .where(Email.batch_id == handoff.ticket)
                    .values(status="sent", batch_id=None)
                )
                connection.execute(
                    sa.update(SMTPSettings).where(SMTPSettings.id == handoff.account_id).values(batch_id=None)
                )

    def dispatcher() -> None:
        with app.app_context():
            session = db.session
            try:
                for _ in range(40):
                    for claim in dispatch(session, engine_settings, finish_at_once):
                        with lock:
                            claimed.extend(claim.email_ids)
            except BaseException as error:
                errors.append(error)
            finally:
                session.remove()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(claimed) == len(set(claimed)) == 8 * 60
