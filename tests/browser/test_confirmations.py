"""Does the app ask before an action that cannot be taken back, and keep everything when told no?"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Dialog, Page, expect

from app.extensions import db
from app.models import Campaign, Suppression, SuppressionReason
from app.states import CampaignStatus
from tests.browser.conftest import log_in
from tests.builders import add_campaign, add_emails, make_account


def answer(page: Page, accept: bool) -> list[str]:
    """Answer the next dialog the page opens; returns the list its question is put in."""
    questions: list[str] = []

    def handle(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", handle)
    return questions


def stored(query: sa.Select):
    db.session.expire_all()
    try:
        return db.session.scalar(query)
    finally:
        db.session.rollback()  # on SQLite an open read would hold up the served app's writes


def test_cancel_campaign_asks_first_even_after_the_page_refreshed_its_buttons(page: Page, served, make_user):
    user = make_user("canceller")
    campaign = add_campaign(user, make_account(user), CampaignStatus.SENDING, name="Winter sale")
    add_emails(campaign, 3)
    campaign_id = campaign.id
    db.session.rollback()
    log_in(page, served, "canceller")
    status = sa.select(Campaign.status).where(Campaign.id == campaign_id)

    page.goto(f"{served}/campaigns/{campaign_id}")
    # Sending, the page puts its buttons in place again at every refresh: the question still comes.
    with page.expect_response(lambda response: "/stats" in response.url):
        pass
    cancel = page.locator("#campaign-actions").get_by_role("button", name="Cancel campaign")
    questions = answer(page, accept=False)
    cancel.click()
    assert questions
    assert "Cancel “Winter sale” for good?" in questions[0]
    assert "cannot be undone" in questions[0]
    page.wait_for_timeout(500)
    assert stored(status) == CampaignStatus.SENDING
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("sending")

    answer(page, accept=True)
    cancel.click()
    expect(page.get_by_text("“Winter sale” is cancelled")).to_be_visible()
    expect(page.locator(f'[data-campaign-status="{campaign_id}"]')).to_have_text("cancelled")
    assert stored(status) == CampaignStatus.CANCELLED


def test_removing_an_unsubscribed_address_warns_that_it_re_enables_mailing_them(
    page: Page, served, make_user
):
    user_id = make_user("keeper").id
    db.session.add(
        Suppression(user_id=user_id, address="gone@example.com", reason=SuppressionReason.UNSUBSCRIBED)
    )
    db.session.commit()
    log_in(page, served, "keeper")
    listed = sa.select(sa.func.count()).select_from(Suppression).where(Suppression.user_id == user_id)

    page.goto(f"{served}/suppressions/")
    row = page.get_by_role("row").filter(has_text="gone@example.com")
    questions = answer(page, accept=False)
    row.get_by_role("button", name="Remove").click()
    assert questions
    assert "re-enables mailing someone who unsubscribed" in questions[0]
    page.wait_for_timeout(500)
    expect(row).to_be_visible()
    assert stored(listed) == 1

    answer(page, accept=True)
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("gone@example.com removed from your suppressions")).to_be_visible()
    expect(row).to_have_count(0)
    assert stored(listed) == 0


def test_removing_an_address_added_by_hand_asks_too(page: Page, served, make_user):
    user = make_user("tidier")
    db.session.add(Suppression(user_id=user.id, address="typo@example.com", reason=SuppressionReason.MANUAL))
    db.session.commit()
    log_in(page, served, "tidier")
    page.goto(f"{served}/suppressions/")
    questions = answer(page, accept=False)
    page.get_by_role("button", name="Remove").click()
    assert questions == ["Remove typo@example.com from your suppressions? Your campaigns will mail it again."]
