"""Does a page opened before a campaign's time follow it, by itself, while a real worker sends it: its
progress bar to 100%, its failures apart, its buttons, its account's cooldown and "Resume now"?

The app is served from this test's own database, which a real Celery worker and beat share
(`tests.stack`); the emails go to a local aiosmtpd server.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Campaign, SMTPSettings
from app.states import CampaignStatus
from tests.browser.conftest import log_in
from tests.builders import make_account, make_queued_campaign
from tests.smtp_sink import RATE_LIMITED

pytestmark = pytest.mark.processes

RECIPIENTS = 40
#: The campaigns start this long after they are made: their pages are opened while they wait.
STARTS_IN = timedelta(seconds=8)
#: The buttons of a campaign that no longer sends: none of them applies to it any more.
NO_LONGER_APPLY = ("Edit", "Back to draft", "Pause", "Resume", "Cancel campaign")


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Slow enough to watch (about 6 s of sending), with no other pause."""
    return {
        **app_settings,
        "SEND_INTERVAL": 0.15,
        "CONNECTION_SETTLE": 0.0,
        "DISPATCH_SPACING": 0.0,
        "DISPATCH_INTERVAL": 0.5,
        "SMTP_TIMEOUT": 5.0,
    }


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


def local_time(moment: datetime) -> str:
    """`moment` (naive UTC) as the page shows it to a user in India, the default time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M IST")


def buttons(page: Page):
    return page.locator("#campaign-actions")


def expect_waiting_for_its_time(page: Page) -> None:
    """The page was opened before the campaign's time: nothing in flight yet, a start to wait for."""
    root = page.locator("[data-stats-url]")
    expect(root).to_have_attribute("data-in-flight", "false")
    assert float(root.get_attribute("data-starts-in")) > 0


def test_the_campaign_page_opened_before_its_time_follows_a_real_worker_to_100_percent(
    page: Page, served, stack, make_user, smtp_sink
):
    user = make_user("watcher")
    start = clock.utcnow() + STARTS_IN
    campaign_id = make_queued_campaign(make_account(user, smtp_sink), RECIPIENTS, scheduled_at=start).id
    db.session.rollback()  # reading the id began a transaction, which on SQLite holds the write lock
    log_in(page, served, "watcher")

    # The dashboard, open in another tab from before the worker starts, follows the campaign too.
    dashboard = page.context.new_page()
    dashboard.goto(served)
    expect(dashboard.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("scheduled")
    expect_waiting_for_its_time(dashboard)
    dashboard.evaluate("window.sameDocument = true")

    page.goto(f"{served}/campaigns/{campaign_id}")
    bar = page.locator(f'[data-campaign-progress="{campaign_id}"] [role="progressbar"]')
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect_waiting_for_its_time(page)
    for label in ("Edit", "Back to draft", "Pause", "Cancel campaign"):
        expect(buttons(page).get_by_text(label, exact=True)).to_be_visible()
    page.evaluate("window.sameDocument = true")

    stack.start()
    seen = progress_values(page, bar, "100", timeout=90)
    assert any(value not in ("0", "100") for value in seen), f"no step between 0 and 100: {seen}"
    expect(page.locator(f'[data-campaign-progress="{campaign_id}"]')).to_contain_text(
        f"{RECIPIENTS} of {RECIPIENTS} sent"
    )
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("completed", timeout=15_000)
    for label in NO_LONGER_APPLY:
        expect(buttons(page).get_by_text(label, exact=True)).to_have_count(0)
    expect(buttons(page).get_by_role("button", name="Duplicate")).to_be_visible()
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
    assert sum(hours) == RECIPIENTS
    assert page.evaluate("Chart.getChart('chart-days') !== undefined")
    page.wait_for_timeout(4000)
    assert requests == []
    assert errors == []


def test_a_page_opened_before_its_time_shows_failures_apart_and_the_providers_cooldown_until_resume_now(
    page: Page, served, stack, make_user, smtp_sink
):
    user = make_user("cooler")
    account = make_account(user, smtp_sink)
    campaign_id = make_queued_campaign(account, 12, scheduled_at=clock.utcnow() + STARTS_IN).id
    account_id = account.id
    db.session.rollback()
    # Two mailboxes do not exist; the provider says "slow down" at the 8th recipient, once.
    smtp_sink.script.reject_recipients("r00002@rcpt.example", "r00005@rcpt.example")
    smtp_sink.script.add("RCPT", RATE_LIMITED, nth=8, once=True)
    log_in(page, served, "cooler")
    page.goto(f"{served}/campaigns/{campaign_id}")
    expect_waiting_for_its_time(page)
    cooldown = page.locator("#cooldown")
    expect(cooldown).to_have_count(0)
    page.evaluate("window.sameDocument = true")

    stack.start()
    expect(cooldown).to_contain_text(RATE_LIMITED, timeout=60_000)
    paused_until = stack.read(lambda: db.session.get(SMTPSettings, account_id).paused_until)
    expect(cooldown).to_contain_text(f"sends again at {local_time(paused_until)}")
    status = page.locator(f'[data-campaign-status="{campaign_id}"]')
    progress = page.locator(f'[data-campaign-progress="{campaign_id}"]')
    expect(status).to_have_text("sending")
    expect(progress).to_contain_text("5 of 12 sent, 2 failed")
    expect(progress.locator('[data-progress-part="sent"]')).to_be_visible()
    expect(progress.locator('[data-progress-part="failed"]')).to_be_visible()
    for label in ("Edit", "Back to draft"):
        expect(buttons(page).get_by_text(label, exact=True)).to_have_count(0)
    for label in ("Pause", "Cancel campaign"):
        expect(buttons(page).get_by_role("button", name=label)).to_be_visible()
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"

    cooldown.get_by_role("button", name="Resume now").click()
    expect(page.get_by_text("Sending resumes now.")).to_be_visible()
    expect(cooldown).to_have_count(0)
    assert stack.read(lambda: db.session.get(SMTPSettings, account_id).paused_until) is None
    page.evaluate("window.sameDocument = true")
    expect(status).to_have_text("completed", timeout=60_000)
    expect(progress).to_contain_text("10 of 12 sent, 2 failed")
    expect(progress.locator('[data-progress-part="failed"]')).to_be_visible()
    for label in NO_LONGER_APPLY:
        expect(buttons(page).get_by_text(label, exact=True)).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert smtp_sink.count == 10
