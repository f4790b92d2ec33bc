"""Which encoding is a CSV read in? The one its byte-order mark names; else UTF-8 when it is UTF-8, or
mostly so; else Windows-1252 for a file that is consistently that. Accents never turn into mojibake, and
a row that cannot be read is reported with its row number, not saved garbled."""

from __future__ import annotations

import pytest

from app.address_import import InvalidRow, Recipient, import_upload
from app.address_import.importer import UNREADABLE_REASON
from app.address_import.readers import read_table
from tests.upload_bombs import upload_limits

LIMITS = upload_limits(1_000)
BOM = b"\xef\xbb\xbf"
ZOE = "Zoë Ångström-Çelik"
#: "André" as Windows-1252 writes it: the "é" is one byte, 0xE9, which is not UTF-8.
STRAY = b"andre@example.com,Andr\xe9\r\n"


def utf8_rows(*rows: str) -> bytes:
    return "".join(f"{row}\r\n" for row in rows).encode("utf-8")


def test_a_bom_file_with_one_stray_windows_byte_keeps_its_accents_and_reports_that_row():
    data = (
        BOM + utf8_rows("email,name", f"zoe@example.com,{ZOE}") + STRAY + utf8_rows("jorg@example.com,Jörg")
    )
    result = import_upload(data, "list.csv", limits=LIMITS)
    assert result.columns.email == "email"
    assert result.recipients == [
        Recipient("zoe@example.com", ZOE, {}),
        Recipient("jorg@example.com", "Jörg", {}),
    ]
    assert result.invalid == [InvalidRow(3, "andre@example.com", UNREADABLE_REASON)]


def test_a_mostly_utf8_file_without_bom_is_read_as_utf8_too():
    data = utf8_rows("email,name", f"zoe@example.com,{ZOE}", "jorg@example.com,Jörg Müller") + STRAY
    result = import_upload(data, "list.csv", limits=LIMITS)
    assert [recipient.name for recipient in result.recipients] == [ZOE, "Jörg Müller"]
    assert [(row.row, row.reason) for row in result.invalid] == [(4, UNREADABLE_REASON)]


def test_a_file_consistently_in_windows_1252_is_read_as_such():
    data = f"email,name\r\nzoe@example.com,{ZOE}\r\nandre@example.com,André\r\n".encode("cp1252")
    result = import_upload(data, "list.csv", limits=LIMITS)
    assert [recipient.name for recipient in result.recipients] == [ZOE, "André"]
    assert result.invalid == []


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (BOM + utf8_rows("email,name", "a@example.com,Åsa") + STRAY, ["email", "name"]),
        ("email,name\r\na@example.com,Åsa\r\n".encode("utf-16"), ["email", "name"]),
    ],
    ids=["utf-8", "utf-16"],
)
def test_the_byte_order_mark_is_never_part_of_the_first_header(data, headers):
    assert read_table(data, "list.csv", LIMITS).headers == headers
