"""Importing into a list: does a second upload add the new, update the known and say exactly what it did?"""

from __future__ import annotations

import sqlalchemy as sa

from app.audiences.models import Contact, ContactList, ContactTag, ListMember, Tag
from app.extensions import db
from app.models import Suppression, SuppressionReason
from tests.audiences.conftest import ListImport, make_list

FIRST = b"email,name,city\nada@example.com,Ada,London\nalan@example.com,Alan,Wilmslow\n"
SECOND = (
    b"Email,Name,City,Plan\n"
    b"ADA@example.com,Ada Lovelace,London,gold\n"  # known in another case: updated, new column added
    b"alan@example.com,,Wilmslow,\n"  # known, nothing new (an empty name keeps the old one): unchanged
    b"grace@example.com,Grace,Arlington,silver\n"  # new
    b"not-an-address,Broken,X,Y\n"  # invalid
    b"left@example.com,Left,Z,Z\n"  # suppressed
)


def test_a_second_import_adds_updates_and_counts_each_kind(list_import: ListImport, logged_in):
    """The summary of the second upload says 1 added, 1 updated, 1 unchanged, 1 invalid, 1 suppressed."""
    db.session.add(Suppression(user_id=logged_in.id, address="left@example.com", reason="unsubscribed"))
    db.session.commit()
    first = list_import.upload_and_confirm(FIRST).get_data(as_text=True)
    assert "Imported into “Customers”: 2 added, 0 updated, 0 unchanged, 0 invalid, 0 suppressed." in first
    second = list_import.upload_and_confirm(SECOND).get_data(as_text=True)
    assert "Imported into “Customers”: 1 added, 1 updated, 1 unchanged, 1 invalid, 1 suppressed." in second
    assert list_import.members() == [
        ("ada@example.com", "Ada Lovelace", {"city": "London", "plan": "gold"}),
        ("alan@example.com", "Alan", {"city": "Wilmslow"}),
        ("grace@example.com", "Grace", {"city": "Arlington", "plan": "silver"}),
    ]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(list_import: ListImport):
    list_import.upload_and_confirm(FIRST)
    again = list_import.upload_and_confirm(FIRST).get_data(as_text=True)
    assert "0 added, 0 updated, 2 unchanged" in again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2


def test_a_contact_imported_into_two_lists_is_one_contact_on_both(list_import: ListImport, client, logged_in):
    list_import.upload_and_confirm(FIRST)
    newsletter = make_list(logged_in, "Newsletter")
    ListImport(client, newsletter).confirm(ListImport(client, newsletter).paste("Ada <ada@example.com>"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
    ada_lists = db.session.scalars(
        sa.select(ContactList.name)
        .join(ListMember, ListMember.list_id == ContactList.id)
        .join(Contact, Contact.id == ListMember.contact_id)
        .where(Contact.address == "ada@example.com")
        .order_by(ContactList.name)
    )
    assert list(ada_lists) == ["Customers", "Newsletter"]


def test_nothing_is_saved_before_the_import_button(list_import: ListImport):
    review = list_import.upload(FIRST).get_data(as_text=True)
    assert "Import 2 contacts" in review
    assert "Nothing is saved yet" in review
    assert list_import.members() == []


def test_a_refused_file_imports_nothing_and_says_why(list_import: ListImport):
    response = list_import.upload(b'email,name\n"unclosed,quote\n')
    assert response.status_code == 422
    assert "Nothing was imported." in response.get_data(as_text=True)
    assert list_import.members() == []


def test_a_file_without_an_address_column_asks_which_column_holds_them(list_import: ListImport):
    review = list_import.upload(b"Kontakt,Vorname\nanna@example.de,Anna\n")
    assert review.status_code == 422
    assert "Choose which column holds the addresses" in review.get_data(as_text=True)
    chosen = list_import.client.get(f"{review.request.path}?email=Kontakt&name=Vorname")
    assert "Import 1 contact" in chosen.get_data(as_text=True)
    list_import.confirm(chosen)
    assert list_import.members() == [("anna@example.de", "Anna", {})]


def test_the_same_import_pressed_twice_says_it_was_already_imported(list_import: ListImport):
    review = list_import.upload(FIRST)
    list_import.confirm(review)
    again = list_import.confirm(review).get_data(as_text=True)
    assert "These contacts were already imported" in again


def test_a_suppressed_contact_stays_unsubscribed_whatever_it_is_imported_into(
    list_import: ListImport, logged_in
):
    """Status is read from the suppression list: an import cannot resubscribe anyone."""
    list_import.upload_and_confirm(FIRST)
    db.session.add(
        Suppression(user_id=logged_in.id, address="ada@example.com", reason=SuppressionReason.BOUNCED)
    )
    db.session.commit()
    list_import.upload_and_confirm(FIRST)
    db.session.expire_all()
    ada = db.session.scalar(sa.select(Contact).where(Contact.address == "ada@example.com"))
    assert ada.status == "bounced"


def test_only_the_lists_owner_can_import_into_it(list_import: ListImport, client, make_user, auth):
    auth.logout()
    auth.login(make_user("intruder").username)
    response = client.post(f"{list_import.url}/paste", data={"addresses": "x@example.com"})
    assert response.status_code in (400, 404)
    assert client.get(list_import.url).status_code == 404


def test_a_tags_column_tags_the_contacts_instead_of_becoming_an_attribute(list_import: ListImport):
    data = b'email,tags,city\nada@example.com,"vip, London",London\nalan@example.com,vip,Wilmslow\n'
    review = list_import.upload(data).get_data(as_text=True)
    assert "Column “tags” gives each contact its tags" in review
    list_import.confirm(list_import.upload(data))
    list_import.upload_and_confirm(b"email,Tag\nalan@example.com,newsletter; vip\n")
    tags = db.session.execute(
        sa.select(Contact.address, Tag.name)
        .join(ContactTag, ContactTag.contact_id == Contact.id)
        .join(Tag, Tag.id == ContactTag.tag_id)
        .order_by(Contact.address, Tag.name)
    ).all()
    assert [tuple(row) for row in tags] == [
        ("ada@example.com", "London"),
        ("ada@example.com", "vip"),
        ("alan@example.com", "newsletter"),
        ("alan@example.com", "vip"),
    ]
    assert list_import.members()[0][2] == {"city": "London"}
