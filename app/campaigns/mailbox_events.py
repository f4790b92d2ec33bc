"""What the sender's mailbox said about a campaign's emails, for its report: the latest replies (their
first lines) and auto-replies (app.mailbox records them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask_login import current_user

from app.extensions import db
from app.models import Campaign, Email, MailboxEvent, MailboxEventKind

#: Replies listed on the report; the emails table (filtered by "replied") has them all.
REPLIES_SHOWN = 20


def latest_replies(
    campaign: Campaign, limit: int = REPLIES_SHOWN
) -> Sequence[sa.Row[str, str, str, datetime]]:
    """The campaign's latest replies and auto-replies, newest first: address, kind, first lines, when."""
    return db.session.execute(
        sa.select(Email.address, MailboxEvent.kind, MailboxEvent.detail, MailboxEvent.received_at)
        .join(Email, Email.id == MailboxEvent.email_id)
        .where(
            Email.campaign_id == campaign.id,
            MailboxEvent.user_id == current_user.id,
            MailboxEvent.kind.in_((MailboxEventKind.REPLY, MailboxEventKind.AUTO_REPLY)),
        )
        .order_by(MailboxEvent.id.desc())
        .limit(limit)
    ).all()
