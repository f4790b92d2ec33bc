"""Issue 18's "done when", in the browser: a user builds a list by two uploads, segments it, sends a campaign
to the segment, a real worker delivers it, and each contact's page shows the campaign with its outcome.

The app is served from this test's own database, which a real Celery worker and beat share
(`tests.stack`); the emails go to a local aiosmtpd server.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from tests.browser.conftest import log_in
from tests.browser.test_audience import upload
from tests.builders import make_account

pytestmark = pytest.mark.processes

FIRST = b"email,name,city\nasha@example.com,Asha,Kochi\nravi@example.com,Ravi,Pune\n"
#: The second upload updates Asha (her name, a new column) and adds Meera.
SECOND = b"email,name,city,plan\nASHA@example.com,Asha Nair,Kochi,gold\nmeera@example.com,Meera,Kochi,\n"


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_settings,
        "SEND_INTERVAL": 0.1,
        "CONNECTION_SETTLE": 0.0,
        "DISPATCH_SPACING": 0.0,
        "DISPATCH_INTERVAL": 0.5,
        "SMTP_TIMEOUT": 5.0,
    }


def test_a_campaign_sent_to_a_segment_of_a_list_built_by_two_uploads_reaches_its_contacts(
    page: Page, served, stack, make_user, smtp_sink
):
    make_account(make_user("priya"), smtp_sink)
    db.session.rollback()  # on SQLite an open read would hold the write lock the app needs
    log_in(page, served, "priya")

    # A list, by two uploads: the second appends one contact and updates another.
    page.get_by_role("link", name="Audience").click()
    page.get_by_label("List name").fill("Customers")
    page.get_by_role("button", name="Create list").click()
    upload(page, FIRST, "first.csv")
    page.get_by_role("button", name="Import 2 contacts").click()
    expect(page.get_by_text("Imported into “Customers”: 2 added, 0 updated")).to_be_visible()
    upload(page, SECOND, "second.csv")
    page.get_by_role("button", name="Import 2 contacts").click()
    expect(page.get_by_text("Imported into “Customers”: 1 added, 1 updated")).to_be_visible()

    # A segment of it.
    page.goto(f"{served}/audience/segments")
    page.get_by_label("Segment name").fill("Kochi")
    page.get_by_label("Contacts of").select_option(label="Customers")
    page.get_by_label("Match").first.select_option(label="Attribute")
    page.get_by_label("Attribute", exact=True).first.fill("city")
    page.get_by_label("Value").first.fill("Kochi")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_text("2 contacts", exact=False).first).to_be_visible()

    # A campaign to the segment, its merge fields from the contacts' attributes.
    page.get_by_role("link", name="Compose").first.click()
    page.get_by_label("Campaign name").fill("Kochi news")
    page.get_by_label("Subject").fill("News for {{ name }}")
    page.locator(".ql-editor").click()
    page.locator(".ql-editor").press_sequentially(
        "Hi {{ name }} in {{ city }}, {{ plan | default('friend') }}."
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Kochi news” saved.")).to_be_visible()
    page.get_by_role("link", name="Upload or change").click()
    page.get_by_label("Kochi (2 contacts)").check()
    page.get_by_role("button", name="Send to these").click()
    expect(page.get_by_text("“Kochi news” goes to Kochi: 2 contacts today.")).to_be_visible()
    expect(page.get_by_label("Kochi (2 contacts)")).to_be_checked()
    expect(page.locator("#audiences").get_by_role("link", name="“Kochi”")).to_be_visible()
    expect(page.get_by_text("No recipients yet")).to_have_count(0)

    page.get_by_role("link", name="Preview the email").click()
    expect(page.locator("#recipient-count")).to_contain_text("2 would be mailed today")
    page.get_by_label("Send now").check()
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("“Kochi news” is scheduled: 2 emails.")).to_be_visible()

    stack.worker()
    stack.beat()
    expect(page.locator("[data-campaign-status]").first).to_have_text("completed", timeout=60_000)
    received = {message.rcpt_tos: message.message for message in smtp_sink.messages}
    assert sorted(received) == [("asha@example.com",), ("meera@example.com",)]
    assert (
        "Hi Asha Nair in Kochi, gold." in received[("asha@example.com",)].get_body(("plain",)).get_content()
    )
    assert "Hi Meera in Kochi, friend." in received[("meera@example.com",)].get_body(("plain",)).get_content()

    # Each contact's page shows the campaign and what became of it.
    page.goto(f"{served}/audience/contacts")
    page.get_by_role("link", name="meera@example.com").click()
    history = page.locator("#history")
    expect(history).to_contain_text("Kochi news")
    expect(history).to_contain_text("sent")
    page.goto(f"{served}/audience/contacts")
    page.get_by_role("link", name="ravi@example.com").click()
    expect(page.get_by_text("No campaign has mailed this address yet.")).to_be_visible()
