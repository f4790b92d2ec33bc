"""Does the editor show what recipients get, and does the preview say what they would miss?"""

from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Campaign, User
from tests.browser.test_smtp_settings import sign_up

#: Served in place of the outside address the test adds, so the browser never leaves loopback.
IMAGE_URL = "https://images.example/logo.gif"
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
#: What the same fonts and spacing means, element by element.
TYPOGRAPHY = [
    "font-family",
    "font-size",
    "line-height",
    "font-weight",
    "color",
    "margin-top",
    "margin-bottom",
]
STYLES_OF = "(element, names) => names.map(name => getComputedStyle(element).getPropertyValue(name))"


def compose(page: Page, name: str) -> None:
    page.get_by_role("link", name="Compose").first.click()
    page.get_by_label("Campaign name").fill(name)
    page.get_by_label("Subject").fill(name)


def save_and_open(page: Page, name: str) -> None:
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"“{name}” saved.")).to_be_visible()


def campaign_id(live_app: Flask, username: str, name: str) -> int:
    with live_app.app_context():
        return db.session.scalar(
            sa.select(Campaign.id).join(User).where(User.username == username, Campaign.name == name)
        )


def test_the_toolbar_aligns_colours_links_and_adds_an_image_by_its_address(page: Page, base_url: str):
    page.route(IMAGE_URL, lambda route: route.fulfill(body=GIF, content_type="image/gif"))
    sign_up(page, "tara")
    compose(page, "Toolbar")
    toolbar = page.get_by_role("toolbar", name="Formatting")
    for label in ("Alignment", "Text colour", "Highlight colour", "Link", "Image from an address (URL)"):
        expect(toolbar.get_by_role("button", name=label, exact=True)).to_be_visible()
    editor = page.locator(".ql-editor")
    editor.click()
    editor.press_sequentially("Monsoon sale")
    editor.press("Control+a")
    toolbar.get_by_role("button", name="Alignment").click()
    toolbar.get_by_role("button", name="Centre").click()
    toolbar.get_by_role("button", name="Text colour").click()
    toolbar.get_by_role("button", name="#e60000").click()
    toolbar.get_by_role("button", name="Link", exact=True).click()
    page.locator(".ql-tooltip input[type=text]").fill("https://shop.example/sale")
    page.locator(".ql-tooltip input[type=text]").press("Enter")
    editor.press("End")
    page.once("dialog", lambda dialog: dialog.accept(IMAGE_URL))
    toolbar.get_by_role("button", name="Image from an address (URL)").click()
    expect(editor.locator(f'img[src="{IMAGE_URL}"]')).to_be_visible()

    page.get_by_role("button", name="HTML source").click()
    source = page.locator("#html_body").input_value()
    assert 'style="text-align: center;"' in source  # a style mail readers apply, not a Quill class
    assert "color: rgb(230, 0, 0)" in source
    assert 'href="https://shop.example/sale"' in source
    assert f'<img src="{IMAGE_URL}">' in source
    assert "base64" not in source
    page.get_by_role("button", name="Visual editor").click()
    save_and_open(page, "Toolbar")

    preview = page.frame_locator("iframe.campaign-preview")
    link = preview.get_by_role("link", name="Monsoon sale")
    expect(link).to_have_attribute("href", "https://shop.example/sale")
    expect(preview.locator("p").first).to_have_css("text-align", "center")
    expect(preview.get_by_text("Monsoon sale")).to_have_css("color", "rgb(230, 0, 0)")
    image = preview.locator(f'img[src="{IMAGE_URL}"]')
    expect(image).to_be_visible()


def test_an_image_address_that_is_not_a_web_address_is_refused_with_a_message(page: Page):
    sign_up(page, "uma")
    compose(page, "Bad image")
    page.locator(".ql-editor").click()
    messages = []

    def answer(dialog):
        messages.append(dialog.message)
        dialog.accept("http://images.example/logo.gif" if dialog.type == "prompt" else None)

    page.on("dialog", answer)
    page.get_by_role("button", name="Image from an address (URL)").click()
    expect(page.locator(".ql-editor img")).to_have_count(0)
    assert messages[-1] == "The image was not added: its address must start with https://."


def test_the_editor_and_the_preview_show_the_same_fonts_and_spacing(page: Page, live_app: Flask):
    sign_up(page, "veda")
    compose(page, "Type")
    page.get_by_role("button", name="HTML source").click()
    page.locator("#html_body").fill(
        "<h1>Big news</h1><p>First line</p><p>Second line with <a href='https://shop.example'>a link</a></p>"
    )
    page.get_by_role("button", name="Visual editor").click()
    editor = page.locator(".ql-editor")
    in_editor = {
        selector: editor.locator(selector).first.evaluate(STYLES_OF, TYPOGRAPHY)
        for selector in ("h1", "p", "a")
    }
    save_and_open(page, "Type")
    preview = page.frame_locator("iframe.campaign-preview")
    in_preview = {
        selector: preview.locator(selector).first.evaluate(STYLES_OF, TYPOGRAPHY)
        for selector in ("h1", "p", "a")
    }
    assert in_editor == in_preview
    assert in_preview["p"][1:3] == ["16px", "24px"]  # the email's own size, not the app's or Quill's 13px


def test_the_preview_highlights_an_unknown_field_and_wraps_the_plain_text(page: Page):
    sign_up(page, "wren")
    compose(page, "Typo")
    page.get_by_role("button", name="HTML source").click()
    page.locator("#html_body").fill("<p>Welcome to {{ compny }}, {{ name }}.</p>")
    page.get_by_label("Write the plain-text part myself").check()
    page.get_by_role("textbox", name="Plain-text part").fill("A very long line " * 40 + "{{ compny }}")
    save_and_open(page, "Typo")

    expect(page.locator("#unknown-fields")).to_have_text(
        "Unknown merge field: compny (highlighted here; recipients would see nothing in its place)"
    )
    mark = page.frame_locator("iframe.campaign-preview").locator("mark.unknown-field")
    expect(mark).to_have_text("{{ compny }}")
    expect(mark).to_have_css("background-color", "rgb(255, 255, 0)")

    page.get_by_text("Plain-text part").click()
    text = page.locator("#preview-text")
    expect(text).to_contain_text("{{ compny }}")
    expect(text).to_have_css("white-space", "pre-wrap")
    assert text.evaluate("pre => pre.scrollWidth <= pre.clientWidth"), "the plain text scrolls sideways"


DROP_AN_IMAGE_FILE = """editor => {
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], "logo.png", { type: "image/png" }));
  const box = editor.querySelector("p").getBoundingClientRect();  // on the text, where Quill drops
  editor.dispatchEvent(new DragEvent("drop", {
    dataTransfer: files, bubbles: true, cancelable: true, clientX: box.left + 3, clientY: box.top + box.height / 2,
  }));
}"""


def test_a_dropped_image_file_is_not_embedded_in_the_email(page: Page):
    sign_up(page, "xena")
    compose(page, "Dropped")
    editor = page.locator(".ql-editor")
    editor.click()
    editor.press_sequentially("Hello")
    editor.evaluate(DROP_AN_IMAGE_FILE)
    page.wait_for_timeout(1000)  # Quill reads a dropped file asynchronously
    expect(editor.locator("img")).to_have_count(0)
    page.get_by_role("button", name="HTML source").click()
    assert "data:image" not in page.locator("#html_body").input_value()
