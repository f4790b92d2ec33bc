"""Turning uploaded bytes into a table of strings, whatever the user's spreadsheet program saved.

The format is told by the content, not the file name: Excel happily saves CSV under .xls, and users
rename files. Every cell is read as text and never converted, so "007" and "+44 20…" stay as typed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import pandas as pd

from app.address_import.limits import UploadLimits, check_csv
from app.address_import.types import RecipientFileError, Table
from app.address_import.xlsx import xlsx_grid

# Compound-file (OLE2) containers: Excel 97-2003 workbooks, and also any password-protected .xlsx, which
# Office stores as an OLE2 file holding the encrypted workbook in a stream named "EncryptedPackage".
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE_ENTRY = "EncryptedPackage".encode("utf-16-le")  # directory entry names are UTF-16LE
ZIP_SIGNATURE = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export
DELIMITERS = (",", ";", "\t")
BLANK_LINE_CHARS = "".join(DELIMITERS) + " \r\n"
SNIFF_CHARS = 64 * 1024
# Control characters other than tab, newline, form feed and carriage return do not occur in real text.
# NUL is left out: one among real text is refused with its row named (`check_lines`).
CONTROL_CHARS = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.01
#: Share of the bytes on one side of each pair that are zero in UTF-16 text without a byte-order mark.
UTF16_ZERO_SHARE = 0.5
#: ...while on the other side zeros (NUL characters) are at least this many times rarer than that share.
UTF16_ZERO_RATIO = 10
RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: What a character that could not be decoded becomes; a row holding one is reported, not saved.
UNREADABLE = "\ufffd"
#: Bytes that are not UTF-8, as Python's "surrogateescape" keeps them (one surrogate a byte).
ESCAPED_BYTE = re.compile("[\udc80-\udcff]+")
NON_ASCII = re.compile("[^\x00-\x7f]")


def read_table(data: bytes, filename: str, limits: UploadLimits) -> Table:
    """Read a CSV or .xlsx upload; raise `RecipientFileError` for anything else or anything bigger
    than `limits`, checked before the work they bound.
    """
    if not data.strip():
        raise RecipientFileError("The file is empty.")
    if data.startswith(OLE2_SIGNATURE):
        raise _ole2_error(data, filename)
    if data.startswith(ZIP_SIGNATURE):
        return table_from_grid(xlsx_grid(data, filename, limits))
    return table_from_grid(_csv_grid(_decode_text(data, filename), filename, limits))


def table_from_grid(grid: pd.DataFrame) -> Table:
    """Split a grid of strings, indexed by row number, into its header row and data rows.

    The header is the first non-blank row. Columns with neither a header nor a value (a trailing delimiter
    on every line, formatted but empty spreadsheet columns) are dropped.
    """
    grid = grid.apply(lambda column: column.str.strip())
    grid = grid[grid.ne("").any(axis=1)]
    if grid.empty:
        raise RecipientFileError("The file is empty.")
    headers = grid.iloc[0].tolist()
    data = grid.iloc[1:]
    if data.empty:
        raise RecipientFileError("The file has a header row but no recipients below it.")
    kept = [pos for pos, header in enumerate(headers) if header or data[grid.columns[pos]].ne("").any()]
    data = data.iloc[:, kept].set_axis(range(len(kept)), axis=1)
    return Table([headers[pos] for pos in kept], data)


def _ole2_error(data: bytes, filename: str) -> RecipientFileError:
    if ENCRYPTED_PACKAGE_ENTRY in data:
        return RecipientFileError(
            f"{filename} is protected with a password, so we cannot read it. Open it in Excel, remove the "
            "password (File › Info › Protect Workbook › Encrypt with Password, then clear it), save it "
            "and upload it again."
        )
    return RecipientFileError(
        f"{filename} is an old Excel 97–2003 workbook (.xls), which we cannot read. "
        "Open it in Excel and save it as an Excel Workbook (.xlsx) or as CSV UTF-8, then upload that."
    )


def _decode_text(data: bytes, filename: str) -> str:
    """The text of a CSV upload, its encoding chosen by `_decode`.

    Text that is mostly control characters is a binary file; a NUL among real text is refused by
    `check_lines`, which names its row, whatever the encoding.
    """
    not_text = RecipientFileError(
        f"{filename} is not a CSV or Excel (.xlsx) file we can read. "
        "Save your list as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload that."
    )
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise not_text from None
    sample = text[:SNIFF_CHARS]
    if len(CONTROL_CHARS.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
        raise not_text
    return text


def _decode(data: bytes) -> str:
    """A byte-order mark names the encoding (UTF-16, Excel's "Unicode Text", is also told without one);
    else text that is UTF-8 is read as UTF-8; else text that is mostly UTF-8 with a few stray bytes
    (one row pasted in from a Windows program) is read as UTF-8 too, each stray byte becoming
    `UNREADABLE` so that its row is reported; else the whole file is Windows-1252, which is what Excel
    on Windows writes by default.

    Reading a mostly UTF-8 file as Windows-1252 would turn every accent of it into mojibake ("Zoë" into
    "ZoÃ«", the BOM into "ï»¿"), so the legacy reading is kept for files that are consistently legacy.
    """
    encoding = utf16_encoding(data)
    if encoding is not None:
        return data.decode(encoding, "replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return data.decode("utf-8", "replace") if mostly_utf8(data) else data.decode("cp1252")


def mostly_utf8(data: bytes) -> bool:
    """Whether the non-ASCII characters UTF-8 finds in `data` are at least as many as the runs of bytes
    it cannot read. In Windows-1252 text an accent is a byte UTF-8 cannot read, and a sequence UTF-8
    reads takes an accented capital followed by a symbol ("Ã©"), which real text hardly has."""
    text = data.decode("utf-8", "surrogateescape")
    unread = ESCAPED_BYTE.findall(text)
    read = len(NON_ASCII.findall(text)) - sum(map(len, unread))
    return read >= len(unread)


def utf16_encoding(data: bytes) -> str | None:
    """ "utf-16" for text with a UTF-16 byte-order mark; "utf-16-le" or "-be" for text without one, told
    by its zero bytes (ASCII text in UTF-16 has one in every pair, on the same side); else None."""
    if data.startswith(UTF16_BOMS):
        return "utf-16"
    sample = data[: 2 * SNIFF_CHARS]
    first, second = sample[0::2], sample[1::2]
    for zeros, others, encoding in ((second, first, "utf-16-le"), (first, second, "utf-16-be")):
        if zeros and zeros.count(0) >= UTF16_ZERO_SHARE * len(zeros) > others.count(0) * UTF16_ZERO_RATIO:
            return encoding
    return None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first record into the most fields (a comma when none does).

    csv.Sniffer guesses from character frequencies over the sample and is easily fooled by commas in
    names or addresses; the header row is the one line whose fields we can expect to be plain. Lines
    holding nothing but delimiters and spaces come before it in some exports and are skipped.
    """
    lines = text[:SNIFF_CHARS].splitlines(keepends=True)
    first = next((pos for pos, line in enumerate(lines) if line.strip(BLANK_LINE_CHARS)), 0)
    sample = "".join(lines[first:])

    def field_count(delimiter: str) -> int:
        try:
            return len(next(csv.reader(io.StringIO(sample), delimiter=delimiter), []))
        except csv.Error:  # a lone carriage return inside a field: pandas reads it, or words the error
            return 0

    return max(DELIMITERS, key=field_count)


def _csv_grid(text: str, filename: str, limits: UploadLimits) -> pd.DataFrame:
    delimiter = sniff_delimiter(text)
    check_csv(text, delimiter, filename, limits)
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise RecipientFileError("The file is empty.") from None
    except pd.errors.ParserError as exc:
        raise _csv_error(str(exc), delimiter, filename) from None
    grid.index += 1
    return grid


def _csv_error(parser_message: str, delimiter: str, filename: str) -> RecipientFileError:
    ragged = RAGGED_ROW.search(parser_message)
    shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
    if ragged:
        expected, row, seen = ragged.groups()
        return RecipientFileError(
            f"Row {row} of {filename} has {seen} values, but the first row has {expected}. "
            f"A value that contains a {shown} must be in double quotes."
        )
    return RecipientFileError(
        f"{filename} could not be read as CSV: a double quote is probably not closed. "
        "Check the quotes, or save the file again from your spreadsheet program."
    )
