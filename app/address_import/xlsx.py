"""Reading the first worksheet of an .xlsx as text, within the upload limits.

The archive and the sheet's declared dimension are checked first (`xlsx_checks`); then rows are read
in openpyxl's streaming mode (faster than pandas) and counted as they come, blank ones included, so
no sheet is read further than the limits allow whatever it declares.
"""

from __future__ import annotations

import io
from datetime import datetime, time

import pandas as pd
from openpyxl import load_workbook

from app.address_import.limits import (
    UploadLimits,
    row_too_long,
    too_many_cells,
    too_many_columns,
    too_many_rows,
)
from app.address_import.types import RecipientFileError
from app.address_import.xlsx_checks import check_archive, check_dimension


def xlsx_grid(data: bytes, filename: str, limits: UploadLimits) -> pd.DataFrame:
    """The first worksheet's non-blank rows, indexed by their row number, every cell as text."""
    try:
        check_archive(data, filename, limits)
        row_numbers, rows = _xlsx_rows(data, filename, limits)
    except RecipientFileError:
        raise
    except Exception as exc:  # zipfile and openpyxl report a malformed workbook with many exception types
        raise RecipientFileError(
            f"{filename} could not be read as an Excel workbook (.xlsx). If it comes from another program "
            "(Numbers, LibreOffice, a ZIP archive), save it as .xlsx or as CSV UTF-8 and upload that."
        ) from exc
    width = max((len(row) for row in rows), default=0)
    padded = [row + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(padded, index=row_numbers, columns=range(width), dtype=str)


def _xlsx_rows(data: bytes, filename: str, limits: UploadLimits) -> tuple[list[int], list[list[str]]]:
    """Formulas give the value Excel last calculated and saved: they are never evaluated here.

    The declared dimension is checked, then forgotten: openpyxl would pad every row to it, and would
    stop at a declared last row that is wrong. Each row is as wide as its last cell. Links to other
    workbooks are not loaded: openpyxl would parse their cached copies whole.
    """
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    row_numbers: list[int] = []
    rows: list[list[str]] = []
    width = 0
    try:
        sheet = workbook.worksheets[0]
        check_dimension(sheet, filename, limits)
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > limits.max_file_rows:
                raise too_many_rows(filename, limits)
            if len(values) > limits.max_columns:
                raise too_many_columns(filename, limits)
            row = [_cell_text(value) for value in values]
            if any(row):
                if sum(map(len, row)) > limits.max_row_chars:
                    raise row_too_long(number, filename, limits)
                if len(rows) > limits.max_rows:  # the header and max_rows data rows are already in
                    raise RecipientFileError.too_many(limits.max_rows)
                width = max(width, len(row))
                if width * (len(rows) + 1) > limits.max_cells:  # every row is padded to the widest
                    raise too_many_cells(filename, limits)
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
