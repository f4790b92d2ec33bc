"""Can a user set up their SMTP account from a preset and check it, all in the real page?"""

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

    expect(page.get_by_text(f"Connected to 127.0.0.1:{tls_sink.port} over TLSv1.3")).to_be_visible()
    expect(page.get_by_label("SMTP host")).to_have_value("127.0.0.1")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert SMTP_PASSWORD not in page.content()

    page.get_by_label("Password", exact=True).fill(SMTP_PASSWORD)
    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()
    page.get_by_role("button", name="Send test email").click()
    expect(page.get_by_text("Test email sent to mira@example.com")).to_be_visible()
    assert tls_sink.wait_for(1)[0].rcpt_tos == ("mira@example.com",)
    assert external == [], "the page must load nothing from outside the app"
