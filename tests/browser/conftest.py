"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import ConsoleMessage, Page, expect
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import PASSWORD
from tests.services import service_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


class ServerThread(threading.Thread):
    """The app served by a real WSGI server on a port the OS picks."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """The browser sits in the app's default zone, so sign-up (which preselects the browser's zone) gives
    every test a user in Asia/Kolkata; a test marked `browser_context_args(timezone_id=...)` moves it."""
    return {**browser_context_args, "timezone_id": "Asia/Kolkata"}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A migrated database and the app serving it, shared by the browser tests (each uses its own user)."""
    database = tmp_path_factory.mktemp("live") / "app.db"
    # Every test signs up its own user from 127.0.0.1: the per-address sign-up budget would stop the tenth.
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "INSTANCE_PATH": database.parent / "instance",
        "SIGNUP_RATE_LIMIT_PER_IP": "1000 per hour",
    }
    app = create_app("testing", settings)
    with app.app_context():
        upgrade()
    server = ServerThread(app)
    server.start()
    app.config["LIVE_URL"] = server.url
    yield app
    server.stop()


@pytest.fixture(scope="session")
def base_url(live_app: Flask) -> str:
    return live_app.config["LIVE_URL"]


def csp_refusals(page: Page) -> list[str]:
    """The list that fills with every refusal of the Content-Security-Policy on `page` (an inline
    script or style, an outside resource): Chromium reports each one in the console."""
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    return refused


def assert_nothing_refused(refused: list[str]) -> None:
    assert refused == [], "the Content-Security-Policy refused something:\n" + "\n".join(refused)


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """Playwright's page, and the test fails if the Content-Security-Policy blocked anything on it."""
    refused = csp_refusals(page)
    yield page
    assert_nothing_refused(refused)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The test's own `app` (its database, which the test may change) served on loopback: its URL."""
    server = ServerThread(app)
    server.start()
    yield server.url
    server.stop()


def log_in(page: Page, served: str, username: str) -> None:
    """Log in on the served app as a user the test made (with the test suite's password)."""
    page.goto(f"{served}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()
