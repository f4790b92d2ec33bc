"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import ConsoleMessage, Page
from werkzeug.serving import make_server

from app import create_app
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
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A migrated database and the app serving it, shared by the browser tests (each uses its own user)."""
    database = tmp_path_factory.mktemp("live") / "app.db"
    # Every browser test signs up its own user from 127.0.0.1: more than the production limit allows.
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
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


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """Playwright's page, and the test fails if the Content-Security-Policy blocked anything on it
    (an inline script or style, an outside resource): Chromium reports each refusal in the console."""
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", watch)
    yield page
    assert refused == [], "the Content-Security-Policy refused something:\n" + "\n".join(refused)
