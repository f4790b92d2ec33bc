"""What a segment's conditions mean, as SQL over the contacts: every condition must hold.

- attribute `key` *equals* / *contains* (any case) `value`, or *is empty* (missing or blank);
- attribute `key` *greater than* / *less than* / *at least* / *at most* a number;
- attribute `key` *before* / *after* a date, or *in the last days*: from `value` days ago to today
  (the user's today, in their time zone); numbers and dates are read as `segment_values` says;
- *tag* `value`: the contact has that tag;
- *status* `value`: subscribed, unsubscribed, bounced or complained, read from the suppression list
  as everywhere (`Contact.suppression_reason`);
- *received* campaign `value` (its id), or *not received* any campaign in the last `value` days
  (`segment_history`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app import clock
from app.audiences.models import Contact, ContactList, ContactStatus, ContactTag, Segment, Tag
from app.audiences.queries import holds, list_contacts
from app.audiences.segment_history import received_campaign, received_nothing_since
from app.audiences.segment_values import cell_date, cell_number
from app.extensions import db
from app.models import Campaign, User
from app.timezones import to_user_zone

ATTRIBUTE, TAG, STATUS, RECEIVED, NOT_RECEIVED = "attribute", "tag", "status", "received", "not received"
KINDS = (ATTRIBUTE, TAG, STATUS, RECEIVED, NOT_RECEIVED)
EQUALS, CONTAINS, IS_EMPTY = "equals", "contains", "is empty"
GREATER, LESS, AT_LEAST, AT_MOST = "greater than", "less than", "at least", "at most"
BEFORE, AFTER, IN_LAST_DAYS = "before", "after", "in the last days"
TEXT_OPERATORS = (EQUALS, CONTAINS, IS_EMPTY)
NUMBER_OPERATORS = (GREATER, LESS, AT_LEAST, AT_MOST)
DATE_OPERATORS = (BEFORE, AFTER, IN_LAST_DAYS)
OPERATORS = (*TEXT_OPERATORS, *NUMBER_OPERATORS, *DATE_OPERATORS)
#: The comparison each numeric operator and each date bound makes.
_COMPARED: dict[str, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    GREATER: operator.gt,
    LESS: operator.lt,
    AT_LEAST: operator.ge,
    AT_MOST: operator.le,
    BEFORE: operator.lt,
    AFTER: operator.gt,
}


@dataclass(frozen=True)
class Scope:
    """Whose contacts a segment reads, and the moment it reads them at."""

    user_id: int
    #: Now, in naive UTC as stored, and the user's calendar date now.
    now: datetime
    today: date


def scope_of(user_id: int) -> Scope:
    now = clock.utcnow()
    zone = db.session.get_one(User, user_id).timezone
    return Scope(user_id, now, to_user_zone(now, zone).date())


def segment_contacts(segment: Segment) -> sa.Select[Contact]:
    """The segment's contacts, to page or count."""
    contact_list = db.session.get(ContactList, segment.list_id) if segment.list_id is not None else None
    query = list_contacts(segment.user_id, contact_list)
    scope = scope_of(segment.user_id)
    return query.where(*(condition_clause(scope, condition) for condition in segment.conditions))


def condition_clause(scope: Scope, condition: Mapping[str, str]) -> sa.ColumnElement[bool]:
    kind, value = condition["kind"], condition.get("value", "")
    if kind == TAG:
        return (
            sa.select(ContactTag.contact_id)
            .join(Tag, Tag.id == ContactTag.tag_id)
            .where(ContactTag.contact_id == Contact.id, Tag.user_id == scope.user_id, Tag.name == value)
            .exists()
        )
    if kind == STATUS:
        if value == ContactStatus.SUBSCRIBED:
            return Contact.suppression_reason.is_(None)
        reasons = [reason for reason, status in ContactStatus.OF_REASON.items() if status == value]
        return Contact.suppression_reason.in_(reasons)
    if kind == RECEIVED:
        return received_campaign(scope.user_id, int(value))
    if kind == NOT_RECEIVED:
        return received_nothing_since(scope.user_id, scope.now - timedelta(days=int(value)))
    return _attribute_clause(scope, Contact.attributes[condition["key"]].as_string(), condition["op"], value)


def _attribute_clause(
    scope: Scope, cell: sa.ColumnElement[str], op: str, value: str
) -> sa.ColumnElement[bool]:
    if op == IS_EMPTY:
        return sa.or_(cell.is_(None), cell == "")
    if op == CONTAINS:
        return holds(cell, value)
    if op in NUMBER_OPERATORS:
        return _COMPARED[op](cell_number(cell), sa.literal(Decimal(value), sa.Numeric))
    if op == IN_LAST_DAYS:
        since = scope.today - timedelta(days=int(value))
        return cell_date(cell).between(since.isoformat(), scope.today.isoformat())
    if op in DATE_OPERATORS:
        return _COMPARED[op](cell_date(cell), value)
    return cell == value


def describe(condition: Mapping[str, str], campaign_names: Mapping[int, str]) -> str:
    """ "city equals “Kochi”", "tagged “vip”", "received “Spring sale”": for the segment's page."""
    kind, value = condition["kind"], condition.get("value", "")
    if kind == TAG:
        return f"tagged “{value}”"
    if kind == STATUS:
        return f"status is {value}"
    if kind == RECEIVED:
        return f"received “{campaign_names.get(int(value), 'a deleted campaign')}”"
    if kind == NOT_RECEIVED:
        return f"received no campaign in the last {value} days"
    key, op = condition["key"], condition["op"]
    if op == IS_EMPTY:
        return f"{key} is empty"
    if op == IN_LAST_DAYS:
        return f"{key} in the last {value} days"
    if op in TEXT_OPERATORS:
        return f"{key} {op} “{value}”"
    return f"{key} {op} {value}"


def campaign_names(user_id: int, segments: Iterable[Segment]) -> dict[int, str]:
    """The names of the user's campaigns that the segments' history conditions name, for `describe`."""
    ids = {
        int(condition["value"])
        for segment in segments
        for condition in segment.conditions
        if condition["kind"] == RECEIVED
    }
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Campaign.id, Campaign.name).where(Campaign.user_id == user_id, Campaign.id.in_(ids))
    )
    return {row.id: row.name for row in rows}
