"""Can I change my password from Settings and log in with the new one?"""

from playwright.sync_api import Page, expect

from tests.browser.test_smtp_settings import sign_up

NEW_PASSWORD = "a whole new passphrase"


def test_change_the_password_from_the_settings_page(page: Page, base_url: str):
    sign_up(page, "noor")
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_role("link", name="Change password").click()

    page.get_by_label("Current password").fill("s3cret-pass")
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Repeat new password").fill("password1234")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("This password is too easy to guess.")).to_be_visible()

    page.get_by_label("Current password").fill("s3cret-pass")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    page.wait_for_load_state()  # the menu opens by Bootstrap's script, which must have run
    page.get_by_role("button", name="noor").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Username or email").fill("noor")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, noor")).to_be_visible()
