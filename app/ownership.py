"""Every lookup of user data goes through here, so a query can't forget whose data it is."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from flask_login import current_user

from app.extensions import db

Owned = TypeVar("Owned")


def owned_or_404(model: type[Owned], object_id: int) -> Owned:
    """The current user's `model` with this id; another user's object is a 404, as is a missing one."""
    return db.one_or_404(sa.select(model).where(model.id == object_id, model.user_id == current_user.id))


def owned(model: type[Owned]) -> sa.Select:
    """A select of the current user's rows of `model`, to refine further."""
    return sa.select(model).where(model.user_id == current_user.id)
