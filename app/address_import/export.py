"""Writing user data back out as CSV without letting a spreadsheet run it as a formula."""

from __future__ import annotations

import csv
import io

from app.address_import.types import ImportResult

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value: str) -> str:
    """The value with a leading apostrophe if a spreadsheet would take it for a formula."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


def invalid_rows_csv(result: ImportResult) -> str:
    """The refused rows as CSV for the user to download, fix and upload again.

    Serve it encoded as "utf-8-sig": Excel reads a CSV without a byte-order mark as Windows-1252.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Row", "Value", "Reason"])
    writer.writerows([row.row, safe_cell(row.value), safe_cell(row.reason)] for row in result.invalid)
    return out.getvalue()
