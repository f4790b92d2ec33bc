"""Is a file over the upload limit refused before it is sent, and does a saved list lead on to the
campaign, even after the back button?"""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from tests.browser.test_smtp_settings import RECORD_BUSY_LABEL, sign_up
from tests.builders import make_campaign

LIMIT_MB = 1


def empty_draft(live_app, username: str) -> int:
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        return make_campaign(user, recipients=0, name="Autumn news").id


def test_a_file_over_the_limit_is_refused_before_upload(page: Page, live_app, monkeypatch):
    monkeypatch.setitem(live_app.config, "MAX_UPLOAD_MB", LIMIT_MB)
    monkeypatch.setitem(live_app.config, "MAX_CONTENT_LENGTH", LIMIT_MB * 1024 * 1024)
    page.add_init_script(RECORD_BUSY_LABEL)
    sign_up(page, "olga")
    campaign_id = empty_draft(live_app, "olga")
    uploads = []
    page.on("request", lambda request: request.method == "POST" and uploads.append(request.url))
    page.goto(f"/campaigns/{campaign_id}/recipients")

    big = b"email\n" + b"reader@example.com\n" * (LIMIT_MB * 1024 * 1024 // 19 + 10)
    file_input = page.get_by_label("CSV or Excel (.xlsx) file")
    file_input.set_input_files({"name": "big.csv", "mimeType": "text/csv", "buffer": big})
    refusal = page.get_by_text(f"This file is larger than {LIMIT_MB} MB, the upload limit: it was not sent.")
    expect(refusal).to_be_visible()
    page.get_by_role("button", name="Upload and check").click()
    expect(refusal).to_be_visible()
    assert uploads == []

    small = b"email\nasha@example.com\nravi@example.com\n"
    file_input.set_input_files({"name": "small.csv", "mimeType": "text/csv", "buffer": small})
    expect(refusal).to_be_hidden()
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("button", name="Save 2 recipients")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('busy')") == "Checking… (disabled)"
    page.get_by_role("button", name="Save 2 recipients").click()
    expect(page.get_by_text("Saved 2 recipients for “Autumn news”.")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('busy')") == "Saving… (disabled)"
    expect(page.get_by_role("link", name="Preview the email")).to_be_visible()

    page.go_back()
    expect(page.get_by_text("These recipients were already saved — see the campaign")).to_be_visible()
    page.get_by_role("link", name="Schedule", exact=True).click()
    expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
