"""Every lookup of user data goes through here, so a query can't forget whose data it is."""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.orm import QueryableAttribute

from app.extensions import db


class HasOwner(Protocol):
    """A model whose rows each belong to one user."""

    user_id: int


class OwnedRow(HasOwner, Protocol):
    id: int


Owned = TypeVar("Owned", bound=HasOwner)
OwnedById = TypeVar("OwnedById", bound=OwnedRow)


def _column(attribute: int) -> QueryableAttribute[int]:
    """A mapped attribute read on its model's class: the protocols describe rows, where it is an int."""
    return cast("QueryableAttribute[int]", attribute)


def owned_or_404(model: type[OwnedById], object_id: int) -> OwnedById:
    """The current user's `model` with this id; another user's object is a 404, as is a missing one."""
    return db.one_or_404(
        sa.select(model).where(_column(model.id) == object_id, _column(model.user_id) == current_user.id)
    )


def owned(model: type[Owned]) -> sa.Select:
    """A select of the current user's rows of `model`, to refine further."""
    return sa.select(model).where(_column(model.user_id) == current_user.id)
