"""The types an import hands around: the table it reads, what it produces, and the one exception a
whole-file problem raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from app.recipient import Recipient


class RecipientFileError(Exception):
    """The upload or paste cannot be imported at all: nothing from it may be saved.

    `message` is shown to the user as it is, so it says what is wrong and what to do about it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def too_many(cls, max_recipients: int) -> RecipientFileError:
        return cls(
            f"This list has more than {max_recipients:,} recipients, the most one import takes. "
            "Split it into smaller files."
        )


@dataclass(frozen=True)
class Table:
    """The shape every reader hands on: a header row and cells that are all text.

    `cells` has positional columns (0, 1, …) matching `headers`, only non-blank rows, every cell a
    stripped string, and as index the row number the user sees in their file (so reports can point at it).
    """

    headers: list[str]
    cells: pd.DataFrame


class InvalidRow(NamedTuple):
    """`row` is the row as the user sees it: a spreadsheet row (the header is row 1) or a pasted line."""

    row: int
    value: str
    reason: str


class DuplicateRow(NamedTuple):
    row: int
    address: str
    first_row: int


class SuppressedRow(NamedTuple):
    row: int
    address: str


class ColumnMap(NamedTuple):
    """Which headers hold the address and the name (None: no name column)."""

    email: str
    name: str | None


class MergeField(NamedTuple):
    """A column offered to templates as `{{ key }}`; `note` says why the key differs from the header."""

    key: str
    header: str
    note: str


@dataclass(frozen=True)
class ImportResult:
    """What an import produces: the recipients to save and a report of every row that was left out."""

    recipients: list[Recipient]
    invalid: list[InvalidRow]
    duplicates: list[DuplicateRow]
    suppressed: list[SuppressedRow]
    columns: ColumnMap
    merge_fields: list[MergeField]
    #: Accepted addresses with non-ASCII characters before the @: only a server offering SMTPUTF8
    #: (international addresses) takes them.
    international: int = 0
