"""Pasted addresses: separators, `Name <address>` forms, and line numbers for the report."""

from __future__ import annotations

import pytest

from app.address_import import RecipientFileError
from app.address_import.paste import parse_paste, split_entry
from tests.upload_bombs import upload_limits


def entries(text: str) -> list[tuple[int, str, str]]:
    table = parse_paste(text, upload_limits())
    return list(
        zip(table.cells.index.tolist(), table.cells[0].tolist(), table.cells[1].tolist(), strict=True)
    )


@pytest.mark.parametrize(
    "text",
    [
        "a@example.com\nb@example.com\nc@example.com",
        "a@example.com, b@example.com, c@example.com",
        "a@example.com; b@example.com;c@example.com;",
        "a@example.com,\r\n\r\n b@example.com ;\n,c@example.com",
    ],
)
def test_addresses_split_on_lines_commas_and_semicolons(text: str):
    assert [address for _, address, _ in entries(text)] == ["a@example.com", "b@example.com", "c@example.com"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("anna@example.com", ("anna@example.com", "")),
        ("Anna Smith <anna@example.com>", ("anna@example.com", "Anna Smith")),
        ('"Smith, Anna" <anna@example.com>', ("anna@example.com", "Smith, Anna")),
        ('"O\\"Brien; Pat" <pat@example.com>', ("pat@example.com", 'O"Brien; Pat')),
        ("<anna@example.com>", ("anna@example.com", "")),
        ("Anna<anna@example.com>", ("anna@example.com", "Anna")),
    ],
)
def test_name_and_address_forms_are_accepted(entry: str, expected: tuple[str, str]):
    assert split_entry(entry) == expected


def test_quoted_name_with_comma_is_not_split():
    assert entries('"Smith, Anna" <anna@example.com>, Bob <bob@example.com>') == [
        (1, "anna@example.com", "Smith, Anna"),
        (1, "bob@example.com", "Bob"),
    ]


def test_entries_carry_the_line_they_were_pasted_on():
    assert [line for line, _, _ in entries("a@example.com\n\nb@example.com, c@example.com")] == [1, 3, 3]


def test_unclosed_bracket_is_kept_whole_for_the_report():
    assert entries("Anna <anna@example.com") == [(1, "Anna <anna@example.com", "")]


@pytest.mark.parametrize("text", ["", "  \n\n", ", ;\n;"])
def test_nothing_pasted_gets_a_clear_message(text: str):
    with pytest.raises(RecipientFileError, match="There are no addresses to import"):
        parse_paste(text, upload_limits())
