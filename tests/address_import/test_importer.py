"""Whole imports: what the user sees in the summary before anything is saved."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.address_import import (
    ColumnMap,
    DuplicateRow,
    ImportResult,
    InvalidRow,
    Recipient,
    RecipientFileError,
    SuppressedRow,
    import_paste,
    import_upload,
)
from app.sending import message
from app.sending.message import CampaignTemplate
from tests.upload_bombs import upload_limits

ImportFixture = Callable[..., ImportResult]


def test_csv_import_gives_recipients_with_name_and_merge_fields(import_fixture: ImportFixture):
    result = import_fixture("windows1252.csv")
    assert result.recipients[0] == Recipient("zoe@example.com", "Zoë", {"company": "Café Crème"})
    assert result.columns == ColumnMap(email="E-mail", name="Name")
    assert [(field.key, field.header) for field in result.merge_fields] == [("company", "Company")]


def test_summary_lists_invalid_duplicate_and_suppressed_rows(import_fixture: ImportFixture):
    result = import_fixture("duplicates_and_invalid.csv", suppressed={"dave@example.com"})
    assert result.recipients == [Recipient("Anna@example.com", "Anna", {})]
    assert result.invalid == [
        InvalidRow(5, "bob@@example.com", "The part after the @-sign contains invalid characters: '@'."),
        InvalidRow(6, "", "There is no address in this row."),
        InvalidRow(7, "carol@example", "The part after the @-sign is not valid. It should have a period."),
    ]
    assert result.duplicates == [
        DuplicateRow(3, "anna@example.com", 2),
        DuplicateRow(8, "ANNA@example.com", 2),
    ]
    assert result.suppressed == [SuppressedRow(9, "dave@example.com")]


def test_report_rows_are_plain_python_values(import_fixture: ImportFixture):
    """They go to templates, JSON and the database as they are."""
    result = import_fixture("duplicates_and_invalid.csv")
    assert {type(value) for row in result.invalid + result.duplicates for value in row} == {int, str}


def test_xlsx_import_keeps_typed_text_in_merge_fields(import_fixture: ImportFixture):
    result = import_fixture("normal.xlsx")
    assert result.recipients[0].merge_data == {
        "customer_no": "007",
        "phone": "+44 20 7946 0000",
        "orders": "3",
        "joined": "2024-05-01",
        "total": "",
    }


def test_formula_like_cells_are_kept_as_plain_text_outside_the_email_column(import_fixture: ImportFixture):
    result = import_fixture("formula_cells.csv")
    assert result.recipients == [
        Recipient("ok@example.com", "=cmd|' /C calc'!A0", {"phone": "+1 555 0100", "note": "-"})
    ]
    assert [row.row for row in result.invalid] == [2, 3, 4, 5]


def test_users_column_choice_is_applied(import_fixture: ImportFixture):
    result = import_fixture("utf8_bom.csv", columns=ColumnMap(email="Email Address", name=None))
    assert result.recipients == [Recipient("anna@example.com", "", {"name_2": "Anna Ångström"})]
    assert result.merge_fields[0].note == (
        "Column 'Name' is available as {{ name_2 }}, because {{ name }} is always the recipient's name."
    )


def test_more_rows_than_allowed_refuses_the_whole_file():
    data = b"email\r\n" + b"".join(f"user{n}@example.com\r\n".encode() for n in range(4))
    with pytest.raises(RecipientFileError, match="more than 3 recipients"):
        import_upload(data, "list.csv", limits=upload_limits(3))


def test_exactly_the_allowed_rows_are_imported():
    data = b"email\r\n" + b"".join(f"user{n}@example.com\r\n".encode() for n in range(3))
    assert len(import_upload(data, "list.csv", limits=upload_limits(3)).recipients) == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_email_column.csv", "No column is headed 'email'."),
        ("first_row_is_data.csv", "The first row looks like a recipient, not a header."),
        ("legacy.xls", "legacy.xls is an old Excel 97–2003 workbook (.xls)"),
    ],
)
def test_whole_file_problems_raise_one_user_facing_error(
    import_fixture: ImportFixture, name: str, message: str
):
    with pytest.raises(RecipientFileError) as refused:
        import_fixture(name)
    assert refused.value.message.startswith(message)


def test_paste_import_reports_pasted_lines():
    result = import_paste(
        'Anna <anna@example.com>, "Smith, Bob" <bob@example.com>\nnot an address\nANNA@example.com',
        limits=upload_limits(10),
        suppressed={"bob@example.com"},
    )
    assert result.recipients == [Recipient("anna@example.com", "Anna", {})]
    assert result.suppressed == [SuppressedRow(1, "bob@example.com")]
    assert [row.row for row in result.invalid] == [2]
    assert result.duplicates == [DuplicateRow(3, "ANNA@example.com", 1)]
    assert result.merge_fields == []


def test_paste_over_the_limit_is_refused():
    with pytest.raises(RecipientFileError, match="more than 1 recipients"):
        import_paste("a@example.com, b@example.com", limits=upload_limits(1))


def test_an_imported_recipient_is_the_one_the_engine_renders_for(import_fixture: ImportFixture):
    recipient = import_fixture("windows1252.csv").recipients[0]
    rendered = CampaignTemplate("Hello {{ name }}", "<p>{{ company }}</p>", "{{ email }}").render(
        recipient, "https://shop.example/u/1"
    )
    assert type(recipient) is message.Recipient
    assert (rendered.subject, rendered.text.split()[0]) == ("Hello Zoë", "zoe@example.com")
