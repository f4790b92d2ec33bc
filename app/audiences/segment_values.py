"""Numbers and dates in uploaded attributes, which are text: what counts as one, in Python and in SQL.

A cell that is not a number or not a date simply does not match a numeric or date comparison. On
PostgreSQL `CAST('abc' AS numeric)` raises, so every cast is behind a `CASE` whose regular expression
accepts only what the cast reads (SQLite has no regular expressions of its own: SQLAlchemy gives each
connection Python's as `REGEXP`, so one pattern serves both). The form checks a typed value with the
same patterns, so what a user may type and what a cell may hold are one rule. Cells arrive stripped
(imports strip every cell), so the patterns allow no surrounding spaces.

- A number: digits with an optional sign and decimal point (`42`, `-3.5`, `.5`); no thousands
  separators, currency signs or exponents; at most `NUMBER_LENGTH` characters, so no cell can overflow
  PostgreSQL's numeric.
- A date: ISO year-month-day (`2026-03-01`), optionally followed by a time after a `T` or a space
  (`2026-03-01 09:30:00`, as an .xlsx date cell arrives); the time is ignored. Dates compare as their
  ISO text, which orders as the calendar does, so no cast is needed at all.

The patterns are as plain as they can be: on PostgreSQL a regular expression costs 0.2–2 µs a row,
more the more repetition counts it has (measured, docs/benchmarks.md).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

NUMBER_PATTERN = r"^[-+]?[0-9]*\.?[0-9]+$"
NUMBER_LENGTH = 40
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]|$)"
_NUMBER = re.compile(NUMBER_PATTERN)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: The length of an ISO date, the part of a cell a date comparison reads.
ISO_DATE_LENGTH = 10


def read_number(text: str) -> Decimal | None:
    """The number a user typed, or None if it is not one by the rule above."""
    text = text.strip()
    return Decimal(text) if len(text) <= NUMBER_LENGTH and _NUMBER.match(text) else None


def read_date(text: str) -> date | None:
    """The ISO date (year-month-day) a user typed, or None if it is not one or not on the calendar."""
    text = text.strip()
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def cell_number(cell: sa.ColumnElement[str]) -> sa.ColumnElement[Decimal]:
    """The cell as a number, NULL (which matches no comparison) when it is not one."""
    readable = sa.and_(sa.func.length(cell) <= NUMBER_LENGTH, cell.regexp_match(NUMBER_PATTERN))
    return sa.case((readable, sa.cast(cell, sa.Numeric)), else_=None)


def cell_date(cell: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The cell's ISO date as text, NULL when it does not start with one."""
    return sa.case((cell.regexp_match(DATE_PATTERN), sa.func.substr(cell, 1, ISO_DATE_LENGTH)), else_=None)
