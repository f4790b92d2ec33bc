"""Lists: can a user create, rename and delete one, page and search it, remove and tag its contacts in
bulk and export it, and is another user's list out of reach?"""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.audiences.models import Contact, ContactList, ContactTag, ListMember, Tag
from app.audiences.queries import CONTACTS_PER_PAGE
from app.extensions import db
from tests.audiences.conftest import ListImport, make_list
from tests.conftest import post_form


def add_contacts(contact_list: ContactList, count: int, prefix: str = "person") -> list[int]:
    contacts = [
        Contact(user_id=contact_list.user_id, address=f"{prefix}{number:04d}@example.com", name=f"P {number}")
        for number in range(count)
    ]
    db.session.add_all(contacts)
    db.session.flush()
    db.session.add_all(ListMember(list_id=contact_list.id, contact_id=contact.id) for contact in contacts)
    db.session.commit()
    return [contact.id for contact in contacts]


def test_creating_a_list_opens_it_ready_for_an_import(client, logged_in):
    response = post_form(client, "/audience/lists", {"name": "Newsletter"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "List “Newsletter” created" in page
    assert "Import into this list" in page
    assert "Newsletter" in client.get("/audience/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the list a name."),
        ("x" * 201, "Keep the name to 200 characters."),
        ("Customers", "You already have a list named “Customers”"),
    ],
)
def test_a_list_needs_a_new_name_of_a_sensible_length(client, customers, name, message):
    response = post_form(client, "/audience/lists", {"name": name})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_renaming_keeps_the_contacts_and_refuses_a_taken_name(client, logged_in, customers):
    add_contacts(customers, 2)
    make_list(logged_in, "Newsletter")
    url = f"/audience/lists/{customers.id}"
    taken = post_form(client, f"{url}/rename", {"name": "Newsletter"})
    assert taken.status_code == 400
    assert "You already have a list named “Newsletter”" in taken.get_data(as_text=True)
    renamed = post_form(client, f"{url}/rename", {"name": "Best customers"}, follow_redirects=True)
    assert "The list is now called “Best customers”" in renamed.get_data(as_text=True)
    assert "2 contacts." in renamed.get_data(as_text=True)


def test_deleting_a_list_keeps_its_contacts(client, customers):
    add_contacts(customers, 3)
    url = f"/audience/lists/{customers.id}"
    response = post_form(client, f"{url}/delete", {}, follow_redirects=True)
    assert "List “Customers” deleted. Its contacts are still in All contacts." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactList)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 3
    assert "3 contacts" in client.get("/audience/contacts").get_data(as_text=True)


def test_the_list_page_goes_page_by_page_to_the_last_and_back(client, customers):
    ids = add_contacts(customers, CONTACTS_PER_PAGE * 2 + 5)
    url = f"/audience/lists/{customers.id}"
    first = client.get(url).get_data(as_text=True)
    assert "person0000@example.com" in first
    assert "person0050@example.com" not in first
    second = client.get(f"{url}?after={ids[CONTACTS_PER_PAGE - 1]}").get_data(as_text=True)
    assert "person0050@example.com" in second
    assert "person0100@example.com" not in second
    last = client.get(f"{url}?last=1").get_data(as_text=True)
    assert "person0104@example.com" in last
    assert "person0054@example.com" not in last
    assert "person0055@example.com" in last
    before_last = client.get(f"{url}?before={ids[55]}").get_data(as_text=True)
    assert "person0005@example.com" in before_last
    assert "person0054@example.com" in before_last


def test_the_list_page_searches_any_part_of_an_address(client, customers):
    add_contacts(customers, 3)
    add_contacts(customers, 2, prefix="vip.")
    page = client.get(f"/audience/lists/{customers.id}?q=VIP").get_data(as_text=True)
    assert "vip.0000@example.com" in page
    assert "person0000@example.com" not in page
    nothing = client.get(f"/audience/lists/{customers.id}?q=100%25").get_data(as_text=True)
    assert "No contact's address on this list contains “100%”" in nothing


def test_ticked_contacts_can_be_removed_from_the_list_and_stay_contacts(client, customers):
    ids = add_contacts(customers, 3)
    url = f"/audience/lists/{customers.id}"
    response = post_form(
        client, f"{url}/remove", {"contact": [str(ids[0]), str(ids[2])]}, follow_redirects=True
    )
    assert "2 contacts removed from “Customers”" in response.get_data(as_text=True)
    members = db.session.scalars(sa.select(ListMember.contact_id).where(ListMember.list_id == customers.id))
    assert list(members) == [ids[1]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 3


def test_ticked_contacts_can_be_tagged_in_bulk(client, customers):
    ids = add_contacts(customers, 3)
    url = f"/audience/lists/{customers.id}"
    response = post_form(
        client,
        f"{url}/tag",
        {"tag": "vip", "contact": [str(ids[0]), str(ids[1])]},
        follow_redirects=True,
    )
    assert "Tag “vip” added to 2 contacts" in response.get_data(as_text=True)
    again = post_form(
        client,
        f"{url}/tag",
        {"tag": "vip", "contact": [str(ids[1]), str(ids[2])]},
        follow_redirects=True,
    )
    assert "Tag “vip” added to 1 contact." in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactTag)) == 3


def test_bulk_actions_without_a_ticked_contact_say_so(client, customers):
    add_contacts(customers, 1)
    url = f"/audience/lists/{customers.id}"
    page = post_form(client, f"{url}/tag", {"tag": "vip"}, follow_redirects=True).get_data(as_text=True)
    assert "Tick the contacts to tag first." in page
    page = post_form(client, f"{url}/remove", {}, follow_redirects=True).get_data(as_text=True)
    assert "Tick the contacts to remove first." in page


def test_another_users_contacts_cannot_be_tagged_or_removed_through_my_list(
    client, logged_in, customers, make_user
):
    intruder_list = make_list(make_user("someone-else"), "Theirs")
    theirs = add_contacts(intruder_list, 1, prefix="theirs")
    url = f"/audience/lists/{customers.id}"
    post_form(client, f"{url}/tag", {"tag": "mine", "contact": [str(theirs[0])]})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactTag)) == 0


def test_export_writes_every_column_and_escapes_formulas(list_import: ListImport, client, customers):
    list_import.upload_and_confirm(
        b"email,name,note\nada@example.com,=HYPERLINK(1),+44 20\nalan@example.com,Alan,\n"
    )
    response = client.get(f"/audience/lists/{customers.id}/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows == [
        ["email", "name", "status", "tags", "note"],
        ["ada@example.com", "'=HYPERLINK(1)", "subscribed", "", "'+44 20"],
        ["alan@example.com", "Alan", "subscribed", "", ""],
    ]


@pytest.mark.parametrize(
    "path",
    ["", "/export.csv", "/review/" + "a" * 32],
)
def test_another_users_list_is_not_found(client, make_user, auth, customers, path):
    auth.logout()
    auth.login(make_user("intruder").username)
    assert client.get(f"/audience/lists/{customers.id}{path}").status_code == 404


@pytest.mark.parametrize("action", ["rename", "delete", "remove", "tag", "paste", "upload"])
def test_another_users_list_cannot_be_changed(client, make_user, auth, customers, action):
    auth.logout()
    auth.login(make_user("intruder").username)
    response = post_form(
        client,
        f"/audience/lists/{customers.id}/{action}",
        {"name": "Mine", "tag": "x", "addresses": "a@example.com"},
    )
    assert response.status_code == 404
    assert db.session.get(ContactList, customers.id).name == "Customers"


def test_a_lists_size_follows_every_import_and_removal(list_import: ListImport, client, customers):
    list_import.upload_and_confirm(b"email\na@example.com\nb@example.com\nc@example.com\n")
    list_import.upload_and_confirm(b"email\nc@example.com\nd@example.com\n")
    ids = db.session.scalars(sa.select(Contact.id).order_by(Contact.id)).all()
    url = f"/audience/lists/{customers.id}"
    post_form(client, f"{url}/remove", {"contact": [str(ids[0])]})
    db.session.expire_all()
    assert db.session.get(ContactList, customers.id).member_count == 3
    assert "3 contacts." in client.get(url).get_data(as_text=True)
    assert ">3</td>" in client.get("/audience/").get_data(as_text=True)
