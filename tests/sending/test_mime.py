"""The fast message builder (`app.sending.mime`) writes the message the email package would: every
built message, parsed back with `BytesParser(policy=default)`, has the same headers and the same
decoded parts as the email package's own rendering (`CampaignTemplate.email_message`), over generated
names, subjects and bodies; and it keeps every line within RFC 5322's limits."""

from __future__ import annotations

import email.policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.recipient import Recipient
from app.sending.message import CampaignTemplate, Sender
from app.sending.mime import MAX_LINE, address, encoded_words, mailbox
from tests.builders import make_queued_campaign
from tests.sending.test_batch import emails_of, run_batch

PARSER = BytesParser(policy=email.policy.default)
UNSUBSCRIBE = "https://campaigns.example.org/u/eyJ1IjoxfQ.signature"
MESSAGE_ID = "<20261202.1234@shop.example>"
#: Names, subjects and bodies: any character a spreadsheet can hold, line breaks and 8-bit included.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=120)
BODY = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=1500)
LONG_LINE = st.integers(min_value=0, max_value=2500).map(lambda n: "x" * n)
ADDRESS = st.emails()


def parsed(raw: bytes) -> EmailMessage:
    return PARSER.parsebytes(raw)


def content(message: EmailMessage) -> list[tuple[str, str]]:
    return [
        (part.get_content_type(), part.get_content().replace("\r\n", "\n")) for part in message.iter_parts()
    ]


def display_name(message: EmailMessage, name: str) -> str:
    """The display name as RFC 2047 reads it. The email package's parser puts a space between two
    adjacent encoded words of a phrase, which the RFC says to ignore (its own output reads back wrong
    too), so a name encoded in several words is decoded from the raw header."""
    raw = dict(message.raw_items())[name]
    phrase = raw.rpartition("<")[0].strip()
    if "=?" not in phrase:
        return message[name].addresses[0].display_name
    return str(make_header(decode_header(" ".join(phrase.split()))))


def assert_same_message(new: EmailMessage, old: EmailMessage, subject: str, names: dict[str, str]) -> None:
    """`new` is `old`, but for the subject and display names, compared with what they were built from:
    the email package folds a long subject before its first word, which reads back with a space."""
    assert new["Subject"] == " ".join(subject.split())
    for name in ("Reply-To", "Message-ID", "List-Unsubscribe-Post", "MIME-Version"):
        assert new[name] == old[name], name
    for name, expected in names.items():
        assert display_name(new, name) == " ".join(expected.split()), name
        assert new[name].addresses[0].addr_spec == old[name].addresses[0].addr_spec, name
    assert "".join(new["List-Unsubscribe"].split()) == old["List-Unsubscribe"]
    assert abs(parsedate_to_datetime(new["Date"]) - parsedate_to_datetime(old["Date"])).total_seconds() <= 1
    assert new.get_content_type() == old.get_content_type() == "multipart/alternative"
    assert content(new) == content(old)


def assert_within_limits(raw: bytes) -> None:
    assert raw.isascii(), "an ASCII-only message needs no 8BITMIME or SMTPUTF8"
    assert max(len(line) for line in raw.split(b"\r\n")) <= MAX_LINE
    assert b"\n" not in raw.replace(b"\r\n", b"")


def both(template: CampaignTemplate, sender: Sender, recipient: Recipient, url: str = UNSUBSCRIBE):
    raw = template.build(sender, recipient, url, MESSAGE_ID)
    return raw, parsed(raw), parsed(template.email_message(sender, recipient, url, MESSAGE_ID).as_bytes())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=TEXT,
    sender_name=TEXT,
    reply_to=st.one_of(st.just(""), ADDRESS),
    name=TEXT,
    to=ADDRESS,
    body=BODY,
    text_body=st.one_of(st.just(""), BODY),
)
def test_the_message_is_the_one_the_email_package_builds(
    subject, sender_name, reply_to, name, to, body, text_body
):
    template = CampaignTemplate("{{ subject }}", "<p>{{ body }}</p>", "{{ text }}" if text_body else "")
    recipient = Recipient(to, name, {"subject": subject, "body": body, "text": text_body})
    raw, new, old = both(template, Sender("shop@shop.example", sender_name, reply_to), recipient)
    assert_same_message(new, old, subject, {"From": sender_name, "To": name})
    assert_within_limits(raw)


@settings(max_examples=50, deadline=None)
@given(line=LONG_LINE, url_length=st.integers(min_value=10, max_value=3000))
def test_long_lines_and_long_unsubscribe_links_stay_within_the_line_limit(line, url_length):
    template = CampaignTemplate("{{ line }}", "<p>{{ line }}</p>", "{{ line }}")
    url = "https://campaigns.example.org/u/" + "a" * url_length
    raw, new, old = both(
        template, Sender("shop@shop.example"), Recipient("r@rcpt.example", "R", {"line": line}), url
    )
    assert_same_message(new, old, line, {"From": "", "To": "R"})
    assert_within_limits(raw)


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("Plain ASCII, short lines.", "7bit"),
        ("Grüße aus Köln, à bientôt.", "quoted-printable"),
        ("日本語のニュースレターです。" * 20, "base64"),
        ("x" * 1200, "quoted-printable"),
    ],
)
def test_each_body_gets_the_encoding_its_content_needs(body, encoding):
    template = CampaignTemplate("Hi", "<p>{{ body }}</p>", "{{ body }}")
    raw = template.build(
        Sender("shop@shop.example"), Recipient("r@rcpt.example", "", {"body": body}), UNSUBSCRIBE
    )
    text, _html = parsed(raw).iter_parts()
    assert text["Content-Transfer-Encoding"] == encoding
    assert text.get_content().startswith(body)


def test_a_non_ascii_subject_is_encoded_words_that_read_back_whole():
    subject = "Ünïcode ✓ " * 12
    header = encoded_words(subject)
    assert all(len(word.strip()) <= 75 for word in header.split("\r\n"))
    template = CampaignTemplate(subject, "<p>Hi</p>")
    raw = template.build(Sender("shop@shop.example"), Recipient("r@rcpt.example", "", {}), UNSUBSCRIBE)
    assert parsed(raw)["Subject"] == " ".join(subject.split())


@pytest.mark.parametrize(
    "spec",
    [
        "victim@rcpt.example\r\nBcc: all@else.example",
        "a@b.example\nX: y",
        "two@a.example, three@b.example",
        "no-at-sign",
    ],
)
def test_an_address_that_is_not_one_address_is_refused(spec):
    with pytest.raises(ValueError, match=r"(is not an email address|may not contain a line break)$"):
        address(spec)


def test_a_line_break_in_a_message_id_or_link_is_refused():
    template = CampaignTemplate("Hi", "<p>Hi</p>")
    sender, recipient = Sender("shop@shop.example"), Recipient("r@rcpt.example", "", {})
    with pytest.raises(ValueError, match=r"may not contain a line break$"):
        template.build(sender, recipient, UNSUBSCRIBE, "<id@shop.example>\r\nBcc: x@y.example")
    with pytest.raises(ValueError, match=r"may not contain a line break$"):
        template.build(sender, recipient, UNSUBSCRIBE + "\r\nBcc: x@y.example")


def test_names_with_specials_are_quoted_and_domains_go_out_in_idna():
    assert mailbox('Doe, "Jo"', "jo@rcpt.example") == '"Doe, \\"Jo\\"" <jo@rcpt.example>'
    assert address("jo@bücher.example") == "jo@xn--bcher-kva.example"


def test_an_international_address_goes_out_with_smtputf8_when_the_server_offers_it(
    account, engine_settings, make_smtp_sink
):
    smtputf8_sink = make_smtp_sink(smtputf8=True)
    account.port = smtputf8_sink.port
    db.session.commit()
    make_queued_campaign(account, ["jürgen@rcpt.example"])
    run_batch(engine_settings, account)
    received = smtputf8_sink.messages[0]
    assert received.rcpt_tos == ("jürgen@rcpt.example",)
    assert "<jürgen@rcpt.example>\r\n".encode() in received.raw  # RFC 6532: UTF-8 in the header


def test_an_international_address_fails_alone_on_a_server_without_smtputf8(
    account, engine_settings, smtp_sink
):
    campaign = make_queued_campaign(account, ["jürgen@rcpt.example", "plain@rcpt.example"])
    run_batch(engine_settings, account)
    international, plain = emails_of(campaign)
    assert international.status == "failed"
    assert "SMTPUTF8" in international.last_smtp_message
    assert plain.status == "sent"
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("plain@rcpt.example",)]
