"""A segment's own page: can its name, list and conditions be changed (a condition added or removed)
with the count following, is a wrong change refused with what was typed kept, and can everyone in it be
tagged or untagged at once?"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.audiences.models import Contact, ContactTag, Segment, Tag
from app.extensions import db
from tests.audiences.conftest import ListImport, condition_fields, make_list, save_segment
from tests.conftest import post_form

CONTACTS = (
    b"email,name,city,score,tags\n"
    b"asha@example.com,Asha,Kochi,42,vip\n"
    b"ravi@example.com,Ravi,Pune,7,\n"
    b"meera@example.com,Meera,Kochi,15,vip\n"
    b"john@example.com,John,Delhi,80,\n"
)


@pytest.fixture
def kochi(client, list_import, customers):
    """A segment "Kochi" of the customers living in Kochi (Asha and Meera); its page's URL."""
    list_import.upload_and_confirm(CONTACTS)
    save_segment(client, "Kochi", customers.id, ("attribute", "city", "equals", "Kochi"))
    return f"/audience/segments/{db.session.scalar(sa.select(Segment.id))}"


def edit(client, url: str, name: str, list_id: int, *conditions: tuple[str, ...], **extra: str):
    data = {"name": name, "list_id": str(list_id), **condition_fields(*conditions), **extra}
    return post_form(client, f"{url}/edit", data, follow_redirects=True)


def saved() -> Segment:
    db.session.expire_all()
    return db.session.scalars(sa.select(Segment)).one()


def test_the_page_offers_the_segment_as_saved_with_a_row_to_add_a_condition(client, kochi):
    page = client.get(kochi).get_data(as_text=True)
    assert 'name="conditions-0-key" type="text" value="city"' in page
    assert 'name="conditions-0-value" type="text" value="Kochi"' in page
    assert 'name="conditions-1-kind"' in page
    assert 'name="conditions-3-kind"' not in page


def test_changing_the_conditions_changes_the_count(client, kochi, customers):
    page = edit(
        client,
        kochi,
        "Kochi regulars",
        customers.id,
        ("attribute", "city", "equals", "Kochi"),
        ("attribute", "score", "at least", "20"),
    ).get_data(as_text=True)
    assert "Segment “Kochi regulars” saved." in page
    assert "1 contact match now." in page
    assert "score at least 20" in page
    assert saved().name == "Kochi regulars"


def test_a_condition_is_removed_by_setting_its_row_to_none(client, kochi, customers):
    page = edit(client, kochi, "Everyone", customers.id, ("", "city", "equals", "Kochi")).get_data(
        as_text=True
    )
    assert "4 contacts match now." in page
    assert saved().conditions == []


def test_the_list_can_change_to_all_contacts_or_another_list(client, kochi, customers, logged_in):
    elsewhere = make_list(logged_in, "Elsewhere")
    ListImport(client, elsewhere).upload_and_confirm(b"email,city\nzoe@example.com,Kochi\n")
    condition = ("attribute", "city", "equals", "Kochi")
    assert "3 contacts match now." in edit(client, kochi, "Kochi", 0, condition).get_data(as_text=True)
    assert saved().list_id is None
    assert "1 contact match now." in edit(client, kochi, "Kochi", elsewhere.id, condition).get_data(
        as_text=True
    )
    assert saved().list_id == elsewhere.id


def test_add_a_condition_gives_another_row_keeps_what_was_typed_and_saves_nothing(client, kochi, customers):
    typed = [("attribute", "city", "equals", "Kochi"), ("attribute", "score", "greater than", "10")]
    response = edit(client, kochi, "Renamed", customers.id, *typed, more="1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Renamed"' in page
    assert 'name="conditions-1-value" type="text" value="10"' in page
    assert 'name="conditions-2-kind"' in page
    assert saved().name == "Kochi"
    assert len(saved().conditions) == 1


def test_a_new_segment_can_have_more_rows_too(client, customers):
    data = {
        "name": "Big",
        "list_id": str(customers.id),
        **condition_fields(*[("", "", "equals", "")] * 3),
        "more": "1",
    }
    page = post_form(client, "/audience/segments", data).get_data(as_text=True)
    assert 'name="conditions-3-kind"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_a_wrong_change_is_refused_with_what_was_typed_kept_and_nothing_saved(client, kochi, customers):
    response = edit(client, kochi, "Renamed", customers.id, ("attribute", "score", "greater than", "lots"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“lots” is not a number" in page
    assert 'value="Renamed"' in page
    assert 'value="lots"' in page
    assert saved().name == "Kochi"
    assert saved().conditions == [{"kind": "attribute", "key": "city", "op": "equals", "value": "Kochi"}]


def test_a_segment_keeps_its_own_name_but_cannot_take_anothers(client, kochi, customers):
    save_segment(client, "Pune", customers.id, ("attribute", "city", "equals", "Pune"))
    condition = ("attribute", "city", "equals", "Kochi")
    taken = post_form(
        client,
        f"{kochi}/edit",
        {"name": "Pune", "list_id": str(customers.id), **condition_fields(condition)},
    )
    assert taken.status_code == 400
    assert "You already have a segment named “Pune”" in taken.get_data(as_text=True)
    assert "Segment “Kochi” saved." in edit(client, kochi, "Kochi", customers.id, condition).get_data(
        as_text=True
    )


def test_another_users_segment_cannot_be_edited_nor_pointed_at_their_list(
    client, kochi, customers, make_user, auth
):
    intruder = make_user("intruder")
    theirs = make_list(intruder, "Theirs")
    assert post_form(client, f"{kochi}/edit", {"name": "Mine", "list_id": str(theirs.id)}).status_code == 404
    auth.logout()
    auth.login("intruder")
    stolen = post_form(client, f"{kochi}/edit", {"name": "Stolen", "list_id": "0"})
    assert stolen.status_code == 404
    assert saved().name == "Kochi"


def tags_of(name: str) -> set[str]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            sa.select(Contact.address)
            .join(ContactTag, ContactTag.contact_id == Contact.id)
            .join(Tag, Tag.id == ContactTag.tag_id)
            .where(Tag.name == name)
        )
    )


def test_everyone_in_the_segment_gets_the_tag_and_no_one_else(client, kochi):
    page = post_form(client, f"{kochi}/tag", {"tag": "kerala"}, follow_redirects=True)
    assert "Tag “kerala” added to 2 contacts." in page.get_data(as_text=True)
    assert tags_of("kerala") == {"asha@example.com", "meera@example.com"}
    again = post_form(client, f"{kochi}/tag", {"tag": "kerala"}, follow_redirects=True)
    assert "Tag “kerala” added to 0 contacts." in again.get_data(as_text=True)


def test_a_tag_is_taken_off_everyone_in_the_segment_and_only_them(client, kochi, customers):
    everyone = save_segment(client, "Everyone", customers.id).get_data(as_text=True)
    everyone_url = re.search(r'action="(/audience/segments/\d+)/tag"', everyone).group(1)
    post_form(client, f"{everyone_url}/tag", {"tag": "2026"})
    tag_id = db.session.scalar(sa.select(Tag.id).where(Tag.name == "2026"))
    page = post_form(client, f"{kochi}/untag", {"tag_id": str(tag_id)}, follow_redirects=True)
    assert "Tag “2026” removed from 2 contacts." in page.get_data(as_text=True)
    assert tags_of("2026") == {"ravi@example.com", "john@example.com"}


def test_a_bulk_tag_needs_a_name_and_untagging_one_of_your_own_tags(client, kochi, make_user):
    blank = post_form(client, f"{kochi}/tag", {"tag": " "})
    assert blank.status_code == 400
    assert "Type the tag to add." in blank.get_data(as_text=True)
    theirs = Tag(user_id=make_user("other").id, name="theirs")
    db.session.add(theirs)
    db.session.commit()
    refused = post_form(client, f"{kochi}/untag", {"tag_id": str(theirs.id)})
    assert refused.status_code == 400
    assert "Choose one of your tags." in refused.get_data(as_text=True)


def test_another_users_segment_cannot_be_tagged(client, kochi, make_user, auth):
    auth.logout()
    auth.login(make_user("intruder").username)
    assert post_form(client, f"{kochi}/tag", {"tag": "x"}).status_code == 404
    assert post_form(client, f"{kochi}/untag", {"tag_id": "1"}).status_code == 404
    assert tags_of("x") == set()


def test_tagging_or_untagging_a_segment_is_one_statement_whatever_its_size(client, kochi):
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        post_form(client, f"{kochi}/tag", {"tag": "kerala"})
        tag_id = db.session.scalar(sa.select(Tag.id).where(Tag.name == "kerala"))
        post_form(client, f"{kochi}/untag", {"tag_id": str(tag_id)})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if s.lstrip().upper().startswith("INSERT INTO CONTACT_TAG")]) == 1
    assert len([s for s in statements if s.lstrip().upper().startswith("DELETE FROM CONTACT_TAG")]) == 1
    assert tags_of("kerala") == set()
