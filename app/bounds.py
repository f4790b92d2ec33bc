"""The range a number from outside (a URL, a query string, a form) must fall in: what our columns hold.

Every id, cap and count is an `Integer` column: 32 bits on PostgreSQL (SQLite's are 64). A bigger
number sent to the database is an error there (SQLite: "Python int too large to convert"), a 500 for
the user; so a number is checked here first, and one out of range is a 404 or a form message.
`str.isdigit` is not the test: it is true of '²' and '٣', which `int` refuses or reads as 3.
"""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.routing import IntegerConverter, ValidationError

#: The largest value of an `Integer` column on PostgreSQL.
INTEGER_MAX = 2**31 - 1
#: Enough digits for any number up to INTEGER_MAX; a longer string is refused before `int` reads it.
_MAX_DIGITS = len(str(INTEGER_MAX))


def whole_number(text: str, low: int = 0, high: int = INTEGER_MAX) -> int:
    """`text` read as a number of ASCII digits from `low` to `high`; ValueError if it is not one.

    Raising ValueError makes it a `type=` for `request.args.get`, which then gives the default.
    """
    if not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > _MAX_DIGITS:
        raise ValueError(f"not a whole number from {low} to {high}: {text[:20]!r}")
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"not a whole number from {low} to {high}: {number}")
    return number


def record_id(text: str) -> int:
    """An id from a query string or a form (`request.args.get("recipient", type=record_id)`)."""
    return whole_number(text, low=1)


def page_number(text: str) -> int:
    """A page of a list (`request.args.get("page", 1, type=page_number)`): 1 up, and small enough that
    page × page size still fits the database's LIMIT/OFFSET (64-bit)."""
    return whole_number(text, low=1)


def record_ids(texts: Iterable[str]) -> list[int]:
    """The valid ids among `texts`, in order; the others are left out."""
    ids = []
    for text in texts:
        try:
            ids.append(record_id(text))
        except ValueError:
            continue
    return ids


class IdConverter(IntegerConverter):
    """Flask's `<int:...>` for ids: ASCII digits only, within INTEGER_MAX, else the URL is a 404."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        try:
            return whole_number(value)
        except ValueError as error:
            raise ValidationError() from error
