"""Who a campaign sent to lists and segments mails, fixed when it is scheduled; its emails written after.

Writing 500,000 emails in the Schedule request took 38–40 s, mostly the email table's indexes and foreign
keys. So scheduling only takes the mailed contacts' ids (`CampaignContact`, a narrow table with no index
but its key), and the emails are written ahead of the engine a chunk at a time, in contact-id order, each
chunk one transaction of a Celery task that queues the next (app.tasks): a worker is never held long, and
other users' batches go out between chunks. The engine meanwhile sends what is written; a campaign with
contacts left is not finished (`app.states.completion`).

A chunk reads each contact as it is then: its merge data are its attributes at that moment, and a contact
suppressed or deleted since the schedule is skipped.

A chunk starts by stamping its campaign (`emails_written_at`), which on PostgreSQL locks the campaign's
row: two chunks of one campaign, or a chunk and the user's cancel, follow each other instead of
overlapping, so no contact is written twice and no email is written for a campaign just cancelled (the
dispatcher's start of that campaign may wait for one chunk, 0.3–0.5 s at 10,000). SQLite has one writer
at a time anyway. The stamp is also what beat's sweep reads to restart a lost writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app import clock
from app.audiences.models import Contact
from app.campaigns.pending_emails import insert_pending_emails, pending_email
from app.campaigns.recipients.audiences import audience_ids
from app.database import changed_rows
from app.extensions import db
from app.models import Campaign, CampaignContact, Suppression
from app.states import OPEN


@dataclass(frozen=True)
class Taken:
    """The contacts a campaign was scheduled to: how many it mails, and how many were left out as
    suppressed."""

    mailed: int
    suppressed: int


@dataclass(frozen=True)
class Chunk:
    """What one chunk did: contacts taken off the campaign's list, emails written (fewer when some were
    suppressed or deleted since the schedule), and whether contacts are left."""

    contacts: int
    emails: int
    more: bool


def take_contacts(campaign: Campaign) -> Taken:
    """The contacts of the campaign's lists and segments, suppressed ones left out, become the ones it
    will mail.

    Two statements, neither of which reads the contacts themselves: the ids of the lists' and segments'
    contacts copied whole, then those of the user's suppressed addresses deleted, found from the
    suppression list by the contacts' address index (one pass over 500,000 contacts that looked up each
    one's suppression took 1.5 s; the suppression list is far shorter than the audience).
    """
    drop_contacts(campaign)
    ids = audience_ids(campaign).subquery()
    taken = changed_rows(
        db.session.execute(
            sa.insert(CampaignContact).from_select(
                ["campaign_id", "contact_id"], sa.select(sa.literal(campaign.id), ids.c[0])
            )
        )
    )
    suppressed = (
        sa.select(Contact.id)
        .join(
            Suppression,
            sa.and_(
                Suppression.user_id == Contact.user_id, Suppression.address == sa.func.lower(Contact.address)
            ),
        )
        .where(Suppression.user_id == campaign.user_id, Contact.user_id == campaign.user_id)
    )
    left_out = changed_rows(
        db.session.execute(
            sa.delete(CampaignContact).where(_of(campaign.id), CampaignContact.contact_id.in_(suppressed))
        )
    )
    campaign.emails_written_at = clock.utcnow()
    return Taken(taken - left_out, left_out)


def taken_contacts(campaign: Campaign) -> sa.Select[Contact]:
    """The contacts the campaign was scheduled to and has not written an email for yet."""
    return (
        sa.select(Contact)
        .join(CampaignContact, CampaignContact.contact_id == Contact.id)
        .where(_of(campaign.id), Contact.user_id == campaign.user_id)
    )


def drop_contacts(campaign: Campaign) -> int:
    """Forget the contacts whose emails are not written yet (the campaign is cancelled or back to draft);
    returns how many."""
    return changed_rows(db.session.execute(sa.delete(CampaignContact).where(_of(campaign.id))))


def write_chunk(campaign_id: int, size: int) -> Chunk:
    """Write the emails of the campaign's next `size` contacts in id order, pending and due when the
    campaign is, and take those contacts off its list. Never commits: the caller commits the chunk."""
    stamped = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(OPEN))
        .values(emails_written_at=clock.utcnow())
        .returning(Campaign.user_id, Campaign.smtp_account_id, Campaign.scheduled_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if stamped is None:
        return Chunk(0, 0, False)
    user_id, account_id, send_at = stamped
    first = (
        sa.select(CampaignContact.contact_id)
        .where(_of(campaign_id))
        .order_by(CampaignContact.contact_id)
        .limit(size)
        .subquery()
    )
    last = db.session.scalar(sa.select(sa.func.max(first.c.contact_id)))
    if last is None:
        return Chunk(0, 0, False)
    insert = _insert_emails(campaign_id, user_id, account_id, send_at, last)
    written = changed_rows(db.session.execute(insert))
    taken_off = sa.delete(CampaignContact).where(_of(campaign_id), CampaignContact.contact_id <= last)
    taken = changed_rows(db.session.execute(taken_off))
    left = sa.select(CampaignContact.contact_id).where(_of(campaign_id))
    more = db.session.scalar(sa.select(left.exists()))
    return Chunk(taken, written, bool(more))


def stalled_writings(before: datetime) -> list[int]:
    """Open campaigns with contacts left whose emails have not moved on since `before` (their task was
    lost); each is stamped now, so that it is restarted once. Never commits."""
    left = sa.select(CampaignContact.contact_id).where(CampaignContact.campaign_id == Campaign.id)
    return list(
        db.session.scalars(
            sa.update(Campaign)
            .where(Campaign.status.in_(OPEN), Campaign.emails_written_at < before, left.exists())
            .values(emails_written_at=clock.utcnow())
            .returning(Campaign.id)
            .execution_options(synchronize_session=False)
        )
    )


def _of(campaign_id: int) -> sa.ColumnElement[bool]:
    return CampaignContact.campaign_id == campaign_id


def _insert_emails(
    campaign_id: int, user_id: int, account_id: int | None, send_at: datetime | None, last: int
) -> sa.Insert:
    """One pending email per contact of the campaign up to `last`, in contact order, with its attributes
    as merge data; a contact suppressed or deleted since is skipped.

    No check for an address already in the campaign, as an upload's has: a user's contacts have distinct
    addresses, each is on the campaign's list once, and the transaction that writes its email takes it
    off. (Such a check read all the emails written so far for each contact of a chunk, the planner not
    yet knowing the campaign has any: 77 s for the fifth chunk of 10,000.)
    """
    recipient = (Contact.address, Contact.name, sa.type_coerce(Contact.attributes, sa.JSON))
    rows = (
        pending_email(user_id, campaign_id, account_id, send_at, recipient)
        .select_from(CampaignContact)
        .join(Contact, Contact.id == CampaignContact.contact_id)
        .where(
            _of(campaign_id),
            CampaignContact.contact_id <= last,
            Contact.user_id == user_id,
            Contact.suppression_reason.is_(None),
        )
        .order_by(CampaignContact.contact_id)
    )
    return insert_pending_emails(rows)
