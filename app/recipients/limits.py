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

from app.recipients.errors import RecipientFileError

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


def check_lines(text: str, source: str, limits: UploadLimits, unit: str = "row") -> None:
    """Refuse text with too many lines (blank ones included), a line too long, or a NUL character.

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


def check_csv_width(text: str, delimiter: str, source: str, limits: UploadLimits) -> None:
    """Refuse a CSV whose first line has more fields than `max_columns`.

    pandas makes as many columns as the first line has fields and refuses longer rows later, so the
    first line decides the width of the whole table. It is at most `max_row_chars` long (`check_lines`).
    """
    try:
        first = next(csv.reader(io.StringIO(text[: limits.max_row_chars + 2]), delimiter=delimiter), [])
    except csv.Error:  # a field longer than the csv module reads: pandas tells the width, or refuses
        return
    if len(first) > limits.max_columns:
        raise too_many_columns(source, limits)
