"""A campaign's emails written out as CSV or Excel, every text cell neutralised against formulas."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.recipients.export import safe_cell
from app.timezones import to_user_zone

#: An export bigger than this goes to a temporary file instead of memory while it is built.
SPOOL_BYTES = 16 * 1024 * 1024


def headers(zone_name: str) -> list[str]:
    return [
        "Address",
        "Name",
        "Status",
        "Attempts",
        "Last SMTP code",
        "Last SMTP reply",
        f"Sent ({zone_name})",
    ]


def values(row: sa.Row, zone_name: str, text: Callable[[str], str] = safe_cell) -> list[str | int]:
    """One email's cells; the texts a person or a server wrote go through `text` (formula escaping)."""
    sent = to_user_zone(row.sent_at, zone_name).strftime("%Y-%m-%d %H:%M:%S") if row.sent_at else ""
    return [
        text(row.address),
        text(row.name or ""),
        row.status,
        row.attempts,
        row.last_smtp_code or "",
        text(row.last_smtp_message or ""),
        sent,
    ]


def csv_lines(rows: Iterable[sa.Row], zone_name: str) -> Iterator[str]:
    """The CSV a line at a time, for a streamed response; starts with a byte-order mark for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(headers(zone_name))
    for row in rows:
        writer.writerow(values(row, zone_name))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def xlsx_text(value: str) -> str:
    """Characters an .xlsx cannot hold removed first (openpyxl refuses them), then formulas escaped."""
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def xlsx_file(rows: Iterable[sa.Row], zone_name: str) -> IO[bytes]:
    """An .xlsx workbook (openpyxl write-only, so rows are not kept as cell objects), rewound."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Emails")
    sheet.append(headers(zone_name))
    for row in rows:
        sheet.append(values(row, zone_name, xlsx_text))
    # Not a `with` block: the response sends the file and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return spool
