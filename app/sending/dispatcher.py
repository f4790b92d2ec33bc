"""The dispatcher: recovers stale claims and hands each ready account one batch of due emails.

Its cost does not grow with the number of pending emails: accounts are found through an `EXISTS` on the
partial index `ix_email_due`, and a batch is claimed with one `UPDATE ... RETURNING` whose sub-select is
`MATERIALIZED` and `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers never claim one email.
An account is claimed first, by a conditional update of its `batch_id`: one batch in flight per
account, whatever the number of dispatchers or workers.

A claim is alive while the worker running it beats (`batch_heartbeat_at`, refreshed for all of a
worker's accounts at once); an account whose heartbeat is older than `CLAIM_LEASE` is freed and its
emails go back to `pending`.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute

from app import clock
from app.models import Campaign, Email, SMTPSettings
from app.sending.executors import Transaction, connection_of
from app.sending.settings import EngineSettings
from app.states import CLAIMED, DELIVERED, RELEASED, RUNNING, CampaignStatus, EmailStatus, completion

#: Claims handed to the workers in one message: few enough to spread over several workers, enough that a
#: thousand accounts cost twenty messages, not a thousand.
HANDOFF_CHUNK = 50


@dataclass(frozen=True)
class Claim:
    batch_id: str
    account_id: int
    email_ids: list[int]
    host: str = ""
    campaign_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Handoff:
    """A claimed batch handed to a worker: its ticket, its account, and how long to wait before it starts
    (the spacing of batches that go to one SMTP host)."""

    ticket: str
    account_id: int
    delay: float = 0.0


#: Called after the claims have committed.
Enqueue = Callable[[list[Handoff]], None]


def due_emails(
    account_id: int | sa.ColumnElement[int] | QueryableAttribute[int],
    now: datetime | sa.ColumnElement[datetime],
) -> sa.Select:
    """Pending emails of an account that may go now (served by `ix_email_due`)."""
    running = sa.select(Campaign.id).where(Campaign.id == Email.campaign_id, Campaign.status.in_(RUNNING))
    return sa.select(Email.id).where(
        Email.smtp_account_id == account_id,
        Email.status == EmailStatus.PENDING,
        Email.scheduled_at <= now,
        sa.or_(Email.rate_limit_retry_at.is_(None), Email.rate_limit_retry_at <= now),
        sa.or_(Email.next_attempt_at.is_(None), Email.next_attempt_at <= now),
        running.exists(),
    )


def first_due_email(
    account_id: sa.ColumnElement[int] | QueryableAttribute[int], now: datetime
) -> sa.ScalarSelect:
    """The id of the account's oldest due email, as a correlated scalar sub-select.

    Not `EXISTS`: PostgreSQL turns an `EXISTS` into a semi-join that reads the whole email table
    (a second at a million rows); a sub-select with `ORDER BY ... LIMIT 1` is a probe of `ix_email_due`
    per account, whatever the table's size.
    """
    return due_emails(account_id, now).order_by(Email.scheduled_at, Email.id).limit(1).scalar_subquery()


def release_emails(transaction: Transaction, batch_id: str) -> int:
    """The claimed emails of this batch go back to `pending`, untouched (its run ended, stopped or died)."""
    return (
        connection_of(transaction)
        .execute(
            sa.update(Email)
            .where(Email.batch_id == batch_id, Email.status.in_(CLAIMED))
            .values(status=EmailStatus.PENDING, **RELEASED)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )


def release_claim(transaction: Transaction, batch_id: str, account_id: int) -> int:
    """Give back a claimed batch that will not run, or whose worker died; returns its emails' count."""
    released = release_emails(transaction, batch_id)
    connection_of(transaction).execute(
        sa.update(SMTPSettings)
        .where(SMTPSettings.id == account_id, SMTPSettings.batch_id == batch_id)
        .values(batch_id=None, batch_heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    return released


def recover_stale_claims(transaction: Transaction, settings: EngineSettings, now: datetime) -> int:
    """Give back to `pending` what a dead worker held, and free its accounts for new batches."""
    stale_before = now - timedelta(seconds=settings.claim_lease)
    stale = (
        connection_of(transaction)
        .execute(
            sa.select(SMTPSettings.id, SMTPSettings.batch_id)
            .where(SMTPSettings.batch_id.is_not(None), SMTPSettings.batch_heartbeat_at < stale_before)
            .with_for_update(skip_locked=True)
        )
        .all()
    )
    recovered = sum(release_claim(transaction, row.batch_id, row.id) for row in stale)
    # A claim no account holds any more (an account deleted mid-batch, say): old and orphaned.
    held = sa.select(SMTPSettings.id).where(SMTPSettings.batch_id == Email.batch_id)
    recovered += (
        connection_of(transaction)
        .execute(
            sa.update(Email)
            .where(Email.status.in_(CLAIMED), Email.claimed_at < stale_before, ~held.exists())
            .values(status=EmailStatus.PENDING, **RELEASED)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    transaction.commit()
    return recovered


def ready_accounts(transaction: Transaction, settings: EngineSettings, now: datetime) -> list[int]:
    """Accounts with due mail, no batch in flight, no cooldown, not held; least recently served first."""
    account_error_backoff = now - timedelta(seconds=settings.retry_backoff)
    rows = (
        connection_of(transaction)
        .scalars(
            sa.select(SMTPSettings.id)
            .where(
                SMTPSettings.batch_id.is_(None),
                SMTPSettings.held.is_(False),
                sa.or_(SMTPSettings.paused_until.is_(None), SMTPSettings.paused_until <= now),
                sa.or_(
                    SMTPSettings.last_error_at.is_(None), SMTPSettings.last_error_at <= account_error_backoff
                ),
                first_due_email(SMTPSettings.id, now).is_not(None),
            )
            .order_by(SMTPSettings.last_send_at.asc().nulls_first(), SMTPSettings.id)
        )
        .all()
    )
    transaction.commit()
    return list(rows)


def cap_room(
    transaction: Transaction, account_id: int, hourly_cap: int | None, daily_cap: int | None, now: datetime
) -> int | None:
    """How many more emails the account's hourly and daily caps allow now (None: no cap)."""
    rooms = []
    for cap, window in ((hourly_cap, timedelta(hours=1)), (daily_cap, timedelta(days=1))):
        if cap:
            sent = (
                connection_of(transaction)
                .execute(
                    sa.select(sa.func.count(Email.id)).where(
                        Email.smtp_account_id == account_id,
                        Email.status.in_(DELIVERED),
                        Email.sent_at > now - window,
                    )
                )
                .scalar_one()
            )
            rooms.append(max(cap - sent, 0))
    return min(rooms) if rooms else None


UNCLAIM_ACCOUNT = (
    sa.update(SMTPSettings.__table__)
    .where(SMTPSettings.id == sa.bindparam("account_id"), SMTPSettings.batch_id == sa.bindparam("claimed"))
    .values(batch_id=None, batch_heartbeat_at=None)
)


#: SQLite: up to `limit` of one account's due emails, oldest first, queued under `batch_id` (SQLite runs
#: one writer at a time, so nothing needs locking; PostgreSQL claims a chunk's emails at once with
#: `claim_all_emails_statement`).
CLAIM_EMAILS = (
    sa.update(Email.__table__)
    .where(
        Email.id.in_(
            due_emails(sa.bindparam("account_id"), sa.bindparam("now"))
            .order_by(Email.scheduled_at, Email.id)
            .limit(sa.bindparam("limit"))
        )
    )
    .values(status=EmailStatus.QUEUED, batch_id=sa.bindparam("batch_id"), claimed_at=sa.bindparam("now"))
    .returning(Email.id, Email.campaign_id)
)


#: The accounts of a chunk that may have a batch now, each claimed under a ticket of its own (the chunk's
#: id and the account's), in one statement.
CLAIM_ACCOUNTS = (
    sa.update(SMTPSettings.__table__)
    .where(
        SMTPSettings.id.in_(sa.bindparam("account_ids", expanding=True)),
        SMTPSettings.batch_id.is_(None),
        sa.or_(SMTPSettings.paused_until.is_(None), SMTPSettings.paused_until <= sa.bindparam("now")),
    )
    .values(
        batch_id=sa.bindparam("chunk", type_=sa.String) + sa.cast(SMTPSettings.id, sa.String),
        batch_heartbeat_at=sa.bindparam("now"),
    )
    .returning(
        SMTPSettings.id,
        SMTPSettings.batch_id,
        SMTPSettings.batch_size,
        SMTPSettings.hourly_cap,
        SMTPSettings.daily_cap,
        SMTPSettings.host,
    )
)


@lru_cache(maxsize=1)
def claim_all_emails_statement() -> sa.Update:
    """PostgreSQL: every claimed account's due emails, up to its limit, oldest first, in one statement
    (a `LATERAL` probe of `ix_email_due` per account, locked `FOR UPDATE SKIP LOCKED` in a
    `MATERIALIZED` CTE, so two dispatchers never take one email and the planner runs it once)."""
    wanted = (
        sa.func.unnest(
            sa.bindparam("account_ids", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("batch_ids", type_=postgresql.ARRAY(sa.String)),
            sa.bindparam("limits", type_=postgresql.ARRAY(sa.Integer)),
        )
        .table_valued("account_id", "batch_id", "wanted")
        .render_derived(name="wanted_batches")
    )
    picked = (
        due_emails(wanted.c.account_id, sa.bindparam("now"))
        .order_by(Email.scheduled_at, Email.id)
        .limit(wanted.c.wanted)
        .with_for_update(skip_locked=True, of=Email)
        .lateral("picked")
    )
    due = (
        sa.select(picked.c.id, wanted.c.batch_id)
        .select_from(wanted)
        .join(picked, sa.true())
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    return (
        sa.update(Email.__table__)
        .where(Email.id == due.c.id)
        .values(status=EmailStatus.QUEUED, batch_id=due.c.batch_id, claimed_at=sa.bindparam("now"))
        .returning(Email.id, Email.campaign_id, Email.batch_id)
    )


def _claim_accounts(
    transaction: Transaction, settings: EngineSettings, account_ids: list[int], now: datetime
) -> list[Claim]:
    """Claim these accounts, then up to a batch of each one's due emails, inside the caller's
    transaction; an account that got no email is let go again."""
    connection = connection_of(transaction)
    # A ticket fits the 36 characters of a UUID: 24 random hex digits, a dash and the account's id.
    params = {"account_ids": account_ids, "chunk": f"{secrets.token_hex(12)}-", "now": now}
    order = {account_id: place for place, account_id in enumerate(account_ids)}
    accounts = sorted(connection.execute(CLAIM_ACCOUNTS, params), key=lambda account: order[account.id])
    limits: dict[str, int] = {}
    for account in accounts:
        limit = account.batch_size or settings.batch_size
        room = cap_room(transaction, account.id, account.hourly_cap, account.daily_cap, now)
        limits[account.batch_id] = limit if room is None else min(limit, room)
    emails = _claim_emails(connection, accounts, limits, now)
    claims = []
    for account in accounts:
        claimed = emails.get(account.batch_id, [])
        if not claimed:
            connection.execute(UNCLAIM_ACCOUNT, {"account_id": account.id, "claimed": account.batch_id})
            continue
        claims.append(
            Claim(
                account.batch_id,
                account.id,
                [row.id for row in claimed],
                account.host,
                {row.campaign_id for row in claimed},
            )
        )
    return claims


def _claim_emails(
    connection: sa.Connection, accounts: Sequence[sa.Row], limits: dict[str, int], now: datetime
) -> dict[str, list[sa.Row[Any]]]:
    """The emails claimed for each account's ticket: in one statement on PostgreSQL, one per account
    on SQLite (which runs one writer at a time anyway)."""
    wanted = [account for account in accounts if limits[account.batch_id]]
    claimed: dict[str, list[sa.Row[Any]]] = {}
    if not wanted:
        return claimed
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            claim_all_emails_statement(),
            {
                "account_ids": [account.id for account in wanted],
                "batch_ids": [account.batch_id for account in wanted],
                "limits": [limits[account.batch_id] for account in wanted],
                "now": now,
            },
        )
        for row in rows:
            claimed.setdefault(row.batch_id, []).append(row)
        return claimed
    for account in wanted:
        params = {
            "account_id": account.id,
            "batch_id": account.batch_id,
            "now": now,
            "limit": limits[account.batch_id],
        }
        claimed[account.batch_id] = list(connection.execute(CLAIM_EMAILS, params))
    return claimed


def _start_campaigns(transaction: Transaction, claims: list[Claim]) -> None:
    """Scheduled campaigns whose first emails were just claimed are sending."""
    campaign_ids = set().union(*(claim.campaign_ids for claim in claims))
    if campaign_ids:
        connection_of(transaction).execute(
            sa.update(Campaign.__table__)
            .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.id.in_(campaign_ids))
            .values(status=CampaignStatus.SENDING)
        )


def claim_batch(transaction: Transaction, settings: EngineSettings, account_id: int) -> Claim | None:
    """Claim the account and up to a batch of its due emails, and commit."""
    claims = claim_batches(transaction, settings, [account_id])
    transaction.commit()
    return claims[0] if claims else None


def claim_batches(transaction: Transaction, settings: EngineSettings, account_ids: list[int]) -> list[Claim]:
    """One batch for each of these accounts that still may have one, inside the caller's transaction
    (a commit per account cost a thousand fsyncs at a thousand accounts)."""
    claims = _claim_accounts(transaction, settings, account_ids, clock.utcnow())
    _start_campaigns(transaction, claims)
    return claims


def completing(campaign_ids: list[int] | None = None) -> sa.Update:
    """Sending campaigns (of `campaign_ids`, or all) none of whose emails is left unfinished are completed."""
    statement = completion([CampaignStatus.SENDING])
    return statement if campaign_ids is None else statement.where(Campaign.id.in_(campaign_ids))


def complete_finished_campaigns(transaction: Transaction, campaign_ids: list[int] | None = None) -> None:
    """`completing`, in a transaction of its own."""
    connection_of(transaction).execute(completing(campaign_ids))
    transaction.commit()


def next_campaign_start(transaction: Transaction, now: datetime, within: float) -> datetime | None:
    """When the next scheduled campaign starts, if it does within `within` seconds: a campaign due
    between two ticks would otherwise wait for the second, up to `DISPATCH_INTERVAL` late."""
    start = connection_of(transaction).scalar(
        sa.select(sa.func.min(Campaign.scheduled_at)).where(
            Campaign.status == CampaignStatus.SCHEDULED,
            Campaign.scheduled_at > now,
            Campaign.scheduled_at <= now + timedelta(seconds=within),
        )
    )
    transaction.commit()
    return start


def dispatch(transaction: Transaction, settings: EngineSettings, enqueue: Enqueue) -> list[Claim]:
    """One tick: recover, then one batch per ready account, handed over in chunks as they are claimed.

    Batches that go to one SMTP host start `dispatch_spacing` apart, so a provider never sees a herd of
    our connections at once; batches to different hosts start together.
    """
    now = clock.utcnow()
    recover_stale_claims(transaction, settings, now)
    complete_finished_campaigns(transaction)
    claims: list[Claim] = []
    per_host: Counter[str] = Counter()
    ready = ready_accounts(transaction, settings, now)
    for start in range(0, len(ready), HANDOFF_CHUNK):
        handoffs = []
        chunk = claim_batches(transaction, settings, ready[start : start + HANDOFF_CHUNK])
        transaction.commit()
        for claim in chunk:
            host = claim.host.lower()
            handoffs.append(
                Handoff(claim.batch_id, claim.account_id, per_host[host] * settings.dispatch_spacing)
            )
            per_host[host] += 1
            claims.append(claim)
        if handoffs:
            enqueue(handoffs)
    return claims
