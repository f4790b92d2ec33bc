"""The dashboard's figures, each group from one SQL aggregate over the current user's emails.

No query loads emails into Python: counts come from GROUP BY or range counts that PostgreSQL answers
from an index alone (`ix_email_user_status`, `ix_email_user_sent`, `ix_email_user_pending`,
`ix_email_campaign_status`); Python only adds up a handful of grouped rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_login import current_user

from app.campaigns.queries import email_counts, visible_campaigns
from app.dashboard.estimate import Queued, estimated_finishes
from app.dashboard.periods import Bucket, local_midnight
from app.extensions import db
from app.models import Campaign, CampaignStatus, Email, EmailStatus, SMTPSettings
from app.ownership import owned
from app.timezones import to_user_zone

#: Campaigns listed with their progress: those the engine is on or will be, and those held by a pause.
ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
#: At most this many active campaigns are listed, the next to go first.
ACTIVE_SHOWN = 20
RECENT_FAILURES = 10
#: How long after a chart's hour or day has ended its count may still change, and how many ended
#: buckets' counts a process keeps (beyond that it forgets them all and counts again).
SETTLED_AFTER = timedelta(minutes=5)
SETTLED_KEPT = 100_000


@dataclass(frozen=True)
class EmailFigures:
    sent_today: int
    sent_week: int
    sent_total: int
    #: Due now or being sent.
    pending: int
    #: Due at a later time.
    scheduled: int
    #: Due, but their account is in a provider's rate-limit cooldown.
    rate_limited: int
    failed: int


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    counts: Counter[str]
    estimated_finish: datetime | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        return sum(self.counts[status] for status in EmailStatus.UNFINISHED)

    @property
    def percent_done(self) -> int:
        return round(100 * (self.total - self.remaining) / self.total) if self.total else 0


def status_counts() -> Counter[str]:
    """The user's emails by status (one GROUP BY, read from `ix_email_user_status`)."""
    rows = db.session.execute(
        owned(Email).with_only_columns(Email.status, sa.func.count()).group_by(Email.status)
    )
    return Counter(dict(rows.all()))


def _sent_between(start: datetime, end: datetime | None) -> sa.ScalarSelect:
    query = (
        owned(Email)
        .with_only_columns(sa.func.count())
        .where(Email.status == EmailStatus.SENT, Email.sent_at >= start)
    )
    return (query if end is None else query.where(Email.sent_at < end)).scalar_subquery()


def sent_in(buckets: Sequence[Bucket], now: datetime) -> list[int]:
    """Emails sent in each bucket: one statement, one index range count per bucket not yet known.

    A bucket that ended more than `SETTLED_AFTER` ago can gain no more sends (an email's `sent_at` is
    the moment it went out, committed seconds later), so its count is kept in this process and never
    counted again: the 30-day chart then reads one day of the index, not thirty.
    """
    known: dict[tuple[int, datetime, datetime], int] = current_app.extensions.setdefault(
        "settled_sent_counts", {}
    )
    keys = [(current_user.id, bucket.start, bucket.end) for bucket in buckets]
    wanted = [index for index, key in enumerate(keys) if key not in known]
    if not wanted:
        return [known[key] for key in keys]
    row = db.session.execute(
        sa.select(*(_sent_between(buckets[i].start, buckets[i].end) for i in wanted))
    ).one()
    fresh = dict(zip(wanted, row, strict=True))
    counts = [fresh[i] if i in fresh else known[key] for i, key in enumerate(keys)]
    if len(known) > SETTLED_KEPT:
        known.clear()
    known.update((keys[i], count) for i, count in fresh.items() if buckets[i].end <= now - SETTLED_AFTER)
    return counts


def sent_since(starts: Sequence[datetime]) -> list[int]:
    """Emails sent since each moment, in one statement."""
    return list(db.session.execute(sa.select(*(_sent_between(start, None) for start in starts))).one())


def pending_by_account(now: datetime) -> dict[int | None, tuple[int, int]]:
    """(due now, due later) pending emails per SMTP account, from `ix_email_user_pending` alone."""
    rows = db.session.execute(
        owned(Email)
        .with_only_columns(
            Email.smtp_account_id,
            sa.func.count().filter(Email.scheduled_at <= now),
            sa.func.count().filter(Email.scheduled_at > now),
        )
        .where(Email.status == EmailStatus.PENDING)
        .group_by(Email.smtp_account_id)
    )
    return {account_id: (due, later) for account_id, due, later in rows}


def user_accounts() -> list[SMTPSettings]:
    return list(db.session.scalars(owned(SMTPSettings).order_by(SMTPSettings.id)))


def email_figures(now: datetime, zone_name: str, accounts: Sequence[SMTPSettings]) -> EmailFigures:
    """The headline counts; today and this week are the user's local day and week (from Monday)."""
    counts = status_counts()
    today = to_user_zone(now, zone_name).date()
    monday = today - timedelta(days=today.weekday())
    sent_today, sent_week = sent_since([local_midnight(today, zone_name), local_midnight(monday, zone_name)])
    cooling = {account.id for account in accounts if account.paused_until and account.paused_until > now}
    due = later = rate_limited = 0
    for account_id, (account_due, account_later) in pending_by_account(now).items():
        later += account_later
        if account_id in cooling:
            rate_limited += account_due
        else:
            due += account_due
    return EmailFigures(
        sent_today=sent_today,
        sent_week=sent_week,
        sent_total=counts[EmailStatus.SENT],
        pending=due + sum(counts[status] for status in EmailStatus.CLAIMED),
        scheduled=later,
        rate_limited=rate_limited,
        failed=counts[EmailStatus.FAILED],
    )


def next_scheduled(now: datetime) -> Campaign | None:
    """The campaign that starts next, if one is scheduled for later."""
    return db.session.scalar(
        visible_campaigns()
        .where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at > now)
        .order_by(Campaign.scheduled_at, Campaign.id)
        .limit(1)
    )


def active_campaigns(
    now: datetime, accounts: Sequence[SMTPSettings], default_interval: float
) -> list[CampaignProgress]:
    """Scheduled, sending and paused campaigns with their counts and, unless paused, an estimated finish."""
    campaigns = list(
        db.session.scalars(
            visible_campaigns()
            .where(Campaign.status.in_(ACTIVE))
            .order_by(Campaign.scheduled_at, Campaign.id)
            .limit(ACTIVE_SHOWN)
        )
    )
    counts = email_counts([campaign.id for campaign in campaigns])
    finishes: dict[int, datetime] = {}
    for account in accounts:
        queue = [
            Queued(c.id, c.scheduled_at or now, sum(counts[c.id][s] for s in EmailStatus.UNFINISHED))
            for c in campaigns
            if c.smtp_account_id == account.id and c.status != CampaignStatus.PAUSED
        ]
        finishes |= estimated_finishes(queue, account, default_interval, now)
    return [CampaignProgress(c, counts[c.id], finishes.get(c.id)) for c in campaigns]


def recent_failures(limit: int = RECENT_FAILURES) -> list[sa.Row]:
    """The latest failed emails with their campaign's name and the server's reply."""
    return list(
        db.session.execute(
            owned(Email)
            .with_only_columns(
                Email.id,
                Email.address,
                Email.attempts,
                Email.last_smtp_code,
                Email.last_smtp_message,
                Email.campaign_id,
                Campaign.name.label("campaign_name"),
            )
            .join(Campaign, Campaign.id == Email.campaign_id)
            .where(Email.status == EmailStatus.FAILED)
            .order_by(Email.id.desc())
            .limit(limit)
        )
    )


def sent_chart(buckets: Sequence[Bucket], now: datetime) -> dict[str, list[str] | list[int]]:
    """A chart's series: each bucket's label and the emails sent in it."""
    return {"labels": [bucket.label for bucket in buckets], "counts": sent_in(buckets, now)}
