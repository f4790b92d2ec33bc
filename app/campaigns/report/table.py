"""A campaign's emails as the report lists and exports them: filtered, in id order, a page at a time.

Pages are keyset pages (`id > after` / `id < before`, never OFFSET), so the last page of a million
emails costs what the first does: PostgreSQL walks an index on the id (the primary key,
`ix_email_campaign_id`, or `ix_email_campaign_status` when a status is chosen) from the cursor. An
address search (a part of the address, anywhere in it) is answered on PostgreSQL from the trigram index
`ix_email_address_search` when the part is rare, and by walking the ids when it is common.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.forms import search_text
from app.models import Campaign, Email
from app.ownership import owned
from app.states import EmailStatus

PAGE_SIZE = 50
#: The report's columns and filters, in the order the statuses are declared (an email's way through them).
STATUSES = tuple(EmailStatus)
COLUMNS = (
    Email.id,
    Email.address,
    Email.name,
    Email.status,
    Email.attempts,
    Email.last_smtp_code,
    Email.last_smtp_message,
    Email.sent_at,
)
#: Rows fetched at a time while exporting, so a big campaign never sits in memory whole.
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class EmailFilter:
    status: str = ""
    search: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EmailFilter:
        """The filter in a request's query string; an unknown status is ignored."""
        status = args.get("status", "")
        return cls(status if status in STATUSES else "", search_text(args, max_length=254))

    def as_args(self) -> dict[str, Any]:
        """For links that keep the filter; empty parts left out."""
        return {name: value for name, value in (("status", self.status), ("q", self.search)) if value}

    def apply(self, campaign: Campaign) -> sa.Select:
        """The campaign's emails that pass the filter, bounded by the campaign's first and last email id.

        The bounds, passed as plain values, keep PostgreSQL from walking the primary key from one end
        of the table to find this campaign's emails: for `ORDER BY id` it reckons the campaign's rows
        spread evenly over all ids, which they are not (a campaign's emails are inserted together).
        """
        low, high = db.session.execute(
            sa.select(sa.func.min(Email.id), sa.func.max(Email.id)).where(Email.campaign_id == campaign.id)
        ).one()
        query = (
            owned(Email)
            .with_only_columns(*COLUMNS)
            .where(Email.campaign_id == campaign.id, Email.id.between(low or 0, high or 0))
        )
        if self.status:
            query = query.where(Email.status == self.status)
        if self.search:
            escaped = self.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Email.address.ilike(f"%{escaped}%", escape="\\"))
        return query


@dataclass(frozen=True)
class EmailPage:
    rows: list[sa.Row]
    has_previous: bool
    has_next: bool


def email_page(
    campaign: Campaign, filters: EmailFilter, after: int | None = None, before: int | None = None
) -> EmailPage:
    """One page of the filtered emails: the first, the one after `after`, the one before `before`,
    or (with `before=0`) the last."""
    query = filters.apply(campaign)
    if before is not None:
        backwards = query.where(Email.id < before) if before else query
        rows = list(db.session.execute(backwards.order_by(Email.id.desc()).limit(PAGE_SIZE)))[::-1]
    else:
        forwards = query if after is None else query.where(Email.id > after)
        rows = list(db.session.execute(forwards.order_by(Email.id).limit(PAGE_SIZE)))
    if not rows:
        return EmailPage([], False, False)
    return EmailPage(
        rows,
        has_previous=_exists(query.where(Email.id < rows[0].id)),
        has_next=_exists(query.where(Email.id > rows[-1].id)),
    )


def has_more_than(campaign: Campaign, filters: EmailFilter, limit: int) -> bool:
    """Do more than `limit` emails pass the filter? (Reads at most `limit` + 1 of them.)"""
    return _exists(filters.apply(campaign).order_by(Email.id).offset(limit))


def _exists(query: sa.Select) -> bool:
    return bool(db.session.scalar(sa.select(query.exists())))


def export_rows(campaign: Campaign, filters: EmailFilter) -> Iterator[sa.Row]:
    """Every filtered email in id order, read a chunk at a time by keyset."""
    query = filters.apply(campaign).order_by(Email.id).limit(EXPORT_CHUNK)
    after = 0
    while True:
        rows = list(db.session.execute(query.where(Email.id > after)))
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        after = rows[-1].id
