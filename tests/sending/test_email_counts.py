"""The email counters the pages read (per campaign and status, per user and quarter hour sent) always
agree with the emails.

(Every test that uses the app also checks this when it ends: see `tests/conftest.py`.)
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.campaigns.operations import cancel_pending, delete_campaign, retry_failed, unschedule_campaign
from app.email_counts import disagreements
from app.extensions import db
from app.models import Campaign, Email, EmailCount, SentCount, Suppression
from app.sending.dispatcher import claim_batch, recover_stale_claims
from app.states import EmailStatus
from tests.builders import make_queued_campaign
from tests.sending.runs import run_claimed


def stored(campaign: Campaign) -> Counter[str]:
    rows = db.session.execute(
        sa.select(EmailCount.status, EmailCount.count).where(
            EmailCount.campaign_id == campaign.id, EmailCount.count != 0
        )
    )
    return Counter(dict(rows.all()))


def counted(campaign: Campaign) -> Counter[str]:
    rows = db.session.execute(
        sa.select(Email.status, sa.func.count())
        .where(Email.campaign_id == campaign.id)
        .group_by(Email.status)
    )
    return Counter(dict(rows.all()))


def assert_counters(campaign: Campaign, **expected: int) -> None:
    db.session.commit()
    assert stored(campaign) == counted(campaign) == Counter(expected)


def test_counters_follow_a_campaign_through_its_whole_life(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 6)
    assert_counters(campaign, pending=6)

    claim = claim_batch(db.session, engine_settings, account.id)
    assert_counters(campaign, queued=6)

    smtp_sink.script.reject_recipients("r00001@rcpt.example")
    db.session.add(Suppression(user_id=account.user_id, address="r00002@rcpt.example"))
    db.session.commit()
    run_claimed(engine_settings, claim.batch_id, account.id)
    assert_counters(campaign, sent=4, failed=1, suppressed=1)
    assert db.session.scalar(sa.select(sa.func.sum(SentCount.count))) == 4

    retry_failed(campaign, include_permanent=True)  # the rejected one failed for good
    assert_counters(campaign, sent=4, pending=1, suppressed=1)

    cancel_pending(campaign)
    assert_counters(campaign, sent=4, cancelled=1, suppressed=1)

    delete_campaign(campaign)
    assert_counters(campaign, sent=4, cancelled=1, suppressed=1)


def test_a_claim_abandoned_by_a_dead_worker_is_counted_pending_again(account, engine_settings):
    campaign = make_queued_campaign(account, 3)
    claim_batch(db.session, engine_settings, account.id)
    assert_counters(campaign, queued=3)
    recover_stale_claims(db.session, engine_settings, clock.utcnow() + timedelta(days=1))
    assert_counters(campaign, pending=3)


def test_unscheduling_removes_the_emails_and_their_counts(account):
    campaign = make_queued_campaign(account, 4, scheduled_at=clock.utcnow() + timedelta(days=1))
    assert_counters(campaign, pending=4)
    unschedule_campaign(campaign)
    assert_counters(campaign)


def test_a_change_rolled_back_changes_no_counter(account):
    campaign = make_queued_campaign(account, 2)
    db.session.execute(sa.update(Email).values(status=EmailStatus.SENT))
    db.session.rollback()
    assert_counters(campaign, pending=2)


def test_deleting_a_campaign_row_takes_its_emails_and_counters_with_it(account, database_url):
    """What deleting a user does to their campaigns (ON DELETE CASCADE)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the embedded SQLite does not enforce foreign keys, so nothing cascades there")
    campaign = make_queued_campaign(account, 2)
    db.session.execute(sa.delete(Campaign).where(Campaign.id == campaign.id))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailCount)) == 0


def test_recount_command_says_when_all_agree(app, account):
    make_queued_campaign(account, 2)
    result = app.test_cli_runner().invoke(args=["recount-campaigns"])
    assert result.exit_code == 0
    assert "Every email counter agrees with the emails." in result.output


def test_recount_command_repairs_a_counter_changed_by_hand(app, account):
    campaign = make_queued_campaign(account, 5)
    db.session.execute(sa.update(EmailCount).values(count=99))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["recount-campaigns"])
    assert result.exit_code == 0
    assert f"campaign {campaign.id}, pending: 99 -> 5" in result.output
    assert_counters(campaign, pending=5)


def test_concurrent_changes_across_campaigns_keep_counters_exact(app, account, database_url):
    """Eight connections move emails of two campaigns between statuses at once, each statement over
    both campaigns: no deadlock, no lost update."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time")
    campaigns = [make_queued_campaign(account, 100, name=f"Campaign {n}") for n in range(2)]
    statuses = [EmailStatus.PENDING, EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.SENT]
    failures: list[BaseException] = []

    def shuffle(seed: int) -> None:
        chance = random.Random(seed)
        try:
            with app.app_context(), db.engine.connect() as connection:
                for _ in range(40):
                    low = chance.randrange(0, 180)
                    # The emails are locked in id order, as the engine's claim does: only the
                    # counters' own locks could deadlock here.
                    emails = (
                        sa.select(Email.id)
                        .where(Email.id.between(low, low + 40))
                        .order_by(Email.id)
                        .with_for_update()
                    )
                    connection.execute(
                        sa.update(Email).where(Email.id.in_(emails)).values(status=chance.choice(statuses))
                    )
                    connection.commit()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=shuffle, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.engine.connect() as connection:
        assert disagreements(connection) == []
    assert sum(stored(campaigns[0]).values()) == sum(stored(campaigns[1]).values()) == 100


def test_recount_command_repairs_a_users_sends_changed_by_hand(app, account):
    campaign = make_queued_campaign(account, 3)
    sent_at = datetime(2026, 11, 26, 10, 7)
    db.session.execute(sa.update(Email).values(status=EmailStatus.SENT, sent_at=sent_at))
    db.session.execute(sa.update(SentCount).values(count=1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["recount-campaigns"])
    assert f"user {campaign.user_id}, sent in the quarter hour from 2026-11-26 10:00:00" in result.output
    assert ": 1 -> 3" in result.output
    assert db.session.scalars(sa.select(SentCount.count)).all() == [3]
