"""Does a recipient who unsubscribes see whose list they leave, and can they undo it?"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import SMTPSettings, Suppression, User
from app.sending.unsubscribe_links import UnsubscribeLinks
from tests.browser.test_smtp_settings import sign_up

ADDRESS = "asha@rcpt.example"


def unsubscribe_link(live_app: Flask, username: str, from_name: str) -> str:
    with live_app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == username)).one()
        db.session.add(
            SMTPSettings(
                user_id=user.id,
                host="127.0.0.1",
                port=2525,
                from_address="news@shop.example",
                from_name=from_name,
            )
        )
        db.session.commit()
        return UnsubscribeLinks.from_config(live_app.config).token(user.id, ADDRESS)


def suppressed(live_app: Flask) -> list[str]:
    with live_app.app_context():
        return list(db.session.scalars(sa.select(Suppression.address).where(Suppression.address == ADDRESS)))


def test_the_unsubscribe_page_shows_the_sender_and_subscribing_again_works(
    page: Page, live_app: Flask, base_url: str
):
    sign_up(page, "yamini")
    token = unsubscribe_link(live_app, "yamini", "Monsoon Books")
    page.context.clear_cookies()  # a recipient, not the logged-in owner
    page.goto(f"/unsubscribe/{token}")

    expect(page.locator("#sender-name")).to_have_text("Monsoon Books")
    expect(page.get_by_text(f"Stop emails from Monsoon Books to {ADDRESS}.")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.get_by_role("link", name="Log in")).to_have_count(0)

    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert suppressed(live_app) == [ADDRESS]
    expect(page.get_by_text("Unsubscribed by mistake?")).to_be_visible()
    page.get_by_role("button", name="Subscribe again").click()
    expect(page.get_by_role("heading", name="You are subscribed again")).to_be_visible()
    expect(page.get_by_text(f"{ADDRESS} can get emails from Monsoon Books again.")).to_be_visible()
    assert suppressed(live_app) == []
