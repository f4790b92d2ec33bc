"""Upload limits for tests, and the uploads that inflate, built here rather than committed.

Each bomb is the one issue 13 lists. The two that inflate to hundreds of megabytes are deflate streams
assembled from one compressed chunk repeated: a chunk compressed with a full flush does not refer to
what came before it, so the same bytes are a valid continuation each time, and building the 2 GB bomb
costs its 2 MB plus one CRC pass over the chunk (0.4 s), never the gigabytes themselves.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Iterable
from functools import cache
from typing import Any, NamedTuple

from app.address_import import UploadLimits
from config import TestingConfig

DEFAULT_LIMITS = UploadLimits.from_config(
    {name: getattr(TestingConfig, name) for name in dir(TestingConfig) if name.isupper()}
)
MIB = 1024 * 1024


def upload_limits(max_rows: int = DEFAULT_LIMITS.max_rows, **changes: Any) -> UploadLimits:
    """The production limits, with `max_rows` recipients and any other field changed."""
    return dataclasses.replace(DEFAULT_LIMITS, max_rows=max_rows, **changes)


# --- a minimal .xlsx, written part by part -------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Recipients" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    "</Relationships>"
)
SHEET_OPEN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHEET_CLOSE = "</worksheet>"
STRINGS_OPEN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
STRINGS_CLOSE = "</sst>"


class Part(NamedTuple):
    """One zip entry, already deflated: its name, compressed bytes, CRC-32 and inflated size."""

    name: str
    deflated: bytes
    crc: int
    size: int


def deflated(name: str, text: str) -> Part:
    data = text.encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Part(name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data))


def repeated(name: str, head: str, chunk: bytes, times: int, tail: str) -> Part:
    """`head`, then `chunk` `times` times, then `tail`, deflated without ever being inflated here."""
    head_bytes, tail_bytes = head.encode(), tail.encode()
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = first.compress(head_bytes) + first.flush(zlib.Z_FULL_FLUSH)
    middle = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = middle.compress(chunk) + middle.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = last.compress(tail_bytes) + last.flush()
    crc = zlib.crc32(head_bytes)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail_bytes, crc)
    return Part(
        name, start + block * times + end, crc, len(head_bytes) + len(chunk) * times + len(tail_bytes)
    )


def zip_of(parts: Iterable[Part]) -> bytes:
    """A zip archive of already deflated parts (what `zipfile` would write, without compressing)."""
    body, directory = bytearray(), bytearray()
    count = 0
    for part in parts:
        name = part.name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0x21,
            part.crc,
            len(part.deflated),
            part.size,
            len(name),
            0,
        )
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x21,
            part.crc,
            len(part.deflated),
            part.size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            len(body),
        )
        directory += name
        body += header + name + part.deflated
        count += 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    return bytes(body + directory + end)


def workbook(sheet: Part, strings: Part | None = None) -> bytes:
    """An .xlsx openpyxl reads, around the given sheet (and shared strings) parts."""
    strings = strings or deflated("xl/sharedStrings.xml", STRINGS_OPEN + STRINGS_CLOSE)
    return zip_of(
        [
            deflated("[Content_Types].xml", CONTENT_TYPES),
            deflated("_rels/.rels", ROOT_RELS),
            deflated("xl/workbook.xml", WORKBOOK),
            deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            sheet,
            strings,
        ]
    )


def inline(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_of(rows_xml: str, dimension: str | None = None) -> Part:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return deflated(
        "xl/worksheets/sheet1.xml", f"{SHEET_OPEN}{declared}<sheetData>{rows_xml}</sheetData>{SHEET_CLOSE}"
    )


# --- the bombs of issue 13 ----------------------------------------------------------------------------


def declared_whole_sheet() -> bytes:
    """1.9 KB (the issue's was 1.6 KB): declares A1:XFD1048576, every cell of a sheet, and has one cell in
    its last row."""
    rows = f'<row r="1">{inline("email")}</row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x@example.com</t></is></c></row>'
    return workbook(sheet_of(rows, "A1:XFD1048576"))


@cache
def sheet_inflating_to_2gb() -> bytes:
    """About 2 MB inflating to 2 GiB of sheet XML: 2,048 rows, each padded with 1 MiB of spaces."""
    row = ("<row>" + inline("someone@example.com") + "</row>").encode()
    chunk = row + b" " * (MIB - len(row))
    head = f"{SHEET_OPEN}<sheetData><row>{inline('email')}</row>"
    return workbook(repeated("xl/worksheets/sheet1.xml", head, chunk, 2048, f"</sheetData>{SHEET_CLOSE}"))


@cache
def shared_string_of_500mb() -> bytes:
    """About 0.5 MB holding one shared string of 500 MiB, the value of the first data cell."""
    sheet = sheet_of(f'<row>{inline("email")}</row><row><c t="s"><v>0</v></c></row>')
    strings = repeated(
        "xl/sharedStrings.xml", f"{STRINGS_OPEN}<si><t>", b"a" * MIB, 500, f"</t></si>{STRINGS_CLOSE}"
    )
    return workbook(sheet, strings)


def csv_of_a_million_columns() -> bytes:
    """A 2 MB CSV whose header has a million columns."""
    return b"email" + b",c" * 999_999 + b"\r\na@example.com\r\n"


def utf16_csv_with_nul() -> bytes:
    """Excel's "Unicode Text" (UTF-16 with a byte-order mark) with a NUL inside a name."""
    return "email\tname\r\nanna@example.com\tAn\0na\r\n".encode("utf-16")


# --- found while bounding the above ------------------------------------------------------------------


def csv_padded_to_its_header() -> bytes:
    """0.7 MB: a header of 1,000 columns above 50,000 one-value lines (14.5 s and 1.3 GB unbounded)."""
    return b"email" + b",c" * 999 + b"\r\n" + b"a@example.com\r\n" * 50_000


def sheet_padded_to_one_wide_row() -> bytes:
    """About 0.1 MB: 50,000 one-address rows, and one whose cell is in column 1,000 (ALL), which the
    sheet declares honestly."""
    wide = '<row><c r="ALL2" t="inlineStr"><is><t>x</t></is></c></row>'
    rows = "".join(f"<row>{inline(f'user{n}@example.com')}</row>" for n in range(50_000))
    return workbook(sheet_of(f"<row>{inline('email')}</row>{wide}{rows}", "A1:ALL50002"))


@cache
def workbook_part_of_50mb_names() -> bytes:
    """About 5 MB: a workbook part of 50 MiB of defined names, which openpyxl parses into one tree.

    The names repeat every 64 KiB, farther than deflate looks back, so each repetition compresses only
    as well as real XML does (10 times) and no part looks like a zip bomb.
    """
    names = "".join(f'<definedName name="n{n}">Recipients!$A${n + 1}</definedName>' for n in range(1_200))
    chunk = names.encode()[: 64 * 1024]
    chunk = chunk[: chunk.rindex(b"</definedName>") + len(b"</definedName>")]
    head, tail = WORKBOOK.split("</workbook>")[0] + "<definedNames>", "</definedNames></workbook>"
    part = repeated("xl/workbook.xml", head, chunk, 50 * MIB // len(chunk), tail)
    sheet = sheet_of(f"<row>{inline('email')}</row><row>{inline('a@example.com')}</row>")
    return zip_of(
        [
            deflated("[Content_Types].xml", CONTENT_TYPES),
            deflated("_rels/.rels", ROOT_RELS),
            part,
            deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            sheet,
            deflated("xl/sharedStrings.xml", STRINGS_OPEN + STRINGS_CLOSE),
        ]
    )
