"""What the report page does to a campaign's emails: retry the failed ones, cancel the rest.

Like `operations`, each function changes the session, never commits, and raises `ActionRefused` for
an action that does not apply. The updates are conditional (`WHERE status = ...`), so an email the
engine moved on meanwhile is left alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from app import clock
from app.campaigns.operations import ActionRefused, stop_unsent_emails
from app.database import changed_rows
from app.extensions import db
from app.models import Campaign, CampaignStatus, Email, EmailStatus
from app.sending.dispatcher import completion

#: A campaign whose pending emails may be cancelled.
WITH_PENDING = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
#: A campaign whose failed emails may be tried again: any the user has not cancelled.
RETRIABLE = (*WITH_PENDING, CampaignStatus.COMPLETED)


def retry_failed(campaign: Campaign, include_permanent: bool = False) -> int:
    """The campaign's temporary failures (or, with `include_permanent`, all its failed emails) go back
    to `pending`, due now, attempts reset (returns how many).

    A permanent failure is an address the receiving server refused, or a message that could not be
    built: sending it again only helps when something changed, and mailing refused addresses hurts the
    sender's reputation, so it is retried only when the user asks for it apart.

    A completed campaign is sending again, so the dispatcher takes them; the engine still re-checks
    each address against the suppression list before sending.
    """
    if campaign.status not in RETRIABLE:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: its failed emails cannot be retried.")
    which = [] if include_permanent else [Email.permanent_failure.is_(False)]
    retried = changed_rows(
        db.session.execute(
            sa.update(Email)
            .where(
                Email.user_id == campaign.user_id,
                Email.campaign_id == campaign.id,
                Email.status == EmailStatus.FAILED,
                *which,
            )
            .values(
                status=EmailStatus.PENDING,
                attempts=0,
                next_attempt_at=None,
                rate_limit_retry_at=None,
                scheduled_at=clock.utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    )
    if retried == 0:
        kind = "failed emails" if include_permanent else "temporary failures"
        raise ActionRefused(f"“{campaign.name}” has no {kind} to retry.")
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.COMPLETED)
        .values(status=CampaignStatus.SENDING, completed_at=None)
        .execution_options(synchronize_session=False)
    )
    return retried


def retry_all_failed(campaign: Campaign) -> int:
    """`retry_failed`, permanent failures included."""
    return retry_failed(campaign, include_permanent=True)


def cancel_pending(campaign: Campaign) -> int:
    """The campaign's emails not yet started become `cancelled` (returns how many); what was sent stays.

    With nothing left in flight the campaign is completed at once, whatever its status: the engine
    only completes campaigns it is sending, and a scheduled or paused one would otherwise wait forever.
    """
    if campaign.status not in WITH_PENDING:
        raise ActionRefused(f"“{campaign.name}” is {campaign.status}: it has no pending emails.")
    cancelled = stop_unsent_emails(campaign)
    if cancelled == 0:
        raise ActionRefused(f"“{campaign.name}” has no pending emails to cancel.")
    db.session.execute(completion(WITH_PENDING).where(Campaign.id == campaign.id))
    return cancelled
