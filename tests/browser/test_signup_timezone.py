"""Does sign-up start from the time zone my browser is in?"""

import pytest
from playwright.sync_api import Page, expect


def fill_sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill("s3cret-pass")
    page.get_by_label("Repeat password").fill("s3cret-pass")


@pytest.mark.browser_context_args(timezone_id="Asia/Tokyo")
def test_sign_up_preselects_the_browser_time_zone(page: Page):
    fill_sign_up(page, "haruki")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, haruki")).to_be_visible()
    expect(page.get_by_text("Asia/Tokyo", exact=True).first).to_be_attached()


@pytest.mark.browser_context_args(timezone_id="Etc/GMT+5")
def test_sign_up_keeps_the_default_zone_when_the_browser_zone_is_not_listed(page: Page):
    fill_sign_up(page, "noor")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")


@pytest.mark.browser_context_args(timezone_id="Asia/Tokyo")
def test_sign_up_sent_back_with_an_error_keeps_the_zone_chosen(page: Page):
    fill_sign_up(page, "lena")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Repeat password").fill("another-pass")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("The passwords differ.")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
