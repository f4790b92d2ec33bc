"""History conditions of a segment: what the user's campaigns sent a contact's address.

An email counts as received once it was sent (`DELIVERED`: a later bounce or reply does not undo the
send). Emails are matched to a contact by address in any case, as a contact's page lists them, and only
among the segment owner's own emails: another user's campaign id matches nobody.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.audiences.models import Contact
from app.models import Email
from app.states import DELIVERED


def _sent_to_contact(user_id: int) -> sa.Select[int]:
    return sa.select(Email.id).where(
        Email.user_id == user_id,
        Email.status.in_(DELIVERED),
        sa.func.lower(Email.address) == sa.func.lower(Contact.address),
    )


def received_campaign(user_id: int, campaign_id: int) -> sa.ColumnElement[bool]:
    """The contact was sent an email of this campaign."""
    return _sent_to_contact(user_id).where(Email.campaign_id == campaign_id).exists()


def received_nothing_since(user_id: int, since: datetime) -> sa.ColumnElement[bool]:
    """No campaign email was sent to the contact at or after `since` (UTC)."""
    return ~_sent_to_contact(user_id).where(Email.sent_at >= since).exists()
