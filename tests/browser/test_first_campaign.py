"""README's "A first campaign in five minutes", step by step: `make sink`, `SMTP_ALLOW_PRIVATE_HOSTS=1 make
run`, then the browser, and the sink prints each email (tests/newcomer.py starts both as a newcomer would;
the ports are free ones instead of 1025 and 5000)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.newcomer import MakeRun, Sink, needs_make
from tests.services import free_port

pytestmark = pytest.mark.processes

RECIPIENTS = (
    "Ada Lovelace <ada@example.com>\nAlan Turing <alan@example.com>\nGrace Hopper <grace@example.com>\n"
)


@pytest.fixture
def app_with_sink(tmp_path: Path, make_sink: Sink) -> Iterator[tuple[MakeRun, Sink]]:
    needs_make()
    port = free_port()
    run = MakeRun(
        tmp_path / "instance",
        port,
        SMTP_ALLOW_PRIVATE_HOSTS="1",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
    )
    try:
        run.wait_until_ready()
        yield run, make_sink
    finally:
        run.close()


def test_the_readmes_first_campaign_arrives_at_the_sink(page: Page, app_with_sink):
    run, sink = app_with_sink
    # 3. Sign up.
    page.goto(f"{run.url}/signup")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Password", exact=True).fill("purple-otter-lantern-42")
    page.get_by_label("Repeat password").fill("purple-otter-lantern-42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Hello, newcomer")).to_be_visible()

    # 4. Connect the sink under Settings.
    page.get_by_role("link", name="Settings").first.click()
    page.wait_for_load_state("load")
    page.get_by_label("Provider").select_option(label="Other")
    page.get_by_label("SMTP host").fill("127.0.0.1")
    page.get_by_label("Port").fill(str(sink.port))
    page.get_by_label("Security").select_option(label="None (unencrypted)")
    page.get_by_label("From address").fill("you@example.com")
    page.get_by_label("Seconds between emails").fill("1")
    page.get_by_role("button", name="Save SMTP account").click()
    expect(page.get_by_text("SMTP account saved.")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    expect(
        page.get_by_text(
            f"Connected to 127.0.0.1:{sink.port} without logging in. The server said: 250 localhost"
        )
    ).to_be_visible()

    # 5. Compose.
    page.get_by_role("link", name="Compose").first.click()
    page.get_by_label("Campaign name").fill("Hello")
    page.get_by_label("Subject").fill("Hello {{ name }}")
    page.locator(".ql-editor").click()
    page.locator(".ql-editor").press_sequentially("Hi {{ name }}, this is my first campaign.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Hello” saved.")).to_be_visible()

    # 6. Add recipients.
    page.get_by_role("link", name="Upload or change").click()
    page.get_by_label("Addresses").fill(RECIPIENTS)
    page.get_by_role("button", name="Check addresses").click()
    page.get_by_role("button", name="Save 3 recipients").click()
    expect(page.get_by_text("Saved 3 recipients")).to_be_visible()

    # 7. Send it, and watch the sink.
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="Hello").click()
    page.get_by_label("Send now").check()
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("“Hello” is scheduled: 3 emails.")).to_be_visible()
    printed = sink.read_until("Hi Grace Hopper, this is my first campaign.", timeout=60)

    first = printed[printed.index(next(line for line in printed if line.startswith("── message 1 ──"))) :]
    assert first[1:6] == [
        "From:    you@example.com",
        "To:      ada@example.com",
        "Subject: Hello Ada Lovelace",
        "",
        "Hi Ada Lovelace, this is my first campaign.",
    ]
    assert any(
        line.startswith(f"Don't want these emails any more? Unsubscribe: {run.url}/unsubscribe/")
        for line in printed
    )
    assert [line for line in printed if line.startswith("Subject:")] == [
        "Subject: Hello Ada Lovelace",
        "Subject: Hello Alan Turing",
        "Subject: Hello Grace Hopper",
    ]
    expect(page.locator("[data-campaign-status]").first).to_have_text("completed", timeout=30_000)
