"""Which of the user's emails a finding is about: the one whose Message-ID it names, else the latest
email the account sent to the address it names (a bounce's or complaint's recipient, an auto-reply's
sender). A reply counts only by Message-ID: a recipient writing about anything else is no reply to us."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.mailbox.classify import Finding
from app.models import Email, MailboxEventKind
from app.states import DELIVERED


def matching_email(finding: Finding, user_id: int, smtp_account_id: int) -> Email | None:
    if finding.message_ids:
        email = db.session.scalar(
            sa.select(Email)
            .where(Email.message_id.in_(finding.message_ids), Email.user_id == user_id)
            .order_by(Email.id.desc())
            .limit(1)
        )
        if email is not None:
            return email
    if not finding.address or finding.kind == MailboxEventKind.REPLY:
        return None
    return db.session.scalar(
        sa.select(Email)
        .where(
            Email.user_id == user_id,
            Email.smtp_account_id == smtp_account_id,
            sa.func.lower(Email.address) == finding.address,
            Email.status.in_(DELIVERED),
        )
        .order_by(Email.sent_at.desc(), Email.id.desc())
        .limit(1)
    )
