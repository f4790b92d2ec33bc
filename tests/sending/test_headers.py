"""What every campaign email carries, read back from the bytes the SMTP sink received: the headers that
Gmail's and Yahoo's bulk-sender rules ask for, a working one-click unsubscribe, and no way to inject a
header through anything a user or a recipient list can set."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Email, SMTPSettings
from app.sending.unsubscribe_links import UnsubscribeLinks
from app.states import EmailStatus
from tests.builders import make_queued_campaign
from tests.email_html import written_body
from tests.sending.test_batch import emails_of, run_batch

PUBLIC_BASE_URL = "https://campaigns.example.org"


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_settings, "PUBLIC_BASE_URL": PUBLIC_BASE_URL}


@pytest.fixture
def links(app) -> UnsubscribeLinks:
    return UnsubscribeLinks.from_config(app.config)


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_headers_are_present_and_well_formed(account, engine_settings, smtp_sink, links):
    account.from_name = "Ünïcode Shop"
    account.reply_to = "help@sender.example"
    db.session.commit()
    make_queued_campaign(account, ["Reader@Rcpt.Example"])
    run_batch(engine_settings, account)
    raw = smtp_sink.messages[0].raw
    message = parsed(raw)

    assert message["From"].addresses[0].display_name == "Ünïcode Shop"
    assert message["From"].addresses[0].addr_spec == "sender@sender.example"
    assert message["Reply-To"] == "help@sender.example"
    assert message["To"].addresses[0].addr_spec == "Reader@Rcpt.Example"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith("@sender.example>")
    assert message["List-Unsubscribe"] == f"<{links.url(account.user_id, 'reader@rcpt.example')}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert urlsplit(message["List-Unsubscribe"].strip("<>")).scheme == "https"

    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    header_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    assert b"=?" not in header_line  # the URL as it is, not folded into encoded words


def test_the_message_id_is_the_one_recorded_for_the_email(account, engine_settings, smtp_sink):
    campaign = make_queued_campaign(account, 1)
    run_batch(engine_settings, account)
    assert emails_of(campaign)[0].message_id == parsed(smtp_sink.messages[0].raw)["Message-ID"]


def test_default_footer_links_to_the_same_url_as_the_header(account, engine_settings, smtp_sink, links):
    make_queued_campaign(account, ["a@rcpt.example"])
    run_batch(engine_settings, account)
    message = parsed(smtp_sink.messages[0].raw)
    url = links.url(account.user_id, "a@rcpt.example")
    assert f'<a href="{url}">Unsubscribe</a>' in message.get_body(("html",)).get_content()
    assert f"Unsubscribe: {url}" in message.get_body(("plain",)).get_content()


def test_a_body_with_its_own_unsubscribe_link_gets_no_footer(account, engine_settings, smtp_sink, links):
    make_queued_campaign(
        account, ["a@rcpt.example"], html_body='<p><a href="{{ unsubscribe_url }}">Leave</a></p>'
    )
    run_batch(engine_settings, account)
    message = parsed(smtp_sink.messages[0].raw)
    url = links.url(account.user_id, "a@rcpt.example")
    assert written_body(message.get_body(("html",)).get_content()) == f'<p><a href="{url}">Leave</a></p>'
    assert message.get_body(("plain",)).get_content().strip() == f"Leave ({url})"


def test_an_address_unsubscribed_while_its_campaign_is_sending_is_not_sent_to(
    app, account, engine_settings, smtp_sink, links
):
    """The recipient clicks one-click unsubscribe (the provider's POST, no cookie) between two emails."""
    campaign = make_queued_campaign(account, ["a@rcpt.example", "b@rcpt.example", "c@rcpt.example"])
    provider = app.test_client(use_cookies=False)
    unsubscribe_path = urlsplit(links.url(account.user_id, "b@rcpt.example")).path

    async def recipient_unsubscribes(seconds: float) -> None:
        if smtp_sink.count == 1:
            response = provider.post(unsubscribe_path, data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 200

    settings = replace(engine_settings, send_interval=0.01)
    run_batch(settings, account, pause=recipient_unsubscribes)
    assert set(smtp_sink.addresses_received()) == {"a@rcpt.example", "c@rcpt.example"}
    assert [e.status for e in emails_of(campaign)] == [
        EmailStatus.SENT,
        EmailStatus.SUPPRESSED,
        EmailStatus.SENT,
    ]


INJECTION = "\r\nBcc: victim@evil.example\r\nX-Evil: 1"
HEADERS = {
    "Subject", "From", "To", "Reply-To", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
    "MIME-Version", "Content-Type",
}  # fmt: skip
PART_HEADERS = {"Content-Type", "Content-Transfer-Encoding", "MIME-Version"}


@pytest.mark.parametrize(
    ("where", "campaign_fields", "account_fields", "email_fields"),
    [
        ("subject", {"subject": "Hello" + INJECTION}, {}, {}),
        ("subject merge value", {"subject": "Hi {{ code }}"}, {}, {"merge_data": {"code": "x" + INJECTION}}),
        ("from name", {}, {"from_name": "Shop" + INJECTION}, {}),
        ("recipient name", {}, {}, {"name": "Eve" + INJECTION}),
        ("body merge value", {}, {}, {"merge_data": {"code": "x" + INJECTION}}),
        ("reply-to", {}, {"reply_to": "help@sender.example" + INJECTION}, {}),
    ],
)
def test_header_injection_attempts_fail_safely(
    account, engine_settings, smtp_sink, where, campaign_fields, account_fields, email_fields
):
    """Each attempt either arrives as harmless text on one line, or the email is not built at all:
    never an extra header and never an extra recipient."""
    db.session.execute(
        sa.update(SMTPSettings).values(**{"reply_to": "help@sender.example", **account_fields})
    )
    campaign = make_queued_campaign(account, ["a@rcpt.example"], **campaign_fields)
    if email_fields:
        db.session.execute(sa.update(Email).values(**email_fields))
    db.session.commit()
    run_batch(engine_settings, account)
    email_row = emails_of(campaign)[0]
    for received in smtp_sink.messages:
        assert received.rcpt_tos == ("a@rcpt.example",), where
        message = parsed(received.raw)
        assert set(message.keys()) == HEADERS, where
        assert all(set(part.keys()) <= PART_HEADERS for part in message.iter_parts()), where
    if smtp_sink.count == 0:
        assert email_row.status == EmailStatus.FAILED, where
        assert email_row.last_smtp_message.startswith("The message could not be built"), where
        assert email_row.permanent_failure, where
    else:
        assert email_row.status == EmailStatus.SENT, where
