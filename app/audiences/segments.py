"""What a segment's conditions mean, as SQL over the contacts: every condition must hold.

- attribute `key` *equals* / *contains* (any case) `value`, or *is empty* (missing or blank);
- *tag* `value`: the contact has that tag;
- *status* `value`: subscribed, unsubscribed, bounced or complained, read from the suppression list
  as everywhere (`Contact.suppression_reason`).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from app.audiences.models import Contact, ContactList, ContactStatus, ContactTag, Segment, Tag
from app.audiences.queries import holds, list_contacts
from app.extensions import db

ATTRIBUTE, TAG, STATUS = "attribute", "tag", "status"
EQUALS, CONTAINS, IS_EMPTY = "equals", "contains", "is empty"
KINDS = (ATTRIBUTE, TAG, STATUS)
OPERATORS = (EQUALS, CONTAINS, IS_EMPTY)


def segment_contacts(segment: Segment) -> sa.Select[Contact]:
    """The segment's contacts, to page or count."""
    contact_list = db.session.get(ContactList, segment.list_id) if segment.list_id is not None else None
    query = list_contacts(segment.user_id, contact_list)
    return query.where(*(condition_clause(segment.user_id, condition) for condition in segment.conditions))


def condition_clause(user_id: int, condition: Mapping[str, str]) -> sa.ColumnElement[bool]:
    kind, value = condition["kind"], condition.get("value", "")
    if kind == TAG:
        return (
            sa.select(ContactTag.contact_id)
            .join(Tag, Tag.id == ContactTag.tag_id)
            .where(ContactTag.contact_id == Contact.id, Tag.user_id == user_id, Tag.name == value)
            .exists()
        )
    if kind == STATUS:
        if value == ContactStatus.SUBSCRIBED:
            return Contact.suppression_reason.is_(None)
        reasons = [reason for reason, status in ContactStatus.OF_REASON.items() if status == value]
        return Contact.suppression_reason.in_(reasons)
    cell = Contact.attributes[condition["key"]].as_string()
    if condition["op"] == IS_EMPTY:
        return sa.or_(cell.is_(None), cell == "")
    if condition["op"] == CONTAINS:
        return holds(cell, value)
    return cell == value


def describe(condition: Mapping[str, str]) -> str:
    """ "city equals Kochi", "tagged vip", "status is bounced": for the segment's page."""
    if condition["kind"] == TAG:
        return f"tagged “{condition['value']}”"
    if condition["kind"] == STATUS:
        return f"status is {condition['value']}"
    if condition["op"] == IS_EMPTY:
        return f"{condition['key']} is empty"
    return f"{condition['key']} {condition['op']} “{condition['value']}”"
