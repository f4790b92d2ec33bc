"""The engine's one rule about suppression lists: an email whose address is on its owner's list is
never sent. The list itself is kept by `app.suppressions`, which uses this rule too."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Email, Suppression

#: Whether an email's address is on its owner's list: a correlated `EXISTS` for a statement over `email`.
EMAIL_SUPPRESSED = (
    sa.select(Suppression.id)
    .where(Suppression.user_id == Email.user_id, Suppression.address == sa.func.lower(Email.address))
    .exists()
)
