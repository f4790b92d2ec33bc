"""A list as CSV: email, name, status, tags and every attribute any of its contacts has.

Streamed in keyset chunks, so a million contacts never sit in memory; every cell goes through the
imports' formula escaping (`safe_cell`), so no spreadsheet runs a value as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import sqlalchemy as sa

from app.address_import import safe_cell
from app.audiences.models import ContactList
from app.audiences.queries import Position, contact_page, list_contacts, tags_by_contact
from app.extensions import db

FIXED_COLUMNS = ["email", "name", "status", "tags"]


def attribute_keys(contact_list: ContactList) -> list[str]:
    """Every attribute key of the list's contacts, sorted."""
    if db.session.get_bind().dialect.name == "postgresql":
        keys = "SELECT DISTINCT jsonb_object_keys(contact.attributes) FROM contact"
    else:
        keys = "SELECT DISTINCT attribute.key FROM contact, json_each(contact.attributes) AS attribute"
    query = sa.text(
        f"{keys} JOIN list_member ON list_member.contact_id = contact.id WHERE list_member.list_id = :list_id"
    )
    return sorted(db.session.scalars(query, {"list_id": contact_list.id}))


def list_csv(contact_list: ContactList) -> Iterator[str]:
    """The list's rows as CSV text, header first, one chunk of a page of contacts at a time."""
    keys = attribute_keys(contact_list)
    query = list_contacts(contact_list.user_id, contact_list)
    yield _line(FIXED_COLUMNS + keys)
    position = Position()
    while True:
        page = contact_page(query, position)
        tags = tags_by_contact(page.contacts)
        out = io.StringIO()
        writer = csv.writer(out)
        for contact in page.contacts:
            fixed = [contact.address, contact.name, contact.status, ", ".join(tags.get(contact.id, []))]
            writer.writerow(
                safe_cell(str(value)) for value in fixed + [contact.attributes.get(key, "") for key in keys]
            )
        yield out.getvalue()
        if not page.has_next:
            return
        position = Position(after=page.last_id)


def _line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(safe_cell(value) for value in values)
    return out.getvalue()
