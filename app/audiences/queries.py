"""Reading contacts for the pages: keyset pages of a list or of all contacts, and a contact's history.

Pages go by contact id (`?after=` / `?before=`), never by OFFSET: the last page of a million-contact
list costs what the first does, an index range read of one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from app.audiences.models import Contact, ContactList, ContactTag, ListMember, Tag
from app.extensions import db
from app.models import Campaign, Email, Suppression

CONTACTS_PER_PAGE = 50
COUNTED_UP_TO = 100_000


@dataclass(frozen=True)
class Position:
    """Where a page starts: after a contact id, before one (a previous page), or at the end (the last)."""

    after: int | None = None
    before: int | None = None
    last: bool = False


@dataclass(frozen=True)
class ContactPage:
    contacts: list[Contact]
    #: Whether there are contacts before the first one shown, and after the last one.
    has_previous: bool
    has_next: bool

    @property
    def first_id(self) -> int | None:
        return self.contacts[0].id if self.contacts else None

    @property
    def last_id(self) -> int | None:
        return self.contacts[-1].id if self.contacts else None


def list_contacts(user_id: int, contact_list: ContactList | None) -> sa.Select[Contact]:
    """The contacts of a list, or all the user's contacts (None)."""
    query = sa.select(Contact).where(Contact.user_id == user_id)
    if contact_list is not None:
        query = query.join(ListMember, ListMember.contact_id == Contact.id).where(
            ListMember.list_id == contact_list.id
        )
    return query


def contact_page(query: sa.Select[Contact], position: Position, search: str = "") -> ContactPage:
    """One page of `query`'s contacts in id order, those whose address contains `search` if given."""
    if search:
        query = query.where(holds(Contact.address, search))
    backwards = position.before is not None or position.last
    if position.after is not None:
        query = query.where(Contact.id > position.after)
    if position.before is not None:
        query = query.where(Contact.id < position.before)
    order = Contact.id.desc() if backwards else Contact.id
    rows = list(db.session.scalars(query.order_by(order).limit(CONTACTS_PER_PAGE + 1)))
    more = len(rows) > CONTACTS_PER_PAGE
    rows = rows[:CONTACTS_PER_PAGE]
    if backwards:
        rows.reverse()
        return ContactPage(rows, has_previous=more, has_next=not position.last)
    return ContactPage(rows, has_previous=position.after is not None, has_next=more)


def holds(column: sa.ColumnElement[str] | QueryableAttribute[str], text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text` in any case, % and _ taken literally. `ILIKE` on the column itself, not
    `lower(column) LIKE`, so PostgreSQL's trigram index on the address can answer an address search."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def contact_count(query: sa.Select[Contact], up_to: int = COUNTED_UP_TO) -> int:
    """How many contacts `query` has, counting no further than `up_to` (a count of a million costs
    0.1 s on every page view; the pages say "more than" past it)."""
    capped = query.with_only_columns(sa.literal(1)).limit(up_to + 1).subquery()
    return db.session.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()


def lists_by_name(user_id: int) -> list[ContactList]:
    """The user's lists by name (each knows its size: `member_count`)."""
    return list(
        db.session.scalars(
            sa.select(ContactList).where(ContactList.user_id == user_id).order_by(ContactList.name)
        )
    )


def lists_of(contact: Contact) -> list[ContactList]:
    return list(
        db.session.scalars(
            sa.select(ContactList)
            .join(ListMember, ListMember.list_id == ContactList.id)
            .where(ListMember.contact_id == contact.id, ContactList.user_id == contact.user_id)
            .order_by(ContactList.name)
        )
    )


def tags_of(contact: Contact) -> list[Tag]:
    return list(
        db.session.scalars(
            sa.select(Tag)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact.id, Tag.user_id == contact.user_id)
            .order_by(Tag.name)
        )
    )


def tags_by_contact(contacts: list[Contact]) -> dict[int, list[str]]:
    """The tags of each contact of a page, in one query."""
    rows = db.session.execute(
        sa.select(ContactTag.contact_id, Tag.name)
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(ContactTag.contact_id.in_([contact.id for contact in contacts]))
        .order_by(Tag.name)
    )
    tags: dict[int, list[str]] = {}
    for contact_id, name in rows:
        tags.setdefault(contact_id, []).append(name)
    return tags


@dataclass(frozen=True)
class SentEmail:
    """One campaign email to the contact, with its outcome."""

    campaign_id: int
    campaign_name: str
    campaign_deleted: bool
    status: str
    sent_at: datetime | None
    scheduled_at: datetime
    last_smtp_code: int | None
    last_smtp_message: str | None


def emails_to(contact: Contact) -> list[SentEmail]:
    """Every campaign email the user gave this contact's address (in any case), newest first."""
    rows = db.session.execute(
        sa.select(
            Campaign.id,
            Campaign.name,
            Campaign.deleted_at.is_not(None),
            Email.status,
            Email.sent_at,
            Email.scheduled_at,
            Email.last_smtp_code,
            Email.last_smtp_message,
        )
        .join(Campaign, Campaign.id == Email.campaign_id)
        .where(Email.user_id == contact.user_id, sa.func.lower(Email.address) == contact.address.lower())
        .order_by(Email.id.desc())
    )
    return [SentEmail(*row) for row in rows]


def suppression_of(contact: Contact) -> Suppression | None:
    """The suppression row that makes the contact unsubscribed, bounced or complained, if any."""
    return db.session.scalar(
        sa.select(Suppression).where(
            Suppression.user_id == contact.user_id, Suppression.address == contact.address.lower()
        )
    )
