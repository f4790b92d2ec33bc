"""Turning uploaded bytes into a table of strings, whatever the user's spreadsheet program saved.

The format is told by the content, not the file name: Excel happily saves CSV under .xls, and users
rename files. Every cell is read as text and never converted, so "007" and "+44 20…" stay as typed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time

import pandas as pd
from openpyxl import load_workbook

from app.recipients.errors import RecipientFileError
from app.recipients.table import Table, table_from_grid

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
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.01
RAGGED_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_table(data: bytes, filename: str, max_rows: int) -> Table:
    """Read a CSV or .xlsx upload; raise `RecipientFileError` for anything else.

    `max_rows` lets a workbook stop being read as soon as it has too many rows (a CSV is bounded by the
    upload limit and checked afterwards).
    """
    if not data.strip():
        raise RecipientFileError("The file is empty.")
    if data.startswith(OLE2_SIGNATURE):
        raise _ole2_error(data, filename)
    if data.startswith(ZIP_SIGNATURE):
        return table_from_grid(_xlsx_grid(data, filename, max_rows))
    return table_from_grid(_csv_grid(_decode_text(data, filename), filename))


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
    """UTF-8 (with or without BOM), else Windows-1252, which is what Excel on Windows writes by default."""
    not_text = RecipientFileError(
        f"{filename} is not a CSV or Excel (.xlsx) file we can read. "
        "Save your list as CSV UTF-8 or as an Excel Workbook (.xlsx) and upload that."
    )
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise not_text from None
    if b"\x00" in data:
        raise not_text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise not_text from None
    sample = text[:SNIFF_CHARS]
    if len(CONTROL_CHARS.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
        raise not_text
    return text


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
        return len(next(csv.reader(io.StringIO(sample), delimiter=delimiter), []))

    return max(DELIMITERS, key=field_count)


def _csv_grid(text: str, filename: str) -> pd.DataFrame:
    delimiter = sniff_delimiter(text)
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


def _xlsx_grid(data: bytes, filename: str, max_rows: int) -> pd.DataFrame:
    try:
        row_numbers, rows = _xlsx_rows(data, max_rows)
    except RecipientFileError:
        raise
    except Exception as exc:  # openpyxl reports a malformed workbook with many exception types
        raise RecipientFileError(
            f"{filename} could not be read as an Excel workbook (.xlsx). If it comes from another program "
            "(Numbers, LibreOffice, a ZIP archive), save it as .xlsx or as CSV UTF-8 and upload that."
        ) from exc
    width = max((len(row) for row in rows), default=0)
    padded = [row + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, index=row_numbers, columns=range(width), dtype=str)


def _xlsx_rows(data: bytes, max_rows: int) -> tuple[list[int], list[list[str]]]:
    """The first worksheet's non-blank rows as text, read in openpyxl's streaming mode (faster than pandas).

    Formulas give the value Excel last calculated and saved: they are never evaluated here.
    """
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    row_numbers: list[int] = []
    rows: list[list[str]] = []
    try:
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            row = [_cell_text(value) for value in values]
            if any(row):
                if len(rows) > max_rows:  # the header and max_rows data rows are already in
                    raise RecipientFileError.too_many(max_rows)
                row_numbers.append(number)
                rows.append(row)
    finally:
        workbook.close()
    return row_numbers, rows


def _cell_text(value: object) -> str:
    """A cell as the user sees it in Excel: 42 not 42.0, a date without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time():
        return value.date().isoformat()
    return str(value)
