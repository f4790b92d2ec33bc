"""Can I download my campaign's emails as CSV or Excel, safe to open in a spreadsheet?"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.campaigns.report import table
from app.campaigns.report.routes import XLSX
from app.extensions import db
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_campaign, add_emails, make_account

HEADER = ["Address", "Name", "Status", "Attempts", "Last SMTP code", "Last SMTP reply", "Sent (Asia/Kolkata)"]


@pytest.fixture
def campaign(logged_in, make_user):
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.COMPLETED)
    add_emails(
        campaign, 1, EmailStatus.SENT, name='=HYPERLINK("http://x")', sent_at=datetime(2026, 11, 26, 10, 0)
    )
    add_emails(
        campaign,
        1,
        EmailStatus.FAILED,
        name="+1 555",
        attempts=2,
        last_smtp_code=550,
        last_smtp_message="-5.1.1 @no",
    )
    add_emails(campaign, 1, EmailStatus.CANCELLED, name="Asha\x01")
    other = make_user()
    add_emails(add_campaign(other, make_account(other)), 2, EmailStatus.SENT)
    return campaign


EXPECTED = [
    ["r0@rcpt.example", '\'=HYPERLINK("http://x")', "sent", "0", "", "", "2026-11-26 15:30:00"],
    ["r1@rcpt.example", "'+1 555", "failed", "2", "550", "'-5.1.1 @no", ""],
    ["r2@rcpt.example", "Asha\x01", "cancelled", "0", "", "", ""],
]


def test_csv_escapes_formulas_and_shows_times_in_my_zone(client, campaign):
    response = client.get(f"/campaigns/{campaign.id}/report.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=spring-sale.csv"
    text = response.get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [HEADER, *EXPECTED]


def test_xlsx_escapes_formulas_too(client, campaign):
    with client.get(f"/campaigns/{campaign.id}/report.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[("" if v is None else str(v)) for v in row[:-1]] for row in sheet.iter_rows(values_only=True)]
    expected = [*EXPECTED[:2], ["r2@rcpt.example", "Asha", "cancelled", "0", "", "", ""]]
    assert rows == [HEADER[:-1], *(row[:-1] for row in expected)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_exports_follow_the_filter_and_read_in_chunks(client, campaign, monkeypatch):
    monkeypatch.setattr(table, "EXPORT_CHUNK", 1)
    add_emails(campaign, 3, EmailStatus.FAILED)
    response = client.get(f"/campaigns/{campaign.id}/report.csv", query_string={"status": "failed"})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [
        "r1@rcpt.example",
        "r5@rcpt.example",
        "r6@rcpt.example",
        "r7@rcpt.example",
    ]


def test_an_excel_export_too_big_for_the_request_points_to_csv_or_a_filter(client, campaign, app):
    app.config["XLSX_EXPORT_MAX_ROWS"] = 2
    response = client.get(f"/campaigns/{campaign.id}/report.xlsx", follow_redirects=True)
    assert response.request.path == f"/campaigns/{campaign.id}/report"
    assert "An Excel export holds at most 2 emails and this list has more" in response.get_data(as_text=True)
    with client.get(f"/campaigns/{campaign.id}/report.xlsx", query_string={"status": "failed"}) as filtered:
        assert filtered.mimetype == XLSX
        assert load_workbook(io.BytesIO(filtered.get_data())).active.max_row == 2


def test_excel_send_times_are_dates_in_my_zone_that_a_spreadsheet_can_sort(client, campaign):
    with client.get(f"/campaigns/{campaign.id}/report.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, sent, failed, _ = sheet.iter_rows()
    assert header[-1].value == "Sent (Asia/Kolkata)"
    assert sent[-1].value == datetime(2026, 11, 26, 15, 30)
    assert sent[-1].is_date
    assert sent[-1].number_format == "yyyy-mm-dd hh:mm:ss"
    assert failed[-1].value is None


def test_excel_columns_are_wide_enough_to_read_an_address_a_reply_and_a_date(client, campaign):
    with client.get(f"/campaigns/{campaign.id}/report.xlsx") as response:
        sheet = load_workbook(io.BytesIO(response.get_data())).active
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFG"}
    assert widths["A"] >= len("a-long-address@example.com")
    assert widths["F"] >= 50
    assert widths["G"] >= len("2026-11-26 15:30:00")
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize(
    ("query", "csv_name", "xlsx_name"),
    [
        ({}, "spring-sale.csv", "spring-sale.xlsx"),
        ({"status": "failed"}, "spring-sale-failed.csv", "spring-sale-failed.xlsx"),
        ({"q": "@Gmail.com"}, "spring-sale-matching-gmail-com.csv", "spring-sale-matching-gmail-com.xlsx"),
        (
            {"status": "sent", "q": "rcpt"},
            "spring-sale-sent-matching-rcpt.csv",
            "spring-sale-sent-matching-rcpt.xlsx",
        ),
    ],
)
def test_an_exported_file_is_named_after_the_campaign_and_the_filter(
    client, campaign, query, csv_name, xlsx_name
):
    csv_response = client.get(f"/campaigns/{campaign.id}/report.csv", query_string=query)
    assert csv_response.headers["Content-Disposition"] == f"attachment; filename={csv_name}"
    with client.get(f"/campaigns/{campaign.id}/report.xlsx", query_string=query) as xlsx_response:
        assert xlsx_response.headers["Content-Disposition"] == f"attachment; filename={xlsx_name}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Été — 2026!", "ete-2026.csv"), ("日本語", "campaign-{id}.csv"), ("x" * 200, "x" * 60 + ".csv")],
)
def test_a_campaign_name_becomes_a_plain_file_name(client, campaign, name, expected):
    campaign.name = name
    db.session.commit()
    response = client.get(f"/campaigns/{campaign.id}/report.csv")
    assert (
        response.headers["Content-Disposition"] == f"attachment; filename={expected.format(id=campaign.id)}"
    )
