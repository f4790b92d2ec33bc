"""What every page carries besides its content: the app's icon, and page links only when there are pages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from tests.browser.test_smtp_settings import sign_up
from tests.builders import make_account, make_queued_campaign

NO_SINK = SimpleNamespace(host="127.0.0.1", port=2525, tls="none", username="", password="")


def campaign_of(live_app: Flask, username: str, recipients: int) -> int:
    with live_app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        account = make_account(user, NO_SINK)
        return make_queued_campaign(account, recipients, name=f"{recipients} readers").id


def test_every_page_shows_the_apps_icon_and_favicon_ico_answers(page: Page, base_url: str):
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.goto("/login")
    icon = page.locator("link[rel=icon]")
    expect(icon).to_have_attribute("type", "image/svg+xml")
    href = icon.get_attribute("href")
    assert page.request.get(base_url + href).headers["content-type"].startswith("image/svg+xml")
    legacy = page.request.get(base_url + "/favicon.ico")
    assert legacy.status == 200
    assert legacy.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in legacy.body()
    assert failed == []


@pytest.mark.parametrize(("recipients", "pager"), [(3, False), (51, True)])
def test_a_report_shows_page_links_only_when_there_is_more_than_one_page(
    page: Page, live_app: Flask, recipients: int, pager: bool
):
    username = f"pager{recipients}"
    sign_up(page, username)
    campaign_id = campaign_of(live_app, username, recipients)
    page.goto(f"/campaigns/{campaign_id}/report")
    expect(page.get_by_role("cell", name="r00000@rcpt.example")).to_be_visible()
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(1 if pager else 0)


def test_a_single_page_of_campaigns_has_no_page_links(page: Page, live_app: Flask):
    sign_up(page, "onepage")
    campaign_of(live_app, "onepage", 1)
    page.get_by_role("link", name="Campaigns", exact=True).click()
    expect(page.get_by_role("link", name="1 readers")).to_be_visible()
    expect(page.get_by_role("navigation", name="Pages")).to_have_count(0)
