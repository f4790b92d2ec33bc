"""Can a newcomer sign up, log out and log in again through the real pages?"""

from playwright.sync_api import Page, expect


def test_sign_up_then_log_in_through_the_pages(page: Page, base_url: str):
    external = []
    page.on("request", lambda request: request.url.startswith(base_url) or external.append(request.url))

    page.goto("/signup")
    page.get_by_label("Username").fill("asha")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_label("Password", exact=True).fill("s3cret-pass")
    page.get_by_label("Repeat password").fill("s3cret-pass")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, asha")).to_be_visible()
    expect(page.get_by_text("Times are shown in Europe/Paris.")).to_be_visible()

    page.wait_for_load_state()  # the menu opens by Bootstrap's script, which must have run
    page.get_by_role("button", name="asha").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    page.get_by_label("Username or email").fill("asha@example.com")
    page.get_by_label("Password").fill("s3cret-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, asha")).to_be_visible()
    assert external == [], "the pages must load nothing from outside the app"


def test_wrong_password_shows_a_message_in_the_page(page: Page, base_url: str):
    page.goto("/login")
    page.get_by_label("Username or email").fill("nobody")
    page.get_by_label("Password").fill("whatever1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Wrong username, email or password.")).to_be_visible()
