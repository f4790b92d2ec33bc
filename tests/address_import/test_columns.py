"""Finding the email and name columns by header, or as the user chose them."""

from __future__ import annotations

import pytest

from app.address_import import ColumnMap, RecipientFileError
from app.address_import.columns import locate_columns


@pytest.mark.parametrize(
    "header",
    ["email", "Email", "EMAIL", "E-mail", "e-Mail", "Email Address", "email_address", "E-Mail-Adresse"],
)
def test_email_column_is_found_by_its_header_in_any_spelling(header: str):
    assert locate_columns(["Name", header, "City"]) == (1, 0)


def test_header_containing_email_is_the_fallback():
    assert locate_columns(["Work email", "Name"]) == (0, 1)


def test_exact_email_header_wins_over_one_that_merely_contains_it():
    assert locate_columns(["Email opt-in", "E-mail"])[0] == 1


@pytest.mark.parametrize("header", ["Name", "Full Name", "display_name", "NOM"])
def test_name_column_is_found_by_its_header(header: str):
    assert locate_columns(["email", "Company", header]) == (0, 2)


def test_name_column_is_optional():
    assert locate_columns(["email", "First Name", "Last Name"]) == (0, None)


def test_users_choice_overrides_the_headers():
    chosen = ColumnMap(email="Contact", name="Who")
    assert locate_columns(["email", "Contact", "Who", "name"], chosen) == (1, 2)


def test_user_can_choose_no_name_column():
    assert locate_columns(["email", "name"], ColumnMap(email="email", name=None)) == (0, None)


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        (
            ColumnMap(email="Mail", name=None),
            "There is no column headed 'Mail'. The columns are: 'email', 'name'.",
        ),
        (ColumnMap(email="email", name="email"), "The name column cannot also be the email column."),
    ],
)
def test_impossible_choice_gets_a_clear_message(chosen: ColumnMap, message: str):
    with pytest.raises(RecipientFileError) as refused:
        locate_columns(["email", "name"], chosen)
    assert refused.value.message == message


def test_no_email_column_gets_a_clear_message():
    with pytest.raises(RecipientFileError) as refused:
        locate_columns(["name", "phone"])
    assert refused.value.message.startswith("No column is headed 'email'. The columns are: 'name', 'phone'.")


def test_header_row_that_is_an_address_is_recognised_as_missing():
    with pytest.raises(RecipientFileError, match="The first row looks like a recipient, not a header"):
        locate_columns(["anna@example.com", "Anna"])
