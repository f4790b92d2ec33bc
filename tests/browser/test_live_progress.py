"""Does a campaign's progress bar move to 100% by itself while a real worker sends it?

The app is served from this test's own database, which a real Celery worker and beat share
(`tests.stack`); the emails go to a local aiosmtpd server.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Campaign, CampaignStatus
from tests.browser.conftest import ServerThread
from tests.conftest import PASSWORD
from tests.factories import make_account, make_campaign

pytestmark = pytest.mark.worker

RECIPIENTS = 40


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Slow enough to watch (about 10 s of sending), with no other pause."""
    return {
        **app_settings,
        "SEND_INTERVAL": 0.25,
        "CONNECTION_SETTLE": 0.0,
        "DISPATCH_SPACING": 0.0,
        "DISPATCH_INTERVAL": 0.5,
        "SMTP_TIMEOUT": 5.0,
    }


@pytest.fixture
def served(app):
    server = ServerThread(app)
    server.start()
    yield server.url
    server.stop()


def progress_values(page: Page, bar, until: str, timeout: float) -> list[str]:
    """Every value the bar shows until it shows `until`, read without touching the page."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = bar.get_attribute("aria-valuenow")
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == until:
            return seen
        page.wait_for_timeout(200)
    raise AssertionError(f"the bar never reached {until}: {seen}")


def test_the_campaign_page_follows_a_real_worker_to_100_percent(
    page: Page, served, stack, make_user, smtp_sink
):
    user = make_user("watcher")
    campaign_id = make_campaign(make_account(user, smtp_sink), RECIPIENTS).id
    db.session.rollback()  # reading the id began a transaction, which on SQLite holds the write lock
    page.goto(f"{served}/login")
    page.get_by_label("Username or email").fill("watcher")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, watcher")).to_be_visible()

    # The dashboard, open in another tab from before the worker starts, follows the campaign too.
    dashboard = page.context.new_page()
    dashboard.goto(served)
    expect(dashboard.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("scheduled")
    dashboard.evaluate("window.sameDocument = true")

    page.goto(f"{served}/campaigns/{campaign_id}")
    bar = page.locator(f'[data-campaign-progress="{campaign_id}"] [role="progressbar"]')
    expect(bar).to_have_attribute("aria-valuenow", "0")
    page.evaluate("window.sameDocument = true")

    stack.worker()
    stack.beat()
    seen = progress_values(page, bar, "100", timeout=90)
    assert any(value not in ("0", "100") for value in seen), f"no step between 0 and 100: {seen}"
    expect(page.locator(f'[data-campaign-progress="{campaign_id}"]')).to_contain_text(
        f"{RECIPIENTS} of {RECIPIENTS} sent"
    )
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("completed", timeout=15_000)
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert smtp_sink.count == RECIPIENTS

    expect(dashboard.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text(
        "completed", timeout=15_000
    )
    expect(dashboard.locator(f'[data-campaign-progress="{campaign_id}"]')).to_contain_text(
        f"{RECIPIENTS} of {RECIPIENTS} sent"
    )
    expect(dashboard.locator('[data-figure="sent_today"]')).to_have_text(str(RECIPIENTS))
    assert (
        dashboard.evaluate("Chart.getChart('chart-hours').data.datasets[0].data.reduce((a, b) => a + b)")
        == RECIPIENTS
    )
    assert dashboard.evaluate("window.sameDocument") is True, "the dashboard was reloaded"
    dashboard.close()

    # The dashboard shows the sends in its figures and charts, and its script does not poll: nothing is
    # in flight any more.
    stack.wait_for(
        lambda: db.session.get(Campaign, campaign_id).status == CampaignStatus.COMPLETED, 20, "completed"
    )
    requests: list[str] = []
    page.on("request", lambda request: "/stats" in request.url and requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served)
    expect(page.locator("#live-state")).to_have_text("")
    expect(page.locator('[data-figure="sent_total"]')).to_have_text(str(RECIPIENTS))
    # Both charts are drawn by the Chart.js the app serves, the hour chart holding today's sends.
    hours = page.evaluate("Chart.getChart('chart-hours').data.datasets[0].data")
    assert sum(hours) == RECIPIENTS and page.evaluate("Chart.getChart('chart-days') !== undefined")
    page.wait_for_timeout(4000)
    assert requests == [] and errors == []
