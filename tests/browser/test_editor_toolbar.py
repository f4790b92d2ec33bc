"""Does a screen reader hear what each button of the editor's toolbar does?"""

from playwright.sync_api import Page, expect

from tests.browser.test_smtp_settings import sign_up

NAMED_BUTTONS = [
    "Bold",
    "Italic",
    "Underline",
    "Link",
    "Image from an address (URL)",
    "Numbered list",
    "Bulleted list",
    "Quote",
    "Remove formatting",
]


def test_the_editor_toolbar_names_every_button_and_picker(page: Page):
    sign_up(page, "tamsin")
    page.get_by_role("link", name="Compose").first.click()
    toolbar = page.get_by_role("toolbar", name="Formatting")
    for name in NAMED_BUTTONS:
        expect(toolbar.get_by_role("button", name=name, exact=True)).to_be_visible()
    for picker in ("Text colour", "Highlight colour", "Alignment"):
        expect(toolbar.get_by_role("button", name=picker, exact=True)).to_be_visible()
    toolbar.get_by_role("button", name="Text style", exact=True).click()
    expect(toolbar.get_by_role("button", name="Heading 2", exact=True)).to_be_visible()
    toolbar.get_by_role("button", name="Default", exact=True).click()
    unnamed = toolbar.locator("button:not([aria-label]), [role=button]:not([aria-label])")
    expect(unnamed).to_have_count(0)
