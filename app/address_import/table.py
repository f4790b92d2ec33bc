"""The shape every reader hands on: a header row and cells that are all text."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app.recipients.errors import RecipientFileError


@dataclass(frozen=True)
class Table:
    """`cells` has positional columns (0, 1, …) matching `headers`, only non-blank rows, every cell a
    stripped string, and as index the row number the user sees in their file (so reports can point at it).
    """

    headers: list[str]
    cells: pd.DataFrame


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
