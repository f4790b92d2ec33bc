"""Segments: does a saved filter find exactly the contacts matching every condition, count them live,
and refuse a condition it cannot read?"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audiences.models import Segment
from app.extensions import db
from app.models import Suppression
from tests.audiences.conftest import ListImport, condition_fields, make_list, save_segment
from tests.conftest import post_form

CONTACTS = (
    b"email,name,city,plan,tags\n"
    b"asha@example.com,Asha,Kochi,gold,vip\n"
    b"ravi@example.com,Ravi,Pune,gold,\n"
    b"meera@example.com,Meera,Kochi,,vip\n"
    b"john@example.com,John,Kochin Town,basic,\n"
)


@pytest.fixture
def imported(list_import: ListImport, logged_in):
    list_import.upload_and_confirm(CONTACTS)
    db.session.add(Suppression(user_id=logged_in.id, address="ravi@example.com", reason="bounced"))
    db.session.commit()
    return list_import


@pytest.mark.parametrize(
    ("conditions", "matching"),
    [
        ((("attribute", "city", "equals", "Kochi"),), {"asha", "meera"}),
        ((("attribute", "city", "contains", "KOCH"),), {"asha", "meera", "john"}),
        ((("attribute", "plan", "is empty", ""),), {"meera"}),
        ((("tag", "", "equals", "vip"),), {"asha", "meera"}),
        ((("status", "", "equals", "bounced"),), {"ravi"}),
        ((("status", "", "equals", "subscribed"), ("attribute", "plan", "equals", "gold")), {"asha"}),
        ((), {"asha", "ravi", "meera", "john"}),
    ],
)
def test_a_segment_holds_the_contacts_matching_every_condition(
    client, imported, customers, conditions, matching
):
    page = save_segment(client, "Chosen", customers.id, *conditions).get_data(as_text=True)
    assert f"{len(matching)} contact{'' if len(matching) == 1 else 's'} match now." in page
    listed = page[page.index('id="contacts"') :]
    for name in ("asha", "ravi", "meera", "john"):
        assert (f"{name}@example.com" in listed) == (name in matching)


def test_a_segment_of_all_contacts_reaches_beyond_one_list(client, imported, logged_in):
    other = make_list(logged_in, "Elsewhere")
    ListImport(client, other).upload_and_confirm(b"email,city\nzoe@example.com,Kochi\n")
    page = save_segment(client, "Kochi", 0, ("attribute", "city", "equals", "Kochi")).get_data(as_text=True)
    assert "3 contacts match now." in page
    assert "All contacts" in page


def test_the_count_is_live(client, imported, customers, logged_in):
    save_segment(client, "Gold", customers.id, ("attribute", "plan", "equals", "gold"))
    segment_id = db.session.scalar(sa.select(Segment.id))
    assert "2 contacts match now." in client.get(f"/audience/segments/{segment_id}").get_data(as_text=True)
    imported.upload_and_confirm(b"email,plan\nmeera@example.com,gold\n")
    assert "3 contacts match now." in client.get(f"/audience/segments/{segment_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (("attribute", "", "equals", "Kochi"), "Name the attribute to match"),
        (("attribute", "city", "equals", ""), "Type the value to match."),
        (("tag", "", "equals", ""), "Type the value to match."),
        (
            ("status", "", "equals", "gone"),
            "A status is one of: subscribed, unsubscribed, bounced, complained.",
        ),
        (("color", "", "equals", "x"), "Not a valid choice"),
    ],
)
def test_a_condition_that_cannot_be_read_is_refused_with_the_reason(client, customers, condition, message):
    data = {"name": "Broken", "list_id": str(customers.id), **condition_fields(condition)}
    response = post_form(client, "/audience/segments", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_a_segment_name_is_used_once(client, customers):
    save_segment(client, "Gold", customers.id)
    again = post_form(client, "/audience/segments", {"name": "Gold", "list_id": "0"})
    assert again.status_code == 400
    assert "You already have a segment named “Gold”" in again.get_data(as_text=True)


def test_another_users_segment_and_lists_are_out_of_reach(client, customers, make_user, auth):
    save_segment(client, "Mine", customers.id)
    segment_id = db.session.scalar(sa.select(Segment.id))
    auth.logout()
    auth.login(make_user("intruder").username)
    assert client.get(f"/audience/segments/{segment_id}").status_code == 404
    stolen = post_form(
        client,
        "/audience/segments",
        {"name": "Theirs", "list_id": str(customers.id)},
    )
    assert stolen.status_code == 404
    assert post_form(client, f"/audience/segments/{segment_id}/delete", {}).status_code == 404


def test_deleting_a_segment_changes_no_contact(client, imported, customers):
    save_segment(client, "Gold", customers.id, ("attribute", "plan", "equals", "gold"))
    segment_id = db.session.scalar(sa.select(Segment.id))
    url = f"/audience/segments/{segment_id}"
    page = post_form(client, f"{url}/delete", {}, follow_redirects=True).get_data(as_text=True)
    assert "Segment “Gold” deleted" in page
    assert len(imported.members()) == 4
