"""Does the schedule form mark what is missing and say when, in my zone and the one I chose?"""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Suppression, User
from tests.browser.test_smtp_settings import RECORD_BUSY_LABEL, sign_up
from tests.builders import make_account, make_campaign


def campaign_of(live_app, username: str, recipients: list[str], suppressed: str) -> int:
    """A draft with `recipients`, one of them suppressed, and an SMTP account, for the signed-up user."""
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        make_account(user)
        db.session.add(Suppression(user_id=user.id, address=suppressed))
        return make_campaign(user, recipients=recipients, name="Winter sale").id


@pytest.mark.browser_context_args(timezone_id="Europe/Paris")
def test_schedule_marks_empty_fields_then_shows_both_zones_and_the_suppressed(page: Page, live_app):
    page.add_init_script(RECORD_BUSY_LABEL)
    sign_up(page, "amelie")
    recipients = ["ann@example.com", "bob@example.com", "cy@example.com"]
    campaign_id = campaign_of(live_app, "amelie", recipients, suppressed="bob@example.com")
    page.goto(f"/campaigns/{campaign_id}")

    page.get_by_label("At a date and time").check()
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("Not scheduled: please correct the fields marked below.")).to_be_visible()
    for label, missing in (("Date", "date"), ("Time", "time")):
        expect(page.get_by_label(label, exact=True)).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(page.get_by_text(f"Enter the {missing} to send at, or choose “Send now”.")).to_be_visible()

    page.get_by_label("Date", exact=True).fill("2099-12-08")
    page.get_by_label("Time", exact=True).fill("09:00")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Schedule").click()
    expect(
        page.get_by_text(
            "“Winter sale” is scheduled: 2 emails. 1 recipient was skipped as suppressed. "
            "Sends Tue 8 Dec 09:00 in America/New_York — 15:00 your time (Europe/Paris)."
        )
    ).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('busy')") == "Scheduling… (disabled)"
