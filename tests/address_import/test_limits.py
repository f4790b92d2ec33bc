"""The upload limits, one by one: each refuses before the work it bounds, with a message that says
what to change, and a list just inside it is still read."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.address_import import RecipientFileError
from app.address_import.paste import parse_paste
from app.address_import.readers import read_table
from app.address_import.types import Table
from tests.upload_bombs import (
    CONTENT_TYPES,
    MIB,
    ROOT_RELS,
    SHEET_CLOSE,
    SHEET_OPEN,
    WORKBOOK,
    WORKBOOK_RELS,
    Part,
    deflated,
    inline,
    repeated,
    sheet_of,
    upload_limits,
    workbook,
    zip_of,
)


def refusal(data: bytes, filename: str = "list.xlsx", **limits: int) -> str:
    with pytest.raises(RecipientFileError) as refused:
        read_table(data, filename, upload_limits(**limits))
    return refused.value.message


def addresses_sheet(count: int, dimension: str | None = None) -> Part:
    rows = f"<row>{inline('email')}</row>" + "".join(
        f"<row>{inline(f'u{n}@example.com')}</row>" for n in range(count)
    )
    return sheet_of(rows, dimension)


def emails(table: Table) -> list[str]:
    return table.cells[0].tolist()


# --- the .xlsx archive -------------------------------------------------------------------------------


def test_workbook_unpacking_past_the_limit_is_refused_before_reading():
    sheet = repeated(
        "xl/worksheets/sheet1.xml", "<worksheet>", b"<!-- padding -->" * 4096, 48, "</worksheet>"
    )
    message = refusal(workbook(sheet), max_unpacked_bytes=2 * MIB)
    assert message.startswith("list.xlsx unpacks to 3 MB, more than the 2 MB an import reads.")


def test_part_compressed_like_a_zip_bomb_is_refused():
    """Over 100 times smaller than it inflates to: real sheets compress 5 to 20 times."""
    sheet = repeated("xl/worksheets/sheet1.xml", "<worksheet>", b" " * MIB, 3, "</worksheet>")
    message = refusal(workbook(sheet))
    assert (
        "is compressed far more than a spreadsheet can be (its part xl/worksheets/sheet1.xml inflates"
        in message
    )


def test_small_parts_may_compress_as_well_as_they_like():
    """An empty-ish sheet of 100 KB of spaces compresses 1,000 times: too small to matter."""
    rows = f"<row>{inline('email')}</row>{' ' * 100_000}<row>{inline('a@example.com')}</row>"
    assert emails(read_table(workbook(sheet_of(rows)), "list.xlsx", upload_limits())) == ["a@example.com"]


def test_workbook_with_too_many_parts_is_refused_from_its_end_record():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(1_001):
            archive.writestr(f"xl/media/image{number}.png", b"")
    assert refusal(out.getvalue()).startswith(
        "list.xlsx holds 1,001 parts, more than the 1,000 a workbook has"
    )


def test_shared_strings_past_their_limit_are_refused():
    text = "".join(f"<si><t>person{n}@example.com {n * 7919 % 10007}</t></si>" for n in range(40_000))
    strings = deflated("xl/sharedStrings.xml", f"<sst>{text}</sst>")
    message = refusal(workbook(addresses_sheet(1), strings), max_shared_strings_bytes=MIB)
    assert message.startswith("The text of list.xlsx unpacks to 2 MB, more than the 1 MB an import reads.")


def test_part_larger_than_its_declared_size_is_cut_and_refused():
    """zipfile stops at the size the central directory declares and fails the CRC: what is checked is
    what can be inflated."""
    sheet = addresses_sheet(50)
    lying = Part(sheet.name, sheet.deflated, sheet.crc, 100)
    assert "could not be read as an Excel workbook" in refusal(workbook(lying))


def test_entity_expansion_is_refused():
    """defusedxml makes openpyxl refuse entity declarations (a "billion laughs")."""
    bomb = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    sheet = deflated(
        "xl/worksheets/sheet1.xml",
        f'{bomb}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f"<row>{inline('email')}</row><row>{inline('&b;')}</row></sheetData></worksheet>",
    )
    assert "could not be read as an Excel workbook" in refusal(workbook(sheet))


# --- the sheet's rows and columns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimension", "declared"),
    [("A1:XFD1048576", "1,048,576 rows and 16,384 columns"), ("A1:ALM3", "3 rows and 1,001 columns")],
)
def test_sheet_declaring_more_than_an_import_reads_is_refused(dimension: str, declared: str):
    message = refusal(workbook(addresses_sheet(2, dimension)))
    assert message.startswith(
        f"The first sheet of list.xlsx declares {declared} ({dimension}); an import reads"
    )


def test_declared_dimension_within_the_limits_is_read():
    assert emails(read_table(workbook(addresses_sheet(2, "A1:A3")), "list.xlsx", upload_limits())) == [
        "u0@example.com",
        "u1@example.com",
    ]


def test_declared_dimension_too_small_does_not_hide_rows():
    """openpyxl stops at a declared last row; the dimension is checked, then forgotten."""
    table = read_table(workbook(addresses_sheet(5, "A1:A2")), "list.xlsx", upload_limits())
    assert len(emails(table)) == 5


def test_blank_rows_count_towards_the_row_limit():
    """Three recipients allow seven rows (header, recipients and as many blank rows again)."""
    rows = f'<row r="1">{inline("email")}</row><row r="8">{inline("a@example.com")}</row>'
    message = refusal(workbook(sheet_of(rows)), max_rows=3)
    assert message.startswith("There are more than 7 rows in list.xlsx, counting blank ones")


def test_recipients_after_a_few_blank_rows_are_read():
    rows = f'<row r="1">{inline("email")}</row><row r="7">{inline("a@example.com")}</row>'
    table = read_table(workbook(sheet_of(rows)), "list.xlsx", upload_limits(3))
    assert table.cells.index.tolist() == [7]


def test_row_wider_than_the_column_limit_is_refused():
    rows = f'<row>{inline("email")}</row><row><c r="ALM2" t="inlineStr"><is><t>x</t></is></c></row>'
    assert refusal(workbook(sheet_of(rows))).startswith("There are more than 1,000 columns in list.xlsx")


def test_spreadsheet_row_holding_too_many_characters_is_refused():
    rows = (
        f"<row>{inline('email')}{inline('note')}</row><row>{inline('a@example.com')}{inline('n' * 200)}</row>"
    )
    message = refusal(workbook(sheet_of(rows)), max_row_chars=100)
    assert message.startswith("Row 2 of list.xlsx holds more than 100 characters")


# --- CSV --------------------------------------------------------------------------------------------


def test_csv_wider_than_the_column_limit_is_refused():
    data = b"email" + b",c" * 1_000 + b"\r\na@example.com\r\n"
    assert refusal(data, "list.csv").startswith("There are more than 1,000 columns in list.csv")


def test_csv_at_the_column_limit_is_read():
    data = b"email" + b",c" * 999 + b"\r\na@example.com\r\n"
    assert len(read_table(data, "list.csv", upload_limits()).headers) == 1_000


def test_csv_line_longer_than_the_limit_is_refused():
    data = b"email,note\r\na@example.com,short\r\nb@example.com," + b"n" * 200 + b"\r\n"
    message = refusal(data, "list.csv", max_row_chars=100)
    assert message.startswith("Row 3 of list.csv holds more than 100 characters")


def test_csv_blank_lines_count_towards_the_row_limit():
    data = b"email\r\n" + b"\r\n" * 6 + b"a@example.com\r\n"
    assert refusal(data, "list.csv", max_rows=3).startswith("There are more than 7 rows in list.csv")


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
)
def test_nul_is_refused_in_every_encoding_with_its_row(encoding: str):
    data = "email,name\r\nanna@example.com,Anna\r\nzoe@example.com,Zo\0ë\r\n".encode(encoding)
    message = refusal(data, "list.csv")
    assert message.startswith("Row 3 of list.csv contains a NUL character")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_read(encoding: str):
    data = "email\tname\r\nzoe@example.com\tZoë\r\n".encode(encoding)
    assert read_table(data, "list.txt", upload_limits()).cells.to_numpy().tolist() == [
        ["zoe@example.com", "Zoë"]
    ]


# --- paste ------------------------------------------------------------------------------------------


def test_paste_with_a_nul_is_refused_with_its_line():
    with pytest.raises(RecipientFileError, match=r"^Line 2 of the pasted addresses contains a NUL character"):
        parse_paste("a@example.com\nb@exa\0mple.com", upload_limits())


def test_paste_line_longer_than_the_limit_is_refused():
    with pytest.raises(
        RecipientFileError, match=r"^Line 1 of the pasted addresses holds more than 100 characters"
    ):
        parse_paste("a@example.com, " * 10, upload_limits(max_row_chars=100))


def test_paste_blank_lines_count_towards_the_line_limit():
    with pytest.raises(RecipientFileError, match=r"^There are more than 7 lines in the pasted addresses"):
        parse_paste("a@example.com" + "\n" * 7 + "b@example.com", upload_limits(3))


def test_paste_stops_at_the_first_entry_over_the_recipient_limit():
    with pytest.raises(RecipientFileError, match="more than 3 recipients"):
        parse_paste(",".join(["a@example.com"] * 1_000), upload_limits(3))


# --- the builders of the bombs themselves ----------------------------------------------------------------


def test_repeated_part_is_a_valid_deflate_stream():
    """The bombs' parts are real: a small one built the same way is read back whole."""
    row = f"<row>{inline('a@example.com')}</row>".encode()
    head = f"{SHEET_OPEN}<sheetData><row>{inline('email')}</row>"
    sheet = repeated("xl/worksheets/sheet1.xml", head, row, 3, f"</sheetData>{SHEET_CLOSE}")
    assert emails(read_table(workbook(sheet), "list.xlsx", upload_limits())) == ["a@example.com"] * 3


# --- the size of the table ---------------------------------------------------------------------------


def test_csv_whose_table_would_pass_the_cell_limit_is_refused():
    """Three columns by four lines is twelve cells: every line is padded to the header's width."""
    data = b"email,a,b\r\nx@example.com\r\ny@example.com\r\nz@example.com\r\n"
    assert refusal(data, "list.csv", max_cells=11).startswith("There are more than 11 cells in list.csv")
    assert len(emails(read_table(data, "list.csv", upload_limits(max_cells=12)))) == 3


def test_sheet_whose_table_would_pass_the_cell_limit_is_refused():
    rows = f"<row>{inline('email')}</row>" + '<row><c r="C2" t="inlineStr"><is><t>x</t></is></c></row>'
    rows += f"<row>{inline('y@example.com')}</row>" * 2
    assert refusal(workbook(sheet_of(rows)), max_cells=11).startswith(
        "There are more than 11 cells in list.xlsx"
    )
    assert len(emails(read_table(workbook(sheet_of(rows)), "list.xlsx", upload_limits(max_cells=12)))) == 3


# --- the parts openpyxl parses whole -------------------------------------------------------------------


def defined_names(count: int) -> str:
    names = "".join(
        f'<definedName name="n{n}">Recipients!$A${n % 1000 + 1}</definedName>' for n in range(count)
    )
    return WORKBOOK.replace("</workbook>", f"<definedNames>{names}</definedNames></workbook>")


def workbook_with(*replaced: Part, extra: tuple[Part, ...] = ()) -> bytes:
    parts = {
        part.name: part
        for part in (
            deflated("[Content_Types].xml", CONTENT_TYPES),
            deflated("_rels/.rels", ROOT_RELS),
            deflated("xl/workbook.xml", WORKBOOK),
            deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            addresses_sheet(1),
            deflated("xl/sharedStrings.xml", "<sst/>"),
        )
    }
    parts.update((part.name, part) for part in replaced)
    return zip_of([*parts.values(), *extra])


def test_workbook_part_too_big_to_parse_whole_is_refused():
    """80,000 defined names: 4.4 MB of XML openpyxl would parse into a tree (1.5 s, 64 MB)."""
    data = workbook_with(deflated("xl/workbook.xml", defined_names(80_000)))
    assert refusal(data).startswith(
        "The parts of list.xlsx that describe the workbook (its styles, names and relationships) unpack to 4.4 MB"
    )


def test_workbook_part_is_found_by_its_content_type_whatever_its_name():
    types = CONTENT_TYPES.replace("/xl/workbook.xml", "/xl/book.xml")
    rels = ROOT_RELS.replace("xl/workbook.xml", "xl/book.xml")
    data = workbook_with(
        deflated("[Content_Types].xml", types),
        deflated("_rels/.rels", rels),
        extra=(
            deflated("xl/book.xml", defined_names(80_000)),
            deflated("xl/_rels/book.xml.rels", WORKBOOK_RELS),
        ),
    )
    assert "that describe the workbook" in refusal(data)


def test_workbook_with_a_few_names_is_read():
    data = workbook_with(deflated("xl/workbook.xml", defined_names(100)))
    assert emails(read_table(data, "list.xlsx", upload_limits())) == ["u0@example.com"]


def test_chart_sheet_is_refused():
    rels = WORKBOOK_RELS.replace(
        "</Relationships>",
        '<Relationship Id="rId9" Target="chartsheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet"/></Relationships>',
    )
    data = workbook_with(deflated("xl/_rels/workbook.xml.rels", rels))
    assert refusal(data).startswith("list.xlsx has a chart sheet, which an import does not read.")
