"""Can I see every email of my campaign, filtered and a page at a time, and only of my own campaigns?"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from app.campaigns.report import routes as report_routes
from app.campaigns.report.table import PAGE_SIZE
from app.extensions import db
from app.models import Campaign, Email
from app.states import CampaignStatus, EmailStatus
from tests.builders import add_campaign, add_emails, make_account
from tests.conftest import csrf_token_from

ROW_ADDRESS = re.compile(r"<tr>\s*<td>([^<]+@[^<]+)</td>")


@pytest.fixture
def campaign(logged_in):
    """120 sent, 7 failed, 3 pending, in that order."""
    campaign = add_campaign(logged_in, make_account(logged_in), CampaignStatus.SENDING, name="Monsoon")
    add_emails(campaign, 120, EmailStatus.SENT, sent_at=datetime(2026, 11, 26, 10, 0))
    add_emails(
        campaign,
        7,
        EmailStatus.FAILED,
        attempts=5,
        last_smtp_code=550,
        last_smtp_message="5.1.1 no such user",
    )
    add_emails(campaign, 3)
    return campaign


def addresses(response) -> list[str]:
    return ROW_ADDRESS.findall(response.get_data(as_text=True))


def test_the_report_shows_totals_the_schedule_and_the_first_page(client, campaign):
    response = client.get(f"/campaigns/{campaign.id}/report")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-figure="sent">120<' in page
    assert 'data-figure="failed">7<' in page
    assert 'data-figure="pending">3<' in page
    assert "120 of 130 sent, 7 failed" in page
    rows = addresses(response)
    assert rows == [f"r{i}@rcpt.example" for i in range(PAGE_SIZE)]
    assert "26 Nov 2026 15:30:00" in page  # sent time in IST
    assert 'rel="next"' in page
    assert "Retry temporary failures (7)" in page
    assert "Cancel pending" in page


def test_pages_go_forward_backward_and_straight_to_the_last(client, campaign):
    url = f"/campaigns/{campaign.id}/report"
    first = addresses(client.get(url))
    second_page = client.get(url, query_string={"after": 50})
    assert addresses(second_page) == [f"r{i}@rcpt.example" for i in range(50, 100)]
    last = addresses(client.get(url, query_string={"before": 0}))
    assert last == [f"r{i}@rcpt.example" for i in range(80, 130)]
    assert addresses(client.get(url, query_string={"before": 51})) == first
    assert 'page-item disabled"><a class="page-link" rel="next"' in client.get(
        url, query_string={"before": 0}
    ).get_data(as_text=True)


def test_filter_by_status_and_address_together(client, campaign):
    url = f"/campaigns/{campaign.id}/report"
    failed = client.get(url, query_string={"status": "failed"})
    assert addresses(failed) == [f"r{i}@rcpt.example" for i in range(120, 127)]
    assert "550 5.1.1 no such user" in failed.get_data(as_text=True)
    assert addresses(client.get(url, query_string={"status": "sent", "q": "R11"})) == [
        "r11@rcpt.example",
        *[f"r{i}@rcpt.example" for i in range(110, 120)],
    ]
    assert addresses(client.get(url, query_string={"q": "%"})) == []
    assert len(addresses(client.get(url, query_string={"status": "nonsense"}))) == PAGE_SIZE


def test_the_filter_is_kept_by_the_page_and_export_links(client, campaign):
    page = client.get(
        f"/campaigns/{campaign.id}/report", query_string={"status": "sent", "q": "rcpt"}
    ).get_data(as_text=True)
    assert f"/campaigns/{campaign.id}/report.csv?status=sent&amp;q=rcpt" in page
    assert re.search(r'rel="next" href="[^"]*after=\d+&amp;status=sent&amp;q=rcpt"', page)


def test_a_filter_that_fits_on_one_page_shows_no_page_links(client, campaign):
    page = client.get(
        f"/campaigns/{campaign.id}/report", query_string={"status": "sent", "q": "r1"}
    ).get_data(as_text=True)
    assert "r11@rcpt.example" in page
    assert 'aria-label="Pages"' not in page


def test_the_live_stats_count_the_campaign(client, campaign):
    stats = client.get(f"/campaigns/{campaign.id}/stats").get_json()
    assert stats["in_flight"] is True
    assert stats["figures"] == {
        "pending": 3,
        "queued": 0,
        "sending": 0,
        "sent": 120,
        "bounced": 0,
        "complained": 0,
        "replied": 0,
        "failed": 7,
        "cancelled": 0,
        "suppressed": 0,
    }
    assert "120 of 130 sent" in stats["campaigns"][str(campaign.id)]
    assert ">sending</span>" in stats["badges"][str(campaign.id)]


def test_the_campaign_page_links_the_report_and_polls_while_sending(client, campaign):
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'href="/campaigns/{campaign.id}/report"' in page
    assert f'data-stats-url="/campaigns/{campaign.id}/stats" data-in-flight="true"' in page


@pytest.mark.parametrize(
    "path", ["report", "stats", "report.csv", "report.xlsx", "retry-failed", "cancel-pending"]
)
def test_another_users_campaign_is_a_404_everywhere(client, logged_in, make_user, path):
    other = make_user()
    theirs = add_campaign(other, make_account(other))
    add_emails(theirs, 2, EmailStatus.FAILED)
    token = csrf_token_from(client.get("/campaigns/new"))
    url = f"/campaigns/{theirs.id}/{path}"
    response = client.post(url, data={"csrf_token": token}) if "-" in path else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["retry-failed", "cancel-pending"])
def test_the_actions_need_a_csrf_token(client, campaign, path):
    assert client.post(f"/campaigns/{campaign.id}/{path}").status_code == 400


def test_a_campaign_completing_while_its_stats_are_read_is_seen_before_or_after_never_half(
    client, campaign, monkeypatch
):
    """The page stops looking once nothing is in flight: figures, badge and liveness that straddled the
    campaign's last commit left it at "sending", or short of 100 %, for good."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's transactions are snapshots already (and hold its one write lock)")
    counted = report_routes.email_counts

    def counts_then_the_campaign_completes(campaign_ids):
        counts = counted(campaign_ids)
        with db.engine.begin() as elsewhere:
            elsewhere.execute(
                sa.update(Email).where(Email.campaign_id == campaign.id).values(status=EmailStatus.SENT)
            )
            elsewhere.execute(
                sa.update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.COMPLETED)
            )
        return counts

    monkeypatch.setattr(report_routes, "email_counts", counts_then_the_campaign_completes)
    stats = client.get(f"/campaigns/{campaign.id}/stats").get_json()
    assert stats["in_flight"] is True
    assert ">sending</span>" in stats["badges"][str(campaign.id)]
    assert stats["figures"]["sent"] == 120
    after = client.get(f"/campaigns/{campaign.id}/stats").get_json()
    assert after["in_flight"] is False
    assert ">completed</span>" in after["badges"][str(campaign.id)]
