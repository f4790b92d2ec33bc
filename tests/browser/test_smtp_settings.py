"""Can a user set up their SMTP account from a preset and check it, all in the real page?"""

import re

import pytest
from playwright.sync_api import Page, expect

SMTP_LOGIN = "mira@example.com"
SMTP_PASSWORD = "app-password-4417"


@pytest.fixture
def tls_sink(live_app, make_smtp_sink, monkeypatch):
    """A STARTTLS server with a login, whose throwaway CA the live app trusts for this test."""
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username=SMTP_LOGIN, password=SMTP_PASSWORD)
    monkeypatch.setitem(live_app.config, "SMTP_TLS_CA_FILE", sink.ca_file)
    return sink


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill("s3cret-pass")
    page.get_by_label("Repeat password").fill("s3cret-pass")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()


def test_preset_fills_the_form_and_test_connection_reaches_the_server(page: Page, base_url: str, tls_sink):
    external = []
    page.on("request", lambda request: request.url.startswith(base_url) or external.append(request.url))
    sign_up(page, "mira")
    page.get_by_role("link", name="Settings").first.click()
    page.wait_for_load_state("load")  # the presets' script listens for the choice only once it has run

    page.get_by_label("Provider").select_option(label="Gmail")
    expect(page.get_by_label("SMTP host")).to_have_value("smtp.gmail.com")
    expect(page.get_by_label("Port")).to_have_value("587")
    expect(page.get_by_label("Security")).to_have_value("starttls")
    expect(page.get_by_label("Most emails a day")).to_have_value("450")
    expect(page.get_by_text("about 500 recipients per rolling 24 hours")).to_be_visible()

    # The preset's server is out of reach here: point the form at the local one, as a relay user would.
    page.get_by_label("SMTP host").fill(tls_sink.host)
    page.get_by_label("Port").fill(str(tls_sink.port))
    page.get_by_label("Login").fill(SMTP_LOGIN)
    page.get_by_label("Password", exact=True).fill(SMTP_PASSWORD)
    page.get_by_label("From address").fill("mira@example.com")
    page.get_by_label("From name").fill("Mira")
    page.get_by_role("button", name="Test connection").click()

    # The outcome is shown in the page: what was typed stays, password, provider and its note included.
    expect(page.get_by_text(f"Connected to 127.0.0.1:{tls_sink.port} over TLSv1.3")).to_be_visible()
    expect(page.get_by_label("SMTP host")).to_have_value("127.0.0.1")
    expect(page.get_by_label("Password", exact=True)).to_have_value(SMTP_PASSWORD)
    expect(page.get_by_label("Provider")).to_have_value("gmail")
    expect(page.get_by_text("about 500 recipients per rolling 24 hours")).to_be_visible()
    assert SMTP_PASSWORD not in page.content()

    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()
    page.get_by_role("button", name="Send test email").click()
    expect(page.get_by_text("Test email sent to mira@example.com")).to_be_visible()
    assert tls_sink.wait_for(1)[0].rcpt_tos == ("mira@example.com",)
    assert external == [], "the page must load nothing from outside the app"


def fill_account(page: Page, sink) -> None:
    page.get_by_label("SMTP host").fill(sink.host)
    page.get_by_label("Port").fill(str(sink.port))
    page.get_by_label("Login").fill(SMTP_LOGIN)
    page.get_by_label("Password", exact=True).fill(SMTP_PASSWORD)
    page.get_by_label("From address").fill("mira@example.com")


def test_a_test_under_way_says_testing_and_cannot_be_pressed_twice(page: Page, tls_sink):
    tls_sink.script.slow("CONNECT", 1.5)
    sign_up(page, "tomas")
    page.get_by_role("link", name="Settings").first.click()
    fill_account(page, tls_sink)
    page.get_by_role("button", name="Test connection").click()

    pending = page.get_by_role("button", name="Testing…")
    expect(pending).to_be_disabled()
    expect(page.get_by_text(f"Connected to 127.0.0.1:{tls_sink.port} over TLSv1.3")).to_be_visible()
    expect(page.get_by_role("button", name="Test connection")).to_be_enabled()


def test_a_failed_test_marks_the_field_in_the_page(page: Page, tls_sink):
    sign_up(page, "ines")
    page.get_by_role("link", name="Settings").first.click()
    fill_account(page, tls_sink)
    page.get_by_label("Port").fill("70000")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Nothing was tested: please correct the fields marked below.")).to_be_visible()
    expect(page.get_by_label("Port")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_text("Enter a port between 1 and 65535.")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_value(SMTP_PASSWORD)


#: Remembers, across the navigation a form starts, the last label a busy button showed.
RECORD_BUSY_LABEL = """
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver(() => {
    for (const button of document.querySelectorAll("[aria-busy=true]")) {
      const label = button.tagName === "INPUT" ? button.value : button.textContent;
      sessionStorage.setItem("busy", `${label}${button.disabled ? " (disabled)" : ""}`);
    }
  }).observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true });
});
"""


def test_sending_a_test_email_says_sending_and_a_double_click_sends_one(page: Page, tls_sink):
    tls_sink.script.slow("DATA", 1)
    page.add_init_script(RECORD_BUSY_LABEL)
    sign_up(page, "yusuf")
    page.get_by_role("link", name="Settings").first.click()
    fill_account(page, tls_sink)
    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))

    page.get_by_role("button", name="Send test email").evaluate(
        "button => { button.click(); button.click(); }"
    )
    expect(page.get_by_text("Test email sent to yusuf@example.com")).to_be_visible()
    assert len(posts) == 1
    assert page.evaluate("sessionStorage.getItem('busy')") == "Sending… (disabled)"
    assert len(tls_sink.wait_for(1)) == 1


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_javascript_a_test_keeps_every_value_so_save_works_next(page: Page, tls_sink):
    sign_up(page, "lucia")
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_label("Provider").select_option(label="Other")
    fill_account(page, tls_sink)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text(f"Connected to 127.0.0.1:{tls_sink.port} over TLSv1.3")).to_be_visible()
    expect(page.get_by_label("Provider")).to_have_value("other")
    expect(page.get_by_label("Password", exact=True)).to_have_value(SMTP_PASSWORD)
    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()
