"""The dashboard's figures, from the counters the database keeps (`app.email_counts`).

No query loads or counts emails: totals by status add up a few counter rows per campaign, sends per
hour or day add up the user's quarter-hour counters, and the latest failures are read from
`ix_email_user_failed`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.campaigns.queries import counters, emails_to_write, visible_campaigns
from app.dashboard.estimate import Queued, estimated_finishes
from app.dashboard.periods import Bucket
from app.extensions import db
from app.models import Campaign, Email, EmailCount, SentCount, SMTPSettings
from app.ownership import owned
from app.states import CLAIMED, DELIVERED, OPEN, RUNNING, UNFINISHED, CampaignStatus, EmailStatus

#: At most this many active campaigns (the open ones) are listed, the next to go first.
ACTIVE_SHOWN = 20
RECENT_FAILURES = 10


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
    #: What the senders' mailboxes heard afterwards (app.mailbox).
    bounced: int = 0
    complained: int = 0
    replied: int = 0


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    counts: Counter[str]
    estimated_finish: datetime | None
    #: Its emails not written yet (a campaign sent to lists and segments, just scheduled).
    preparing: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        return sum(self.counts[status] for status in UNFINISHED)

    @property
    def percent_done(self) -> int:
        return round(100 * (self.total - self.remaining) / self.total) if self.total else 0


@dataclass(frozen=True)
class CampaignCount:
    """One of the user's campaigns' counters, with what the figures need to know of the campaign."""

    campaign_id: int
    campaign_status: str
    scheduled_at: datetime | None
    smtp_account_id: int | None
    status: str
    count: int


def campaign_counts() -> list[CampaignCount]:
    """Every non-zero counter of the user's campaigns, deleted ones included (their history counts)."""
    rows = db.session.execute(
        counters(
            Campaign.id,
            Campaign.status,
            Campaign.scheduled_at,
            Campaign.smtp_account_id,
            EmailCount.status,
            EmailCount.count,
        )
    )
    return [CampaignCount(*row) for row in rows]


def by_campaign(counts: Iterable[CampaignCount]) -> defaultdict[int, Counter[str]]:
    """The counters as each campaign's emails by status."""
    grouped: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for counter in counts:
        grouped[counter.campaign_id][counter.status] = counter.count
    return grouped


@dataclass(frozen=True)
class SentHistory:
    """The user's quarter-hour send counters over a span, read once (one primary-key range of
    `sent_count`, in order), to add up into any run of consecutive buckets inside it. A bucket starts
    and ends on a UTC quarter hour (`app.email_counts`), so each sum is exact; 30 days are 2,880 rows
    at most."""

    starts: list[datetime]
    counts: list[int]

    @classmethod
    def read(cls, *runs: Sequence[Bucket]) -> SentHistory:
        """The counters covering every one of these runs of buckets."""
        rows = db.session.execute(
            owned(SentCount)
            .with_only_columns(SentCount.starts_at, SentCount.count)
            .where(
                SentCount.starts_at >= min(run[0].start for run in runs),
                SentCount.starts_at < max(run[-1].end for run in runs),
            )
            .order_by(SentCount.starts_at)
        ).all()
        return cls([starts_at for starts_at, _count in rows], [count for _starts_at, count in rows])

    def sent_in(self, buckets: Sequence[Bucket]) -> list[int]:
        """Emails sent in each of these consecutive buckets."""
        totals = []
        position = bisect_left(self.starts, buckets[0].start)
        for bucket in buckets:
            end = bisect_left(self.starts, bucket.end, position)
            totals.append(sum(self.counts[position:end]))
            position = end
        return totals

    def chart(self, buckets: Sequence[Bucket]) -> dict[str, list[str] | list[int]]:
        """A chart's series: each bucket's label and the emails sent in it."""
        return {"labels": [bucket.label for bucket in buckets], "counts": self.sent_in(buckets)}


def user_accounts() -> list[SMTPSettings]:
    return list(db.session.scalars(owned(SMTPSettings).order_by(SMTPSettings.id)))


def email_figures(
    now: datetime,
    accounts: Sequence[SMTPSettings],
    counts: Iterable[CampaignCount],
    history: SentHistory,
    this_week: Sequence[Bucket],
) -> EmailFigures:
    """The headline counts, from the campaigns' `counts` and the sends of `this_week`'s days.

    Today and this week are the user's local day and week (from Monday). A pending email is
    "scheduled" while its campaign waits for its start, "waiting on a rate limit" while its account
    cools down, and pending otherwise (due now, or waiting for its next attempt).
    """
    cooling = {account.id for account in accounts if account.paused_until and account.paused_until > now}
    totals: Counter[str] = Counter()
    due = later = rate_limited = 0
    for counter in counts:
        totals[counter.status] += counter.count
        if counter.status != EmailStatus.PENDING:
            continue
        if counter.campaign_status == CampaignStatus.SCHEDULED and (counter.scheduled_at or now) > now:
            later += counter.count
        elif counter.smtp_account_id in cooling:
            rate_limited += counter.count
        else:
            due += counter.count
    sent_each_day = history.sent_in(this_week)
    return EmailFigures(
        sent_today=sent_each_day[-1],
        sent_week=sum(sent_each_day),
        sent_total=sum(totals[status] for status in DELIVERED),
        pending=due + sum(totals[status] for status in CLAIMED),
        scheduled=later,
        rate_limited=rate_limited,
        failed=totals[EmailStatus.FAILED],
        bounced=totals[EmailStatus.BOUNCED],
        complained=totals[EmailStatus.COMPLAINED],
        replied=totals[EmailStatus.REPLIED],
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
    now: datetime,
    accounts: Sequence[SMTPSettings],
    default_interval: float,
    counts: Mapping[int, Counter[str]],
    shown: Collection[int] = (),
) -> list[CampaignProgress]:
    """Scheduled, sending and paused campaigns with their `counts` (by campaign) and, unless paused, an
    estimated finish; with them the user's campaigns of `shown` (those a page already lists), whatever
    their status now, so a page sees the one it was watching finish."""
    campaigns = list(
        db.session.scalars(
            visible_campaigns()
            .where(Campaign.status.in_(OPEN))
            .order_by(Campaign.scheduled_at, Campaign.id)
            .limit(ACTIVE_SHOWN)
        )
    )
    listed = {campaign.id for campaign in campaigns}
    if missing := set(shown) - listed:
        campaigns += db.session.scalars(visible_campaigns().where(Campaign.id.in_(missing)))
    counts_of = {campaign.id: counts.get(campaign.id, Counter()) for campaign in campaigns}
    finishes: dict[int, datetime] = {}
    for account in accounts:
        queue = [
            Queued(c.id, c.scheduled_at or now, sum(counts_of[c.id][s] for s in UNFINISHED))
            for c in campaigns
            if c.smtp_account_id == account.id and c.status in RUNNING
        ]
        finishes |= estimated_finishes(queue, account, default_interval, now)
    preparing = emails_to_write(list(counts_of))
    return [CampaignProgress(c, counts_of[c.id], finishes.get(c.id), preparing[c.id]) for c in campaigns]


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
