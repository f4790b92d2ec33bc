"""Adding to and reading a user's suppression list: the addresses the engine never mails again.

Every address is stored lower-cased (the engine and the imports compare lower-cased). Adding is an
insert that ignores addresses already listed, so an unsubscribe that arrives twice at once, or a
bounce marked while the same recipient unsubscribes, never fails and never changes the first reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.database import changed_rows
from app.extensions import db
from app.models import Email, Suppression, SuppressionReason
from app.sending.classify import is_mailbox_failure
from app.sending.suppression import EMAIL_SUPPRESSED
from app.states import EmailStatus


def suppressed_addresses(user_id: int) -> set[str]:
    """The user's whole suppression list."""
    return set(db.session.scalars(sa.select(Suppression.address).where(Suppression.user_id == user_id)))


def suppress(user_id: int, addresses: Iterable[str], reason: str) -> int:
    """Put `addresses` on the user's list with `reason`; returns how many were not on it already."""
    rows = [
        {"user_id": user_id, "address": address, "reason": reason, "created_at": clock.utcnow()}
        for address in {address.lower() for address in addresses}
    ]
    if not rows:
        return 0
    before = suppression_count(user_id)
    db.session.execute(_insert_ignoring_listed(), rows)
    return suppression_count(user_id) - before


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


def suppression_count(user_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Suppression).where(Suppression.user_id == user_id)
    ).scalar_one()


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


def _insert_ignoring_listed() -> sa.Insert:
    """`INSERT … ON CONFLICT (user_id, address) DO NOTHING` in the session's dialect."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(Suppression.__table__).on_conflict_do_nothing(index_elements=["user_id", "address"])
