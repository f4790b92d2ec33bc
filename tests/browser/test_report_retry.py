"""On a campaign's report, does "Retry failed" retry only temporary failures, with the permanent ones
offered apart, counted and with a warning?"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from app.states import CampaignStatus, EmailStatus
from tests.browser.test_smtp_settings import sign_up
from tests.builders import add_campaign, add_emails, add_failures, make_account


def completed_with_failures(live_app: Flask, username: str) -> int:
    """A completed campaign of `username`: 1 sent, 2 temporary failures, 3 addresses refused."""
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        campaign = add_campaign(user, make_account(user), CampaignStatus.COMPLETED, name="Diwali")
        add_emails(campaign, 1, EmailStatus.SENT)
        add_failures(campaign)
        return campaign.id


def test_retry_failed_spares_permanent_failures_which_need_their_own_warned_choice(
    page: Page, live_app: Flask
):
    sign_up(page, "zainab")
    campaign_id = completed_with_failures(live_app, "zainab")
    page.goto(f"/campaigns/{campaign_id}/report")
    warning = page.locator("#permanent-failures")
    expect(warning).to_contain_text("3 permanent failures")
    expect(warning).to_contain_text("retrying can hurt your sender reputation")

    questions: list[str] = []

    def accept(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Retry temporary failures (2)").click()
    expect(page.get_by_text("2 temporary failures of “Diwali” will be tried again.")).to_be_visible()
    expect(page.locator('[data-figure="failed"]')).to_have_text("3")
    expect(page.get_by_role("button", name="Retry temporary failures")).to_have_count(0)

    page.get_by_role("button", name="Retry permanent failures too (3)").click()
    expect(
        page.get_by_text("3 failed emails of “Diwali”, permanent failures included, will be tried again.")
    ).to_be_visible()
    expect(page.locator('[data-figure="failed"]')).to_have_text("0")
    expect(page.locator("#permanent-failures")).to_have_count(0)
    assert "sender reputation" in questions[1], "the permanent retry asks before it goes"
