"""Every real bounce, complaint report and auto-reply of the corpus is recognised for what it is, with
the recipient, status code and original Message-ID it carries; replies are told from auto-replies."""

from __future__ import annotations

import email
from email import policy

import pytest

from app.mailbox.classify import classify, is_candidate
from tests.mailbox.corpus import Sample, samples

SAMPLES = samples()


def parsed(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


def test_the_corpus_holds_at_least_forty_real_messages_of_every_kind_with_their_sources():
    assert len(SAMPLES) >= 40
    assert {sample.kind for sample in SAMPLES} == {"bounce", "complaint", "auto_reply"}
    assert all(sample.source.startswith("https://github.com/") for sample in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_each_real_message_is_classified_as_expected(sample: Sample):
    message = parsed(sample.raw)
    finding = classify(message)
    assert is_candidate(message), "its headers alone must make it worth fetching whole"
    assert finding is not None
    assert (finding.kind, finding.address) == (sample.kind, sample.address)
    assert (finding.message_ids[:1] or ("",))[0] == sample.message_id
    if sample.kind == "bounce":
        assert (finding.status_code, finding.hard) == (sample.status, sample.hard)


REPLY = (
    b"From: Reader <reader@rcpt.example>\r\nTo: sender@example.com\r\nSubject: Re: Spring sale\r\n"
    b"In-Reply-To: <1.7@sender.example>\r\nReferences: <1.7@sender.example>\r\n"
    b"Message-ID: <r1@rcpt.example>\r\n\r\n"
    b"Yes please, send me the catalogue.\r\nThanks!\r\n\r\nOn Monday, Sender wrote:\r\n> Dear reader\r\n"
)


def test_a_reply_naming_our_message_is_a_reply_with_its_own_first_lines():
    finding = classify(parsed(REPLY))
    assert finding is not None
    assert finding.kind == "reply"
    assert finding.message_ids == ("<1.7@sender.example>",)
    assert finding.detail == "Yes please, send me the catalogue. Thanks!"


@pytest.mark.parametrize(
    "header",
    [
        b"Auto-Submitted: auto-replied\r\n",
        b"X-Autoreply: yes\r\n",
        b"Subject: Abwesenheitsnotiz\r\n",
        b"Subject: R\xc3\xa9ponse automatique\r\n",
        b"Subject: Respuesta autom\xc3\xa1tica: Spring sale\r\n",
        b"Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSN?=\r\n",
    ],
)
def test_an_out_of_office_answer_is_an_auto_reply_not_a_reply(header: bytes):
    raw = (
        header + REPLY.replace(b"Subject: Re: Spring sale\r\n", b"")
        if b"Subject" in header
        else header + REPLY
    )
    finding = classify(parsed(raw))
    assert finding is not None
    assert finding.kind == "auto_reply"


def test_an_ordinary_message_is_nothing_and_not_worth_fetching_whole():
    message = parsed(
        b"From: friend@example.org\r\nSubject: lunch?\r\nMessage-ID: <x@example.org>\r\n\r\nHi\r\n"
    )
    assert classify(message) is None
    assert not is_candidate(message)
