"""Can a user build a list from two uploads in the browser, and follow a contact to their history?"""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from app.states import CampaignStatus, EmailStatus
from tests.browser.test_smtp_settings import sign_up
from tests.builders import add_campaign, add_emails

FIRST = b"email,name,city\nasha@example.com,Asha,Kochi\nravi@example.com,Ravi,Pune\n"
SECOND = (
    b"email,name,city,plan,tags\nASHA@example.com,Asha Nair,Kochi,gold,vip\nmeera@example.com,Meera,Goa,,\n"
)


def upload(page: Page, data: bytes, name: str) -> None:
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Upload and check").click()


def test_a_list_grows_by_two_uploads_and_a_contact_shows_their_history(page: Page, live_app):
    sign_up(page, "lakshmi")
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "lakshmi"))
        campaign = add_campaign(user, None, CampaignStatus.COMPLETED, name="Monsoon sale")
        add_emails(
            campaign,
            1,
            EmailStatus.SENT,
            address="asha@example.com",
            last_smtp_code=250,
            last_smtp_message="2.0.0 Ok: queued",
        )
    page.get_by_role("link", name="Audience").click()
    page.get_by_label("List name").fill("Customers")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_text("List “Customers” created")).to_be_visible()

    upload(page, FIRST, "first.csv")
    page.get_by_role("button", name="Import 2 contacts").click()
    expect(page.get_by_text("Imported into “Customers”: 2 added, 0 updated, 0 unchanged")).to_be_visible()
    upload(page, SECOND, "second.csv")
    expect(page.get_by_text("Column “tags” gives each contact its tags")).to_be_visible()
    page.get_by_role("button", name="Import 2 contacts").click()
    expect(page.get_by_text("Imported into “Customers”: 1 added, 1 updated, 0 unchanged")).to_be_visible()
    expect(page.locator("#list-count")).to_have_text("3 contacts.")

    page.get_by_role("link", name="asha@example.com").click()
    expect(page.get_by_role("heading", name="Asha Nair")).to_be_visible()
    expect(page.locator("#attributes")).to_contain_text("gold")
    expect(page.locator("#tags")).to_contain_text("vip")
    history = page.locator("#history")
    expect(history).to_contain_text("Monsoon sale")
    expect(history).to_contain_text("250 2.0.0 Ok: queued")
