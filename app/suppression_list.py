"""Adding to a user's suppression list: the addresses the engine never mails again.

Every address is stored lower-cased (the engine and the imports compare lower-cased). Adding is an
insert that ignores addresses already listed, so an unsubscribe that arrives twice at once, or a
bounce marked while the same recipient unsubscribes, never fails and never changes the first reason.
Both the web pages and the mailbox reader add here.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.extensions import db
from app.models import Suppression


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


def suppression_count(user_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Suppression).where(Suppression.user_id == user_id)
    ).scalar_one()


def _insert_ignoring_listed() -> sa.Insert:
    """`INSERT … ON CONFLICT (user_id, address) DO NOTHING` in the session's dialect."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(Suppression.__table__).on_conflict_do_nothing(index_elements=["user_id", "address"])
