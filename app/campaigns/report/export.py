"""A campaign's emails written out as CSV or Excel, every text cell neutralised against formulas.

In Excel the send time is a real date (a number formatted as a date and time, so it sorts and filters
as one) and every column is wide enough to read; the file's name says which campaign and which filter.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter

from app.address_import.export import safe_cell
from app.timezones import to_user_clock

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: An export bigger than this goes to a temporary file instead of memory while it is built.
SPOOL_BYTES = 16 * 1024 * 1024
SENT_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The same, in Excel's number-format language.
EXCEL_SENT_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: Widths in Excel's units (about one character each), column by column as in `headers`: an address,
#: a name, a status, two small numbers, a server's reply, a date and time.
COLUMN_WIDTHS = (34, 24, 11, 9, 15, 60, 20)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
#: The longest slug taken from a campaign's name or a search, so a file name stays readable.
SLUG_LENGTH = 60


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


def slug(text: str) -> str:
    """`Spring Sale — été!` → `spring-sale-ete`: ASCII letters and digits joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:SLUG_LENGTH].strip("-")


def export_name(campaign_name: str, campaign_id: int, status: str, search: str, extension: str) -> str:
    """`spring-sale-failed.xlsx`, `spring-sale-matching-gmail-com.csv`: the campaign, then the filter."""
    parts = [slug(campaign_name) or f"campaign-{campaign_id}"]
    if status:
        parts.append(status)
    if search and slug(search):
        parts.append(f"matching-{slug(search)}")
    return f"{'-'.join(parts)}.{extension}"


def sent_in_zone(row: sa.Row, zone_name: str) -> datetime | None:
    """When the email was sent, on the user's clock."""
    return to_user_clock(row.sent_at, zone_name) if row.sent_at else None


def values(row: sa.Row, zone_name: str, text: Callable[[str], str] = safe_cell) -> list[str | int | None]:
    """One email's cells but its send time (see `sent_in_zone`); the texts a person or a server wrote go
    through `text` (formula escaping)."""
    return [
        text(row.address),
        text(row.name or ""),
        row.status,
        row.attempts,
        row.last_smtp_code or "",
        text(row.last_smtp_message or ""),
    ]


def csv_lines(rows: Iterable[sa.Row], zone_name: str) -> Iterator[str]:
    """The CSV a line at a time, for a streamed response; starts with a byte-order mark for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(headers(zone_name))
    for row in rows:
        sent = sent_in_zone(row, zone_name)
        writer.writerow([*values(row, zone_name), sent.strftime(SENT_FORMAT) if sent else ""])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def xlsx_text(value: str) -> str:
    """Characters an .xlsx cannot hold removed first (openpyxl refuses them), then formulas escaped."""
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def sent_cell(sheet: WriteOnlyWorksheet, sent: datetime | None) -> Cell:
    cell = WriteOnlyCell(sheet, value=sent)
    cell.number_format = EXCEL_SENT_FORMAT
    return cell


def xlsx_file(rows: Iterable[sa.Row], zone_name: str) -> IO[bytes]:
    """An .xlsx workbook (openpyxl write-only, so rows are not kept as cell objects), rewound."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Emails")
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(headers(zone_name))
    for row in rows:
        sheet.append([*values(row, zone_name, xlsx_text), sent_cell(sheet, sent_in_zone(row, zone_name))])
    # Not a `with` block: the response sends the file and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return spool
