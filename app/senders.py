"""Who a recipient knows a user's emails from, on the public pages (unsubscribe, sign-up)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import SMTPSettings, User


def sender_name(user: User) -> str:
    """Who the recipient knows the emails from: the account's From name, else its address."""
    account = db.session.execute(
        sa.select(SMTPSettings.from_name, SMTPSettings.from_address)
        .where(SMTPSettings.user_id == user.id)
        .order_by(SMTPSettings.id)
        .limit(1)
    ).first()
    if account is None:
        return user.username
    return account.from_name or account.from_address
