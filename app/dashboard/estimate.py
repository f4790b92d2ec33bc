"""When a running campaign should finish, from its account's interval and caps.

A rough model of what the engine does: an account sends one email at a time, at most once per
interval and within its hourly and daily caps, taking its campaigns' emails oldest scheduled first.
Batch overheads, retries and future rate limits are not foreseen, so the result is an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.models import SMTPSettings

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class Queued:
    """A campaign waiting on an account: when it may start and how many emails it has left."""

    campaign_id: int
    scheduled_at: datetime
    remaining: int


def seconds_per_email(account: SMTPSettings, default_interval: float) -> float:
    """The slowest of the interval and the pace the caps allow, spread evenly over their window."""
    interval = default_interval if account.send_interval is None else account.send_interval
    paces = [interval]
    if account.hourly_cap:
        paces.append(SECONDS_PER_HOUR / account.hourly_cap)
    if account.daily_cap:
        paces.append(SECONDS_PER_DAY / account.daily_cap)
    return max(paces)


def estimated_finishes(
    queue: Iterable[Queued], account: SMTPSettings, default_interval: float, now: datetime
) -> dict[int, datetime]:
    """Each queued campaign's estimated finish, the account working through them in schedule order
    once any rate-limit cooldown has ended."""
    pace = seconds_per_email(account, default_interval)
    moment = max(now, account.paused_until or now)
    finishes = {}
    for item in sorted(queue, key=lambda item: (item.scheduled_at, item.campaign_id)):
        moment = max(moment, item.scheduled_at) + timedelta(seconds=item.remaining * pace)
        finishes[item.campaign_id] = moment
    return finishes
