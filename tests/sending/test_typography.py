"""Does every email carry the editor's typography and its preheader, and nothing of the preview's?"""

from __future__ import annotations

import email
import email.policy
import re

from app.recipient import Recipient
from app.sending.message import CampaignTemplate
from app.sending.typography import CSS_FILE
from tests.builders import make_queued_campaign
from tests.email_html import written_body
from tests.sending.test_batch import run_batch

READER = Recipient("reader@rcpt.example", "Reader", {"code": "C0"})
LINK = "https://app.example/unsubscribe/x"


def sent_html(smtp_sink) -> str:
    message = email.message_from_bytes(smtp_sink.messages[0].raw, policy=email.policy.default)
    return message.get_body(("html",)).get_content()


def test_a_sent_email_carries_the_editors_stylesheet_and_its_fonts_on_the_wrapper(
    account, engine_settings, smtp_sink
):
    make_queued_campaign(account, ["a@rcpt.example"], html_body="<h1>Sale</h1><p>Dear {{ name }}</p>")
    run_batch(engine_settings, account)
    html = sent_html(smtp_sink)
    assert written_body(html).startswith("<h1>Sale</h1><p>Dear Reader 0</p>")
    sheet = " ".join(re.sub(r"/\*.*?\*/", "", CSS_FILE.read_text(), flags=re.S).split())
    assert f"<style>{sheet}</style>" in html
    wrapper = re.search(r'<div class="email-body" style="([^"]*)">', html).group(1)
    for declaration in ("font-family: Helvetica, Arial, sans-serif", "font-size: 16px", "line-height: 1.5"):
        assert declaration in wrapper
        assert declaration in sheet


def test_the_preheader_is_a_hidden_span_at_the_top_of_the_html_only(account, engine_settings, smtp_sink):
    make_queued_campaign(
        account, ["a@rcpt.example"], preheader="Up to 40% off <today>", text_body="Dear {{ name }}"
    )
    run_batch(engine_settings, account)
    html = sent_html(smtp_sink)
    span = re.search(r'<body style="margin:0"><span class="preheader" style="([^"]*)">([^<]*)</span>', html)
    assert span, html[:400]
    assert "display:none" in span.group(1)
    assert span.group(2) == "Up to 40% off &lt;today&gt;"
    message = email.message_from_bytes(smtp_sink.messages[0].raw, policy=email.policy.default)
    assert "40%" not in message.get_body(("plain",)).get_content()


def test_a_body_written_as_a_whole_document_keeps_its_own_styles_and_gets_the_preheader():
    page = '<html><head><style>p { color: red }</style></head><body class="x"><p>Hi</p></body></html>'
    html = CampaignTemplate("Hi", page, "Hi", "Preview line").render(READER, LINK).html
    assert "email-body" not in html
    assert "<style>p { color: red }</style>" in html
    assert re.search(
        r'<body class="x"><span class="preheader" style="[^"]*">Preview line</span><p>Hi</p>', html
    )


def test_an_unknown_merge_field_is_blank_in_sent_mail(account, engine_settings, smtp_sink):
    make_queued_campaign(account, ["a@rcpt.example"], html_body="<p>Hello {{ compny }}!</p>")
    run_batch(engine_settings, account)
    html = sent_html(smtp_sink)
    assert written_body(html).startswith("<p>Hello !</p>")
    assert "unknown-field" not in html
    assert "compny" not in html
