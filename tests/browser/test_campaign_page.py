"""Does the campaign page say plainly what a draft still needs, and keep its buttons true to its status?"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, Route, expect

from app.extensions import db
from app.models import Campaign, User
from app.states import CampaignStatus
from tests.browser.conftest import log_in
from tests.builders import add_campaign, add_draft, add_emails, make_account


def test_a_draft_with_a_problem_shows_one_notice_listing_what_is_missing(page: Page, served, make_user):
    drafter = make_user("drafter")
    campaign_id = add_draft(drafter, name="Promo", subject="Hi", html_body="<p>Hello {{ company }}</p>").id
    db.session.rollback()
    log_in(page, served, "drafter")

    page.goto(f"{served}/campaigns/{campaign_id}/edit")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("“Promo” saved.")).to_be_visible()
    notice = page.locator("#campaign-notice")
    expect(notice).to_contain_text("This campaign cannot be scheduled yet. It needs:")
    expect(notice.get_by_role("listitem")).to_have_text(
        [
            "recipients: upload a file, paste addresses or choose lists and segments",
            "an SMTP account to send through: set one up in Settings",
            "its message corrected (HTML, line 1: {{ company }} is not a field of your recipients): "
            "upload recipients with that column or correct the name",
        ]
    )
    # The one notice, not a flash per problem besides it.
    expect(page.locator(".alert")).to_have_count(2)
    expect(page.locator(".alert", has_text="company")).to_have_count(1)


def sending_campaign(page: Page, served: str, user: User) -> int:
    """A campaign of `user`'s sending three emails, with `user` logged in on `page`; its id."""
    campaign = add_campaign(user, make_account(user), CampaignStatus.SENDING)
    add_emails(campaign, 3)
    campaign_id, username = campaign.id, user.username
    db.session.rollback()  # reading them began a transaction, which on SQLite holds the write lock
    log_in(page, served, username)
    return campaign_id


def test_buttons_follow_a_pause_made_elsewhere_without_a_reload(page: Page, served, make_user):
    campaign_id = sending_campaign(page, served, make_user("pauser"))
    page.goto(f"{served}/campaigns/{campaign_id}")
    buttons = page.locator("#campaign-actions")
    expect(buttons.get_by_role("button", name="Pause")).to_be_visible()
    expect(buttons.get_by_role("button", name="Resume")).to_have_count(0)
    page.evaluate("window.sameDocument = true")

    # Paused in another tab (or by another session): the page shows it at its next refresh.
    db.session.execute(
        sa.update(Campaign).where(Campaign.id == campaign_id).values(status=CampaignStatus.PAUSED)
    )
    db.session.commit()
    expect(buttons.get_by_role("button", name="Resume")).to_be_visible(timeout=10_000)
    expect(buttons.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("paused")
    expect(buttons.get_by_role("button", name="Cancel campaign")).to_be_visible()
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"


def test_a_live_page_goes_on_following_after_the_server_failed_once(page: Page, served, make_user):
    campaign_id = sending_campaign(page, served, make_user("follower"))
    failed: list[str] = []

    def fail_once(route: Route) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.fulfill(status=503, body="Service Unavailable")

    page.route(f"{served}/campaigns/{campaign_id}/stats*", fail_once)
    with page.expect_response(lambda response: response.status == 503, timeout=10_000):
        page.goto(f"{served}/campaigns/{campaign_id}")
    page.evaluate("window.sameDocument = true")

    db.session.execute(
        sa.update(Campaign).where(Campaign.id == campaign_id).values(status=CampaignStatus.PAUSED)
    )
    db.session.commit()
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("paused", timeout=20_000)
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
