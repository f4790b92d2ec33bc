"""What a user does to their lists, contacts and tags. Nothing here commits: each request commits once.

A contact's status is written through the suppression list (`app.suppressions.operations`), in the
caller's transaction, so it is never kept in two places; taking an address off that list is done on
the Suppressions page, which says what it means.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.audiences.models import Contact, ContactList, ContactTag, ListMember, Segment, Tag
from app.audiences.segments import segment_contacts
from app.database import changed_rows
from app.extensions import db
from app.models import SuppressionReason
from app.suppression_list import suppress


class NameTaken(ValueError):
    """The user already has a list of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"You already have a list named “{name}”: choose another name.")
        self.message = str(self)


def create_list(user_id: int, name: str) -> ContactList:
    _refuse_taken_name(user_id, name)
    contact_list = ContactList(user_id=user_id, name=name)
    db.session.add(contact_list)
    db.session.flush()
    return contact_list


def rename_list(contact_list: ContactList, name: str) -> None:
    if name != contact_list.name:
        _refuse_taken_name(contact_list.user_id, name)
    contact_list.name = name


def delete_list(contact_list: ContactList) -> None:
    """The list and its memberships go; its contacts stay, on their other lists and in All contacts."""
    db.session.execute(sa.delete(ListMember).where(ListMember.list_id == contact_list.id))
    db.session.delete(contact_list)


def remove_from_list(contact_list: ContactList, contact_ids: Iterable[int]) -> int:
    """Take these contacts off the list (they stay contacts); returns how many were on it."""
    removed = db.session.execute(
        sa.delete(ListMember).where(
            ListMember.list_id == contact_list.id, ListMember.contact_id.in_(list(contact_ids))
        )
    )
    return changed_rows(removed)


def owned_contact_ids(user_id: int, contact_ids: Iterable[int]) -> list[int]:
    """The ids among `contact_ids` that are this user's contacts: a form's ids are never trusted."""
    return list(
        db.session.scalars(
            sa.select(Contact.id).where(Contact.user_id == user_id, Contact.id.in_(list(contact_ids)))
        )
    )


def tag_contacts(user_id: int, tag_name: str, contact_ids: Iterable[int]) -> int:
    """Give the tag (made if new) to this user's contacts among `contact_ids`; returns how many got it."""
    tag = tag_named(user_id, tag_name)
    rows = [
        {"tag_id": tag.id, "contact_id": contact_id} for contact_id in owned_contact_ids(user_id, contact_ids)
    ]
    if not rows:
        return 0
    added = db.session.execute(_insert_ignoring_duplicates(ContactTag).values(rows))
    return changed_rows(added)


def tag_segment(segment: Segment, tag_name: str) -> int:
    """Give the tag (made if new) to everyone in the segment, in one INSERT ... SELECT; returns how
    many did not have it yet."""
    tag = tag_named(segment.user_id, tag_name)
    everyone = segment_contacts(segment).with_only_columns(sa.literal(tag.id, sa.Integer), Contact.id)
    added = db.session.execute(
        _insert_ignoring_duplicates(ContactTag).from_select(["tag_id", "contact_id"], everyone)
    )
    return changed_rows(added)


def untag_segment(segment: Segment, tag: Tag) -> int:
    """Take the tag off everyone in the segment, in one DELETE; returns how many had it."""
    everyone = segment_contacts(segment).with_only_columns(Contact.id)
    removed = db.session.execute(
        sa.delete(ContactTag).where(ContactTag.tag_id == tag.id, ContactTag.contact_id.in_(everyone))
    )
    return changed_rows(removed)


def untag_contact(contact: Contact, tag: Tag) -> None:
    db.session.execute(
        sa.delete(ContactTag).where(ContactTag.contact_id == contact.id, ContactTag.tag_id == tag.id)
    )


def tag_named(user_id: int, name: str) -> Tag:
    """The user's tag of this name, made if they have none (two requests at once both get the one)."""
    db.session.execute(_insert_ignoring_duplicates(Tag).values(user_id=user_id, name=name))
    return db.session.execute(sa.select(Tag).where(Tag.user_id == user_id, Tag.name == name)).scalar_one()


def unsubscribe_contact(contact: Contact) -> None:
    """Stop mailing the contact: their address goes on the suppression list, as suppressed by the user."""
    suppress(contact.user_id, [contact.address], SuppressionReason.MANUAL)


def _refuse_taken_name(user_id: int, name: str) -> None:
    taken = db.session.scalar(
        sa.select(ContactList.id).where(ContactList.user_id == user_id, ContactList.name == name)
    )
    if taken is not None:
        raise NameTaken(name)


def _insert_ignoring_duplicates(model: type[Tag] | type[ContactTag]) -> sa.Insert:
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__).on_conflict_do_nothing()
