"""Reading a user's suppression list and taking addresses off it; adding is `app.suppression_list`'s
(the mailbox reader adds too, and knows no web page)."""

from __future__ import annotations

import sqlalchemy as sa

from app.database import changed_rows
from app.extensions import db
from app.models import Email, Suppression, SuppressionReason
from app.sending.classify import is_mailbox_failure
from app.sending.suppression import EMAIL_SUPPRESSED
from app.states import EmailStatus


def suppressed_addresses(user_id: int) -> set[str]:
    """The user's whole suppression list."""
    return set(db.session.scalars(sa.select(Suppression.address).where(Suppression.user_id == user_id)))


def suppression_reason(user_id: int, address: str) -> str | None:
    """Why `address` is on the user's list, or None when it is not."""
    return db.session.scalar(
        sa.select(Suppression.reason).where(
            Suppression.user_id == user_id, Suppression.address == address.lower()
        )
    )


def resubscribe(user_id: int, address: str) -> bool:
    """Take `address` off the user's list if the person themselves put it there by unsubscribing; a
    bounce or an entry the user made stays. Returns whether it was taken off."""
    removed = db.session.execute(
        sa.delete(Suppression).where(
            Suppression.user_id == user_id,
            Suppression.address == address.lower(),
            Suppression.reason == SuppressionReason.UNSUBSCRIBED,
        )
    )
    return changed_rows(removed) > 0


def bounced_addresses(user_id: int, campaign_id: int) -> set[str]:
    """The campaign's failed addresses whose server said the mailbox does not exist, not yet suppressed."""
    rows = db.session.execute(
        sa.select(Email.address, Email.last_smtp_code, Email.last_smtp_message).where(
            Email.user_id == user_id,
            Email.campaign_id == campaign_id,
            Email.status == EmailStatus.FAILED,
            Email.last_smtp_code.between(500, 599),
            ~EMAIL_SUPPRESSED,
        )
    )
    return {address.lower() for address, code, reply in rows if is_mailbox_failure(code, reply)}
