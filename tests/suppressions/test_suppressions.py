"""The Suppressions page: can a user see, search, add, import and remove the addresses never mailed?"""

from __future__ import annotations

import io

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Suppression, SuppressionReason
from tests.conftest import csrf_token_from, post_form


def listed(user) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Suppression.address, Suppression.reason).where(Suppression.user_id == user.id)
    )
    return dict(rows.all())


def add_suppressions(user, *addresses: str, reason: str = SuppressionReason.MANUAL) -> None:
    db.session.add_all(Suppression(user_id=user.id, address=address, reason=reason) for address in addresses)
    db.session.commit()


def test_adding_pasted_addresses_lower_cases_them_and_skips_the_invalid(client, logged_in):
    response = post_form(
        client,
        "/suppressions/add",
        {"addresses": "Anna@Example.com, not-an-address\nbob@example.com; anna@example.com"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "2 addresses added to your suppressions" in page
    assert "1 entries are not valid addresses" in page
    assert "not-an-address" in page
    assert listed(logged_in) == {"anna@example.com": "manual", "bob@example.com": "manual"}


def test_adding_an_address_already_listed_keeps_its_reason(client, logged_in):
    add_suppressions(logged_in, "gone@example.com", reason=SuppressionReason.UNSUBSCRIBED)
    response = post_form(
        client, "/suppressions/add", {"addresses": "Gone@example.com"},
        follow_redirects=True,
    )  # fmt: skip
    assert "0 addresses added to your suppressions; 1 already there" in response.get_data(as_text=True)
    assert listed(logged_in) == {"gone@example.com": "unsubscribed"}


def test_importing_a_csv_adds_its_email_column(client, logged_in):
    add_suppressions(logged_in, "old@example.com")
    csv = b"Name,E-mail,City\nAnna,anna@example.com,Pune\nOld,OLD@example.com,Goa\nX,nonsense,Goa\n"
    token = csrf_token_from(client.get("/suppressions/"))
    response = client.post(
        "/suppressions/import",
        data={"csrf_token": token, "file": (io.BytesIO(csv), "list.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "1 address added to your suppressions; 1 already there" in page
    assert listed(logged_in) == {"anna@example.com": "manual", "old@example.com": "manual"}


def test_a_file_without_an_email_column_imports_nothing(client, logged_in):
    token = csrf_token_from(client.get("/suppressions/"))
    response = client.post(
        "/suppressions/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"Name,City\nAnna,Pune\n"), "list.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Nothing imported" in response.get_data(as_text=True)
    assert listed(logged_in) == {}


def test_forms_need_their_csrf_token(client, logged_in):
    assert client.post("/suppressions/add", data={"addresses": "a@example.com"}).status_code == 400
    assert listed(logged_in) == {}


def test_list_is_paginated_newest_first_and_searchable(client, logged_in):
    now = clock.utcnow()
    db.session.add_all(
        Suppression(
            user_id=logged_in.id, address=f"r{i:03d}@example.com", created_at=now.replace(microsecond=i)
        )
        for i in range(60)
    )
    db.session.commit()
    first = client.get("/suppressions/").get_data(as_text=True)
    assert "60 addresses" in first
    assert "r059@example.com" in first
    assert "r009@example.com" not in first
    second = client.get("/suppressions/?page=2").get_data(as_text=True)
    assert "r009@example.com" in second
    assert "r059@example.com" not in second
    found = client.get("/suppressions/?q=R01").get_data(as_text=True)
    assert "10 addresses matching" in found
    assert "r015@example.com" in found
    assert "r025@" not in found


def test_search_treats_wildcards_literally(client, logged_in):
    add_suppressions(logged_in, "a_b@example.com", "axb@example.com")
    page = client.get("/suppressions/?q=a_b").get_data(as_text=True)
    assert "a_b@example.com" in page
    assert "axb@example.com" not in page


def test_removing_an_address_lets_it_be_mailed_again(client, logged_in):
    add_suppressions(logged_in, "back@example.com", "stays@example.com")
    back = db.session.scalar(sa.select(Suppression.id).where(Suppression.address == "back@example.com"))
    response = post_form(client, f"/suppressions/{back}/remove", {}, follow_redirects=True)
    assert "back@example.com removed from your suppressions" in response.get_data(as_text=True)
    assert listed(logged_in) == {"stays@example.com": "manual"}


def test_another_users_suppressions_are_neither_shown_nor_removable(client, logged_in, make_user):
    other = make_user("other")
    add_suppressions(other, "secret@example.com")
    theirs = db.session.scalar(sa.select(Suppression.id))
    assert "secret@example.com" not in client.get("/suppressions/").get_data(as_text=True)
    response = post_form(client, f"/suppressions/{theirs}/remove", {})
    assert response.status_code == 404
    assert listed(other) == {"secret@example.com": "manual"}


def test_navbar_links_the_page(client, logged_in):
    assert 'href="/suppressions/"' in client.get("/").get_data(as_text=True)


def test_a_paste_without_addresses_adds_nothing_and_says_why(client, logged_in):
    response = post_form(client, "/suppressions/add", {"addresses": ", ;\n;"}, follow_redirects=True)
    assert "Nothing added: There are no addresses to import." in response.get_data(as_text=True)
    assert listed(logged_in) == {}
