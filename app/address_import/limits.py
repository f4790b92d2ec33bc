"""How much one upload or paste may hold, and the checks of its text made before it is parsed.

A CSV of a million columns made pandas build a million-column table (3 GB, then a 500), and a NUL
character passed the review to break the Save on PostgreSQL. Each figure here is checked before the
work it bounds, and each refusal says what to change. The workbook's own checks are in `xlsx_checks`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.address_import.types import RecipientFileError

MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """The settings of the same names in config.py (README's configuration table)."""

    #: MAX_RECIPIENTS: data rows (recipients) one import takes.
    max_rows: int
    #: MAX_COLUMNS: columns of a CSV's first line or of any spreadsheet row.
    max_columns: int
    #: MAX_ROW_CHARS: characters of one CSV line, pasted line or spreadsheet row.
    max_row_chars: int
    #: MAX_CELLS: rows times the widest row's columns, the size of the table an import builds.
    max_cells: int
    #: MAX_UNPACKED_MB: what all the parts of an .xlsx (a zip) may inflate to together.
    max_unpacked_bytes: int
    #: MAX_SHARED_STRINGS_MB: the .xlsx part that holds its text, which openpyxl reads whole.
    max_shared_strings_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UploadLimits:
        return cls(
            max_rows=config["MAX_RECIPIENTS"],
            max_columns=config["MAX_COLUMNS"],
            max_row_chars=config["MAX_ROW_CHARS"],
            max_cells=config["MAX_CELLS"],
            max_unpacked_bytes=config["MAX_UNPACKED_MB"] * MB,
            max_shared_strings_bytes=config["MAX_SHARED_STRINGS_MB"] * MB,
        )

    @property
    def max_file_rows(self) -> int:
        """Rows read counting blank ones: the header, the recipients and as many blank rows again.

        Blank rows cost time to read but are not recipients, so without this bound a sheet whose one
        cell is in row 1,048,576 is read to the end.
        """
        return 2 * self.max_rows + 1


def too_many_rows(source: str, limits: UploadLimits, unit: str = "row") -> RecipientFileError:
    return RecipientFileError(
        f"There are more than {limits.max_file_rows:,} {unit}s in {source}, counting blank ones: an import "
        f"reads at most that many, for {limits.max_rows:,} recipients. Delete the empty {unit}s, or split "
        "the list into smaller ones."
    )


def too_many_columns(source: str, limits: UploadLimits) -> RecipientFileError:
    return RecipientFileError(
        f"There are more than {limits.max_columns:,} columns in {source}, the most an import takes. Keep "
        "only the columns your emails use (the address, the name and the merge fields), delete the empty "
        "columns after them, save and upload again."
    )


def too_many_cells(source: str, limits: UploadLimits) -> RecipientFileError:
    return RecipientFileError(
        f"There are more than {limits.max_cells:,} cells in {source} (its rows times the columns of its "
        "widest row), the most an import takes. Delete the columns your emails do not use (one value far "
        "to the right widens every row), or split the list into smaller files."
    )


def row_too_long(number: int, source: str, limits: UploadLimits, unit: str = "row") -> RecipientFileError:
    return RecipientFileError(
        f"{unit.capitalize()} {number} of {source} holds more than {limits.max_row_chars:,} characters, the "
        f"most an import takes in one {unit}. Shorten its values, or leave out what your emails do not use."
    )


def has_nul(number: int, source: str, unit: str = "row") -> RecipientFileError:
    return RecipientFileError(
        f"{unit.capitalize()} {number} of {source} contains a NUL character (an invisible control code some "
        "programs leave in exports), which cannot be saved. Delete it, or save the list again as CSV UTF-8, "
        "and try again."
    )


def check_lines(text: str, source: str, limits: UploadLimits, unit: str = "row") -> int:
    """Refuse text with too many lines (blank ones included), a line too long, or a NUL character;
    return the number of lines.

    Lines are split as `str.splitlines` splits them, which includes the old Mac `\\r` line ends that
    pandas reads too. `unit` names a line to the user: a "row" of a file, a "line" of a paste.
    """
    lines = text.splitlines()
    if len(lines) > limits.max_file_rows:
        raise too_many_rows(source, limits, unit)
    too_long = next((number for number, line in enumerate(lines, 1) if len(line) > limits.max_row_chars), 0)
    if too_long:
        raise row_too_long(too_long, source, limits, unit)
    if "\0" in text:
        raise has_nul(next(number for number, line in enumerate(lines, 1) if "\0" in line), source, unit)
    return len(lines)


def check_csv(text: str, delimiter: str, source: str, limits: UploadLimits) -> None:
    """`check_lines`, and refuse a CSV whose first line has more fields than `max_columns` or whose
    table would have more than `max_cells` cells.

    pandas makes as many columns as the first line has fields, pads shorter rows and refuses longer
    ones, so the first line decides the width of the whole table: a 0.7 MB CSV whose header has 1,000
    fields above 50,000 one-field lines took 14.5 s and 1.3 GB. The width is checked first, so that a
    million-column header is told as such rather than as a long line.
    """
    width = _first_record_width(text, delimiter, limits)
    if width > limits.max_columns:
        raise too_many_columns(source, limits)
    if width * check_lines(text, source, limits) > limits.max_cells:
        raise too_many_cells(source, limits)


def _first_record_width(text: str, delimiter: str, limits: UploadLimits) -> int:
    """Fields of the first record, parsed from its first `max_row_chars` characters at most (a longer
    line is refused by `check_lines`)."""
    try:
        return len(next(csv.reader(io.StringIO(text[: limits.max_row_chars + 2]), delimiter=delimiter), []))
    except csv.Error:  # a field longer than the csv module reads: pandas tells the width, or refuses
        return 0
