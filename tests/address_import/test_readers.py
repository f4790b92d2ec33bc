"""Reading uploads: formats told by content, encodings, delimiters, and cells kept exactly as typed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.address_import import RecipientFileError
from app.address_import.readers import read_table, sniff_delimiter
from app.address_import.types import Table
from tests.upload_bombs import upload_limits

MAX_ROWS = 1_000


def rows(table: Table) -> list[list[str]]:
    return table.cells.to_numpy().tolist()


@pytest.mark.parametrize(
    ("name", "column", "names"),
    [
        ("utf8.csv", 0, ["Anna Ångström", "Zoë Kowalski", "Jörg Müller"]),
        ("utf8_bom.csv", 1, ["Anna Ångström"]),
        ("windows1252.csv", 1, ["Zoë", "Jörg Müller", "Anders Ångström"]),
        ("utf16_unicode_text.txt", 1, ["Zoë"]),
    ],
)
def test_accented_names_survive_each_encoding(
    fixture_bytes: Callable[[str], bytes], name: str, column: int, names: list[str]
):
    table = read_table(fixture_bytes(name), name, upload_limits(MAX_ROWS))
    assert table.cells[column].tolist() == names


def test_byte_order_mark_is_not_part_of_the_first_header(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("utf8_bom.csv"), "utf8_bom.csv", upload_limits(MAX_ROWS))
    assert table.headers == ["Email Address", "Name"]


def test_windows_1252_euro_sign_is_decoded(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("windows1252.csv"), "windows1252.csv", upload_limits(MAX_ROWS))
    assert rows(table)[2][2] == "€ Ltd"


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("semicolon.csv", ["EMAIL", "Name", "Amount"]),
        ("tab_delimited.txt", ["Name", "E-Mail", "Note"]),
        ("windows1252.csv", ["E-mail", "Name", "Company"]),
        ("utf8.csv", ["name", "email", "city"]),
    ],
)
def test_delimiter_is_sniffed(fixture_bytes: Callable[[str], bytes], name: str, headers: list[str]):
    assert read_table(fixture_bytes(name), name, upload_limits(MAX_ROWS)).headers == headers


def test_semicolon_csv_keeps_decimal_commas_inside_values(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("semicolon.csv"), "semicolon.csv", upload_limits(MAX_ROWS))
    assert [row[2] for row in rows(table)] == ["1,50", "2,75"]


@pytest.mark.parametrize(
    ("first_line", "delimiter"),
    [
        ('"Smith, Anna";email\n', ";"),
        ("email\n", ","),
        ("a\tb;c\td\n", "\t"),
        ("\n\nemail;name\n", ";"),
    ],
)
def test_sniffing_counts_fields_of_the_first_record_only(first_line: str, delimiter: str):
    assert sniff_delimiter(first_line + "x,y,z,w,v\n") == delimiter


def test_quoted_fields_keep_embedded_delimiters_quotes_and_newlines(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("quoted_fields.csv"), "quoted_fields.csv", upload_limits(MAX_ROWS))
    assert rows(table) == [
        ["anna@example.com", "Smith, Anna", "1 High St\r\nLondon"],
        ["bob@example.com", 'Bob "the Builder"', "2 Low Rd, Leeds"],
    ]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(fixture_bytes: Callable[[str], bytes]):
    """A quoted newline does not start a new row; a blank line is still a row."""
    quoted = read_table(fixture_bytes("quoted_fields.csv"), "quoted_fields.csv", upload_limits(MAX_ROWS))
    with_blank = read_table(fixture_bytes("duplicates_and_invalid.csv"), "d.csv", upload_limits(MAX_ROWS))
    assert quoted.cells.index.tolist() == [2, 3]
    assert with_blank.cells.index.tolist() == [2, 3, 5, 6, 7, 8, 9]


def test_csv_cells_are_never_type_converted(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("formula_cells.csv"), "formula_cells.csv", upload_limits(MAX_ROWS))
    assert [row[2] for row in rows(table)] == ["+44 20 7946 0000", "-5", "", "", "+1 555 0100"]


def test_xlsx_is_read_by_content_whatever_its_name(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("normal.xlsx"), "recipients.csv", upload_limits(MAX_ROWS))
    assert table.headers == ["Email", "Name", "Customer No", "Phone", "Orders", "Joined", "Total"]


def test_xlsx_cells_read_as_the_user_typed_them(fixture_bytes: Callable[[str], bytes]):
    """Text stays text ("007", "+44…"), whole numbers lose Excel's ".0", dates lose a midnight time."""
    table = read_table(fixture_bytes("normal.xlsx"), "normal.xlsx", upload_limits(MAX_ROWS))
    assert rows(table)[0] == [
        "anna@example.com",
        "Anna Ångström",
        "007",
        "+44 20 7946 0000",
        "3",
        "2024-05-01",
        "",
    ]
    assert rows(table)[1][4] == "2.5"


def test_xlsx_formulas_are_never_evaluated(fixture_bytes: Callable[[str], bytes]):
    """Only a value Excel saved is read; a formula nobody calculated reads as empty, not as computed."""
    table = read_table(fixture_bytes("normal.xlsx"), "normal.xlsx", upload_limits(MAX_ROWS))
    assert rows(table)[1][6] == ""


def test_xlsx_rows_keep_their_sheet_numbers(fixture_bytes: Callable[[str], bytes]):
    table = read_table(fixture_bytes("normal.xlsx"), "normal.xlsx", upload_limits(MAX_ROWS))
    assert table.cells.index.tolist() == [2, 4, 5]


def test_xlsx_stops_reading_past_the_row_limit(fixture_bytes: Callable[[str], bytes]):
    with pytest.raises(RecipientFileError, match="more than 2 recipients"):
        read_table(fixture_bytes("normal.xlsx"), "normal.xlsx", upload_limits(2))


def test_trailing_delimiters_add_no_columns():
    table = read_table(b"email,name,\r\na@example.com,Anna,\r\n", "list.csv", upload_limits(MAX_ROWS))
    assert table.headers == ["email", "name"]


def test_unnamed_column_with_values_is_kept():
    table = read_table(b"email,,name\r\na@example.com,x,Anna\r\n", "list.csv", upload_limits(MAX_ROWS))
    assert table.headers == ["email", "", "name"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "The file has a header row but no recipients below it."),
        ("binary_junk.csv", "binary_junk.csv is not a CSV or Excel (.xlsx) file we can read."),
        ("legacy.xls", "legacy.xls is an old Excel 97–2003 workbook (.xls)"),
        ("password_protected.xlsx", "password_protected.xlsx is protected with a password"),
        ("zip_archive.xlsx", "zip_archive.xlsx could not be read as an Excel workbook (.xlsx)."),
        ("ragged.csv", "Row 3 of ragged.csv has 3 values, but the first row has 2."),
    ],
)
def test_unreadable_file_gets_a_clear_message(fixture_bytes: Callable[[str], bytes], name: str, message: str):
    with pytest.raises(RecipientFileError) as refused:
        read_table(fixture_bytes(name), name, upload_limits(MAX_ROWS))
    assert refused.value.message.startswith(message)


def test_legacy_xls_gets_a_clear_message_even_when_named_csv(fixture_bytes: Callable[[str], bytes]):
    with pytest.raises(RecipientFileError, match=r"old Excel 97–2003 workbook \(\.xls\)"):
        read_table(fixture_bytes("legacy.xls"), "export.csv", upload_limits(MAX_ROWS))


def test_password_protected_xlsx_is_told_apart_from_legacy_xls(fixture_bytes: Callable[[str], bytes]):
    """Both are OLE2 containers (D0 CF 11 E0…); only the encrypted one holds an "EncryptedPackage"
    stream. The fixture was encrypted with msoffcrypto-tool as Excel does (see make_fixtures.py).
    """
    data = fixture_bytes("password_protected.xlsx")
    assert data[:4] == fixture_bytes("legacy.xls")[:4] == b"\xd0\xcf\x11\xe0"
    with pytest.raises(RecipientFileError, match="remove the password"):
        read_table(data, "password_protected.xlsx", upload_limits(MAX_ROWS))


@pytest.mark.parametrize(
    "data",
    [
        b"\n\r\n  \n",
        b",,,\r\n,,,\r\n",
        b"\xef\xbb\xbf",
    ],
)
def test_blank_content_is_an_empty_file(data: bytes):
    with pytest.raises(RecipientFileError, match=r"The file is empty."):
        read_table(data, "blank.csv", upload_limits(MAX_ROWS))


def test_text_full_of_control_characters_is_refused():
    with pytest.raises(RecipientFileError, match="not a CSV or Excel"):
        read_table(
            b"email\r\n" + b"\x01\x02\x03a@example.com\x1b\r\n" * 10, "odd.csv", upload_limits(MAX_ROWS)
        )


def test_unclosed_quote_gets_a_clear_message():
    with pytest.raises(RecipientFileError, match="double quote is probably not closed"):
        read_table(b'email,name\r\na@example.com,"Anna\r\n', "list.csv", upload_limits(MAX_ROWS))
