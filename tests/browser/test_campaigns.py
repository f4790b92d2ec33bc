"""Can a user compose a campaign in the editor, give it recipients, preview it and schedule it?"""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_smtp_settings import sign_up

CSV = "email,name,code\nasha@example.com,Asha,A-17\nravi@example.com,Ravi,R-42\n"


def save_smtp_account(page: Page) -> None:
    """An account to schedule through; nothing is sent in this test, so it need not answer."""
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_label("SMTP host").fill("127.0.0.1")
    page.get_by_label("Port").fill("2525")
    page.get_by_label("Security").select_option("none")
    page.get_by_label("From address").fill("kiran@example.com")
    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()


def test_compose_with_a_merge_field_upload_preview_and_schedule(page: Page, base_url: str, tmp_path: Path):
    external = []
    page.on("request", lambda request: request.url.startswith(base_url) or external.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, "kiran")
    save_smtp_account(page)

    # Compose in the rich-text editor and insert a merge field with the picker.
    page.get_by_role("link", name="Compose").first.click()
    page.get_by_label("Campaign name").fill("Monsoon offers")
    page.get_by_label("Subject").fill("Offers for you")
    editor = page.locator(".ql-editor")
    expect(page.locator(".ql-toolbar")).to_be_visible()
    editor.click()
    editor.press_sequentially("Hello ")
    page.get_by_role("button", name="Insert merge field").click()
    page.get_by_role("button", name="{{ name }}").click()
    editor.press_sequentially(", the monsoon sale starts now.")
    expect(editor).to_contain_text("Hello {{ name }}, the monsoon sale starts now.")
    page.get_by_role("button", name="HTML source").click()
    expect(page.locator("#html_body")).to_have_value("<p>Hello {{ name }}, the monsoon sale starts now.</p>")
    page.get_by_role("button", name="Visual editor").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Monsoon offers” saved.")).to_be_visible()

    # Recipients (the recipients page): upload a CSV and save it.
    csv_file = tmp_path / "readers.csv"
    csv_file.write_text(CSV)
    page.get_by_role("link", name="Upload or change").click()
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Save 2 recipients").click()
    expect(page.get_by_text("Saved 2 recipients")).to_be_visible()

    # Preview as a chosen recipient, in the sandboxed frame.
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="Monsoon offers").click()
    preview = page.frame_locator("iframe.campaign-preview")
    expect(preview.get_by_text("Hello Asha, the monsoon sale starts now.")).to_be_visible()
    page.get_by_label("As received by").select_option(label="ravi@example.com")
    page.get_by_role("button", name="Show").click()
    expect(preview.get_by_text("Hello Ravi, the monsoon sale starts now.")).to_be_visible()

    # Schedule at a local time; the list shows it scheduled, in the user's zone.
    page.get_by_label("At a date and time").check()
    page.get_by_label("Date", exact=True).fill("2099-01-15")
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("“Monsoon offers” is scheduled: 2 emails.")).to_be_visible()
    expect(page.locator("#schedule")).to_contain_text("15 Jan 2099 04:00 UTC")
    page.get_by_role("link", name="Campaigns", exact=True).click()
    row = page.get_by_role("row", name="Monsoon offers")
    expect(row).to_contain_text("scheduled")
    expect(row).to_contain_text("15 Jan 2099 09:30 IST")
    expect(row).to_contain_text("0 of 2 sent")
    assert external == [], "the pages must load nothing from outside the app"
    assert errors == []


STYLED_EMAIL = (
    "<style>.headline { font-size: 30px; }</style>"
    '<p class="headline" style="color: rgb(200, 0, 0)">Monsoon sale</p>'
    '<img alt="logo" src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">'
)


def test_the_preview_keeps_the_emails_own_styles_under_the_content_security_policy(page: Page, base_url: str):
    """The preview frame inherits the page's policy: an email's <style> block, style attributes and
    inline images still show (and the `page` fixture fails the test on any refusal)."""
    sign_up(page, "meera")
    page.get_by_role("link", name="Compose").first.click()
    page.get_by_label("Campaign name").fill("Styled")
    page.get_by_label("Subject").fill("Styled")
    page.get_by_role("button", name="HTML source").click()
    page.locator("#html_body").fill(STYLED_EMAIL)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Styled” saved.")).to_be_visible()
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="Styled").click()
    headline = page.frame_locator("iframe.campaign-preview").locator("p.headline")
    expect(headline).to_have_css("color", "rgb(200, 0, 0)")
    expect(headline).to_have_css("font-size", "30px")
    logo = page.frame_locator("iframe.campaign-preview").get_by_alt_text("logo")
    assert logo.evaluate("image => image.complete && image.naturalWidth") == 1
