"""Read helpers for the campaign pages, all scoped to the current user and blind to deleted campaigns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from app.extensions import db
from app.models import Campaign, CampaignContact, CampaignRecipient, Email, EmailCount, SMTPSettings, Template
from app.ownership import owned
from app.settings.account import current_account
from app.states import CampaignStatus, EmailStatus


def visible_campaigns() -> sa.Select:
    """The current user's campaigns that are not deleted."""
    return owned(Campaign).where(Campaign.deleted_at.is_(None))


def campaign_or_404(campaign_id: int, lock: bool = False) -> Campaign:
    """One of the current user's campaigns; another user's, a deleted or a missing one is a 404.

    `lock` holds the row until the commit, so the recipients cannot be replaced while scheduling
    copies them (the Recipients page's save locks the same row).
    """
    query = visible_campaigns().where(Campaign.id == campaign_id)
    return db.one_or_404(query.with_for_update() if lock else query)


def template_or_404(template_id: int) -> Template:
    return db.one_or_404(owned(Template).where(Template.id == template_id))


def counters(*columns: sa.ColumnElement[Any] | QueryableAttribute[Any]) -> sa.Select:
    """`columns` of the current user's campaigns (deleted ones included) joined to their non-zero
    counters (`app.email_counts`)."""
    return (
        owned(Campaign)
        .with_only_columns(*columns)
        .select_from(Campaign)
        .join(EmailCount, EmailCount.campaign_id == Campaign.id)
        .where(EmailCount.count != 0)
    )


def email_counts(campaign_ids: Collection[int]) -> dict[int, Counter[str]]:
    """Emails by status for each campaign, read from their counters (`app.email_counts`)."""
    counts: dict[int, Counter[str]] = {campaign_id: Counter() for campaign_id in campaign_ids}
    if not campaign_ids:
        return counts
    rows = db.session.execute(
        counters(EmailCount.campaign_id, EmailCount.status, EmailCount.count).where(
            Campaign.id.in_(campaign_ids)
        )
    )
    for campaign_id, status, count in rows:
        counts[campaign_id][status] = count
    return counts


def recipient_counts(campaign_ids: Collection[int]) -> dict[int, int]:
    """How many recipients each campaign has, in one GROUP BY."""
    return _counted_by_campaign(
        campaign_ids,
        owned(CampaignRecipient)
        .with_only_columns(CampaignRecipient.campaign_id, sa.func.count())
        .where(CampaignRecipient.campaign_id.in_(campaign_ids))
        .group_by(CampaignRecipient.campaign_id),
    )


def emails_to_write(campaign_ids: Collection[int]) -> dict[int, int]:
    """How many of each campaign's contacts have no email written yet: a campaign sent to lists and
    segments has its emails written in chunks after it is scheduled (app.campaigns.recipients.snapshot)."""
    return _counted_by_campaign(
        campaign_ids,
        owned(Campaign)
        .with_only_columns(CampaignContact.campaign_id, sa.func.count())
        .select_from(Campaign)
        .join(CampaignContact, CampaignContact.campaign_id == Campaign.id)
        .where(Campaign.id.in_(campaign_ids))
        .group_by(CampaignContact.campaign_id),
    )


def _counted_by_campaign(campaign_ids: Collection[int], counted: sa.Select) -> dict[int, int]:
    """The (campaign id, count) rows of `counted` for each of `campaign_ids`; 0 where it has none."""
    counts = dict.fromkeys(campaign_ids, 0)
    if campaign_ids:
        counts.update(db.session.execute(counted).all())
    return counts


def first_recipients(campaign: Campaign, limit: int) -> list[CampaignRecipient]:
    """The campaign's first recipients in upload order, to choose one for the preview."""
    return list(
        db.session.scalars(
            owned(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign.id)
            .order_by(CampaignRecipient.position, CampaignRecipient.id)
            .limit(limit)
        )
    )


def recipient_of(campaign: Campaign, recipient_id: int | None) -> CampaignRecipient | None:
    """The chosen recipient of the campaign, or its first one; None when it has none."""
    query = owned(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id)
    if recipient_id is not None:
        chosen = db.session.scalar(query.where(CampaignRecipient.id == recipient_id))
        if chosen is not None:
            return chosen
    return db.session.scalar(query.order_by(CampaignRecipient.position, CampaignRecipient.id).limit(1))


def in_flight(now: datetime, campaign_id: int | None = None) -> bool:
    """Is the engine on any of the user's campaigns (or on this one): sending, or scheduled and due?"""
    query = owned(Campaign).where(
        sa.or_(
            Campaign.status == CampaignStatus.SENDING,
            sa.and_(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now),
        )
    )
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    return bool(db.session.scalar(sa.select(query.exists())))


def next_start(now: datetime, campaign_id: int | None = None) -> datetime | None:
    """When the first of the user's scheduled campaigns (or this one) is due, if that is still to come."""
    query = owned(Campaign).with_only_columns(sa.func.min(Campaign.scheduled_at))
    query = query.where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at > now)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    return db.session.scalar(query)


@dataclass(frozen=True)
class Liveness:
    """Whether a live page looks again, and when: every few seconds while the engine is on a campaign,
    or once the next scheduled one is due (`starts_in` seconds from now), or not at all."""

    in_flight: bool
    starts_in: float | None

    @classmethod
    def read(cls, now: datetime, campaign_id: int | None = None) -> Liveness:
        if in_flight(now, campaign_id):
            return cls(True, None)
        start = next_start(now, campaign_id)
        return cls(False, None if start is None else (start - now).total_seconds())

    def as_json(self) -> dict[str, bool | float | None]:
        return {"in_flight": self.in_flight, "starts_in": self.starts_in}


def campaign_account(campaign: Campaign) -> SMTPSettings | None:
    """The user's account the campaign sends (or will send) through: its own, else the user's first."""
    if campaign.smtp_account_id is None:
        return current_account()
    return db.session.scalar(owned(SMTPSettings).where(SMTPSettings.id == campaign.smtp_account_id))


class FailedCounts(NamedTuple):
    """A campaign's failed emails: given up on after temporary failures, and failed for good."""

    temporary: int
    permanent: int


def failed_counts(campaign: Campaign) -> FailedCounts:
    """How many of the campaign's failed emails are temporary failures and how many permanent ones."""
    rows = db.session.execute(
        owned(Email)
        .with_only_columns(Email.permanent_failure, sa.func.count())
        .where(Email.campaign_id == campaign.id, Email.status == EmailStatus.FAILED)
        .group_by(Email.permanent_failure)
    )
    counts = {bool(permanent): count for permanent, count in rows}
    return FailedCounts(counts.get(False, 0), counts.get(True, 0))
