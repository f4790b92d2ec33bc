"""Pasted addresses: one a line, or separated by commas or semicolons, each optionally `Name <address>`."""

from __future__ import annotations

import re

import pandas as pd

from app.address_import.limits import UploadLimits, check_lines
from app.address_import.types import RecipientFileError, Table

# An entry runs to the next comma, semicolon or line end outside "quotes" and <angle brackets>, so
# `"Smith, Anna" <anna@example.com>` stays whole; a stray quote or bracket is kept as an ordinary character.
ENTRY = re.compile(r'(?:"[^"\n]*"|<[^>\n]*>|[^,;\n"<]|["<])+')
NAMED = re.compile(r"(?P<name>.*?)\s*<(?P<address>[^<>]*)>")
QUOTED = re.compile(r'"(?P<inner>(?:[^"\\]|\\.)*)"')
ESCAPED = re.compile(r"\\(.)")


PASTE = "the pasted addresses"


def parse_paste(text: str, limits: UploadLimits) -> Table:
    """A table with `email` and `name` columns, indexed by the line each entry was pasted on.

    The same limits as a file's hold: lines (blank ones too), characters a line, no NUL, and reading
    stops at the first entry over the recipient limit.
    """
    check_lines(text, PASTE, limits, unit="line")
    lines: list[int] = []
    entries: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in ENTRY.finditer(line):
            entry = match.group().strip()
            if entry:
                if len(entries) == limits.max_rows:
                    raise RecipientFileError.too_many(limits.max_rows)
                lines.append(number)
                entries.append(split_entry(entry))
    if not entries:
        raise RecipientFileError(
            "There are no addresses to import. Paste one address a line, or separate them with commas "
            "or semicolons; 'Name <address>' is fine too."
        )
    cells = pd.DataFrame(entries, index=lines, columns=[0, 1], dtype=str)
    return Table(["email", "name"], cells)


def split_entry(entry: str) -> tuple[str, str]:
    """'Anna Smith <anna@example.com>' -> ('anna@example.com', 'Anna Smith'); a bare address has no name."""
    named = NAMED.fullmatch(entry)
    if named is None:
        return entry, ""
    name = named["name"].strip()
    quoted = QUOTED.fullmatch(name)
    if quoted is not None:
        name = ESCAPED.sub(r"\1", quoted["inner"]).strip()
    return named["address"].strip(), name
