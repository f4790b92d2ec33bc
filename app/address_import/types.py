"""What an import produces: the recipients to save and a report of every row that was left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Recipient(NamedTuple):
    address: str
    name: str
    merge_data: dict[str, str]


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
    recipients: list[Recipient]
    invalid: list[InvalidRow]
    duplicates: list[DuplicateRow]
    suppressed: list[SuppressedRow]
    columns: ColumnMap
    merge_fields: list[MergeField]
    #: Accepted addresses with non-ASCII characters before the @: only a server offering SMTPUTF8
    #: (international addresses) takes them.
    international: int = 0
