"""When an email fails, what do the report and the dashboard say? The server's reply, once, in words.

Each test sends for real, through the engine, to the test SMTP sink, and reads the pages as the user.
"""

from __future__ import annotations

import html

import pytest

from tests.builders import make_account, make_queued_campaign
from tests.sending import runs
from tests.sending.conftest import unpaused_settings


@pytest.fixture
def app_settings(smtp_tls_files):
    return unpaused_settings(smtp_tls_files.ca_file)


def failure_pages(client, campaign) -> list[str]:
    """The report of `campaign` and the dashboard, as text."""
    report = client.get(f"/campaigns/{campaign.id}/report").get_data(as_text=True)
    dashboard = client.get("/").get_data(as_text=True)
    return [html.unescape(report), html.unescape(dashboard)]


@pytest.mark.parametrize(
    ("scripted", "shown"),
    [
        ("550 5.1.1 <{address}>: user unknown", "550 5.1.1 <gone@rcpt.example>: user unknown"),
        (
            "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
            "550 5.1.1 Please try double-checking the recipient's address.",
            "550 5.1.1 The email account that you tried to reach does not exist. 5.1.1 Please try "
            "double-checking the recipient's address.",
        ),
    ],
    ids=["one line", "multi-line"],
)
def test_a_refusal_is_shown_with_its_code_once(
    client, logged_in, smtp_sink, engine_settings, scripted, shown
):
    account = make_account(logged_in, smtp_sink)
    campaign = make_queued_campaign(account, ["gone@rcpt.example", "here@rcpt.example"])
    smtp_sink.script.reject_recipients("gone@rcpt.example", reply=scripted)
    runs.run_batch(engine_settings, account.id)
    for page in failure_pages(client, campaign):
        assert shown in page
        assert "550 550" not in page


def test_an_international_address_is_delivered_by_a_server_offering_smtputf8(
    client, logged_in, make_smtp_sink, engine_settings
):
    sink = make_smtp_sink(smtputf8=True)
    account = make_account(logged_in, sink)
    campaign = make_queued_campaign(account, ["josé@exämple.com"])
    report = runs.run_batch(engine_settings, account.id)
    assert report.sent == 1
    assert [message.rcpt_tos for message in sink.messages] == [("josé@xn--exmple-cua.com",)]
    assert "No email has failed." in failure_pages(client, campaign)[1]


def test_an_international_address_fails_in_words_on_a_server_without_smtputf8(
    client, logged_in, smtp_sink, engine_settings
):
    account = make_account(logged_in, smtp_sink)
    campaign = make_queued_campaign(account, ["josé@exämple.com", "plain@rcpt.example"])
    report = runs.run_batch(engine_settings, account.id)
    assert (report.sent, report.failed) == (1, 1)
    for page in failure_pages(client, campaign):
        assert (
            "553 5.6.7 This address has non-ASCII characters before the @, and your SMTP server does not "
            "support SMTPUTF8 (international addresses)" in page
        )
        assert "NonASCIILocalPartDefect" not in page
