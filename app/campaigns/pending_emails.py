"""The one shape of a campaign's new pending emails, written by INSERT … SELECT whether from its uploaded
recipients (at Schedule) or from the contacts it was scheduled to (a chunk at a time after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Email
from app.states import EmailStatus

#: A column of the recipients' table, or an expression over one.
RecipientColumn = sa.ColumnElement[Any] | InstrumentedAttribute[Any]
_COLUMNS = [
    "user_id",
    "campaign_id",
    "smtp_account_id",
    "address",
    "name",
    "merge_data",
    "status",
    "scheduled_at",
    "attempts",
]


def pending_email(
    user_id: int,
    campaign_id: int,
    account_id: int | None,
    send_at: datetime | None,
    recipient: tuple[RecipientColumn, RecipientColumn, RecipientColumn],
) -> sa.Select[*tuple[Any, ...]]:
    """A SELECT of one pending email a row, due at `send_at`, whose `recipient` is its (address, name,
    merge data) columns; the caller adds where it reads from, which rows and their order."""
    address, name, merge_data = recipient
    return sa.select(
        sa.literal(user_id),
        sa.literal(campaign_id),
        sa.literal(account_id, sa.Integer()),
        address,
        name,
        merge_data,
        sa.literal(EmailStatus.PENDING),
        sa.literal(send_at, sa.DateTime()),
        sa.literal(0),
    )


def insert_pending_emails(rows: sa.Select[*tuple[Any, ...]]) -> sa.Insert:
    """The INSERT of the emails `rows` (built on `pending_email`) select."""
    return sa.insert(Email).from_select(_COLUMNS, rows)
