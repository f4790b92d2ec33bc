"""Can a stranger sign up through a list's form, confirm from the email, and later leave the list from
the preference page, all in the browser, while the owner turned the form on in theirs?"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.extensions import db
from tests.audiences.conftest import make_list
from tests.audiences.signup_helpers import confirmation_path, members, send_due
from tests.browser.conftest import log_in
from tests.builders import make_account

ADDRESS = "asha@rcpt.example"


def members_now(list_id: int) -> list[str]:
    """The list's members, without keeping a transaction open while the browser's requests write
    (SQLite has one writer)."""
    found = members(list_id)
    db.session.commit()
    return found


def test_sign_up_confirm_and_leave_the_list_from_the_preference_page(
    page: Page, app, served, make_user, smtp_sink
):
    app.config["PUBLIC_BASE_URL"] = served  # the links in emails and pages point at this server
    owner = make_user("kiran")
    make_account(owner, smtp_sink, from_name="Monsoon Books")
    list_id = make_list(owner, "Newsletter").id
    db.session.commit()

    log_in(page, served, "kiran")
    page.goto(f"{served}/audience/lists/{list_id}")
    page.get_by_role("link", name="Sign-up form").click()
    page.get_by_label("Take sign-ups through this list's form").check()
    page.get_by_role("button", name="Save sign-up settings").click()
    expect(page.get_by_text("Sign-up is on")).to_be_visible()
    expect(page.locator("#signup-snippet")).to_contain_text('<form method="post"')
    form_url = page.locator("#signup-url").inner_text()

    page.context.clear_cookies()  # a visitor of the owner's site, not the owner
    page.goto(form_url)
    expect(page.locator("#sender-name")).to_have_text("Monsoon Books")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label("Name (optional)").fill("Asha Rao")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert members_now(list_id) == []

    assert send_due() == ["sent"]  # what the worker does
    page.goto(served + confirmation_path(smtp_sink.messages[0]))
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    assert members_now(list_id) == [ADDRESS]

    page.get_by_role("link", name="Email preferences").click()
    expect(page.get_by_text("You are subscribed, and on the list Newsletter.")).to_be_visible()
    page.get_by_role("button", name="Leave Newsletter").click()
    expect(page.get_by_text("You left Newsletter.")).to_be_visible()
    assert members_now(list_id) == []
