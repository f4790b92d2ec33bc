"""Fixtures for the Audience area: a list of the logged-in user, and its import driven like a browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.audiences.models import Contact, ContactList, ListMember
from app.extensions import db
from app.models import User
from tests.conftest import csrf_token_from, post_form

_IMPORT_ACTION = re.compile(r'<form method="post"[^>]*action="([^"]*/save/[^"]*)"')


def make_list(user: User, name: str = "Customers") -> ContactList:
    contact_list = ContactList(user_id=user.id, name=name)
    db.session.add(contact_list)
    db.session.commit()
    return contact_list


class ListImport:
    """A list's page used as a person would: upload or paste, check the summary, press Import."""

    def __init__(self, client: FlaskClient, contact_list: ContactList) -> None:
        self.client = client
        self.list_id = contact_list.id
        self.url = f"/audience/lists/{contact_list.id}"

    def upload(self, data: bytes, filename: str = "contacts.csv") -> TestResponse:
        return post_form(
            self.client,
            f"{self.url}/upload",
            {"file": (io.BytesIO(data), filename)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )

    def paste(self, text: str) -> TestResponse:
        return post_form(self.client, f"{self.url}/paste", {"addresses": text}, follow_redirects=True)

    def confirm(self, review: TestResponse) -> TestResponse:
        """Press the summary's Import button."""
        action = _IMPORT_ACTION.search(review.get_data(as_text=True))
        assert action, "the summary has no Import button"
        return self.client.post(
            action.group(1).replace("&amp;", "&"),
            data={"csrf_token": csrf_token_from(review)},
            follow_redirects=True,
        )

    def upload_and_confirm(self, data: bytes) -> TestResponse:
        return self.confirm(self.upload(data))

    def members(self) -> list[tuple[str, str, dict[str, str]]]:
        """(address, name, attributes) of the list's contacts, by address."""
        db.session.expire_all()
        rows = db.session.execute(
            sa.select(Contact.address, Contact.name, Contact.attributes)
            .join(ListMember, ListMember.contact_id == Contact.id)
            .where(ListMember.list_id == self.list_id)
            .order_by(Contact.address)
        )
        return [tuple(row) for row in rows]


def condition_fields(*conditions: tuple[str, ...]) -> dict[str, str]:
    """The form fields of condition rows, each (kind, key, op, value[, campaign id])."""
    fields = {}
    for number, (kind, key, op, value, *campaign) in enumerate(conditions):
        fields |= {
            f"conditions-{number}-kind": kind,
            f"conditions-{number}-key": key,
            f"conditions-{number}-op": op,
            f"conditions-{number}-value": value,
            f"conditions-{number}-campaign": str(campaign[0]) if campaign else "0",
        }
    return fields


def save_segment(client: FlaskClient, name: str, list_id: int, *conditions: tuple[str, ...]) -> TestResponse:
    """Fill in the Segments page's form and press Save segment; the page it leads to."""
    data = {"name": name, "list_id": str(list_id), **condition_fields(*conditions)}
    return post_form(client, "/audience/segments", data, follow_redirects=True)


@pytest.fixture
def customers(logged_in: User) -> ContactList:
    return make_list(logged_in)


@pytest.fixture
def list_import(client: FlaskClient, customers: ContactList, uploads_folder: Path) -> ListImport:
    return ListImport(client, customers)
