"""Where campaigns and emails stand: their statuses, every group of statuses a rule speaks of, and the
rule that completes a campaign. Each is written once, here; the engine and the pages import them.

The values are what the database stores (`String(16)` columns, which partial indexes and triggers compare
with plain strings): a `StrEnum` member equals its value, so rows, templates and JSON all see strings.
Groups are tuples, not sets, so a statement's `IN (...)` is rendered the same way every time.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from app import clock


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EmailStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    #: What the sender's mailbox later said of a sent email (app.mailbox).
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    REPLIED = "replied"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"


# ----- campaigns ---------------------------------------------------------------------------------------

#: The engine is on these, or will be from their start: their due emails are claimed and sent.
RUNNING = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)
#: Not over yet: the engine runs them or a pause holds them, and their unsent emails may still go.
OPEN = (*RUNNING, CampaignStatus.PAUSED)
#: Their content may change (a scheduled one goes back to draft first).
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
#: Back to draft, before the engine starts on it.
UNSCHEDULABLE = (CampaignStatus.SCHEDULED,)
#: A pause holds the engine's work, so only what it runs can be paused.
PAUSABLE = RUNNING
RESUMABLE = (CampaignStatus.PAUSED,)
#: Cancelling stops the emails not yet started, which any open campaign may have.
CANCELLABLE = OPEN
#: Failed emails may be tried again in any campaign the user has not cancelled: a completed one sends again.
RETRIABLE = (*OPEN, CampaignStatus.COMPLETED)

# ----- emails ------------------------------------------------------------------------------------------

#: Taken by a batch: queued for it, or being sent by it.
CLAIMED = (EmailStatus.QUEUED, EmailStatus.SENDING)
#: Not started on: cancelling a campaign stops them, unscheduling it deletes them.
NOT_STARTED = (EmailStatus.PENDING, EmailStatus.QUEUED)
#: Still to go: a campaign with none of these left is completed.
UNFINISHED = (EmailStatus.PENDING, *CLAIMED)
#: Sent, whatever the mailbox heard of it afterwards: a bounce or a reply does not undo a send, in the
#: counts of sends and in the caps of the account.
DELIVERED = (EmailStatus.SENT, EmailStatus.BOUNCED, EmailStatus.COMPLAINED, EmailStatus.REPLIED)
#: What the mailbox may still change: a complaint outranks a reply, a bounce ends everything.
MAILBOX_MAY_CHANGE = (EmailStatus.SENT, EmailStatus.REPLIED)
#: What an email that leaves its batch's claim keeps of it, whatever its new status: nothing.
RELEASED: dict[str, Any] = {"batch_id": None, "claimed_at": None}


def completion(statuses: Collection[str]) -> sa.Update:
    """The rule that ends a campaign: one in `statuses` none of whose emails is unfinished, and none of
    whose emails is still to be written from its contacts, becomes completed. The engine applies it to the
    campaigns it sends, the report's "Cancel pending" to one that may be paused or not started (narrow it
    further with `.where`)."""
    # Here, not at the top: the models import this module for their columns' statuses.
    from app.models import Campaign, CampaignContact, Email

    unfinished = sa.select(Email.id).where(Email.campaign_id == Campaign.id, Email.status.in_(UNFINISHED))
    unwritten = sa.select(CampaignContact.contact_id).where(CampaignContact.campaign_id == Campaign.id)
    return (
        sa.update(Campaign)
        .where(Campaign.status.in_(statuses), ~unfinished.exists(), ~unwritten.exists())
        .values(status=CampaignStatus.COMPLETED, completed_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
