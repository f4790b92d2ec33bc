"""The test SMTP server answering late or never (`slow`, `hang`, `accept_then_hang`), seen from smtplib."""

from __future__ import annotations

import smtplib
import socket
import time
from email.message import EmailMessage

import pytest

from tests.processes import wait_until
from tests.smtp_sink import SMTPSink

CLIENT_TIMEOUT = 0.5


def make_message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "news@example.com", to, "Hello"
    message.set_content("Hi there.\n")
    return message


def test_a_server_hanging_before_its_greeting_times_the_client_out(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.hang("CONNECT", once=True)
    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=CLIENT_TIMEOUT)
    assert time.monotonic() - started >= CLIENT_TIMEOUT * 0.9
    assert len(smtp_sink.hangs) == 1
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:  # the next one is greeted
        client.send_message(make_message("ann@example.com"))
    assert smtp_sink.count == 1


def test_a_server_hanging_at_data_records_nothing(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.hang("DATA", nth=2, once=True)
    client = smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=CLIENT_TIMEOUT)
    try:
        client.send_message(make_message("ann@example.com"))
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            client.send_message(make_message("bob@example.com"))
    finally:
        client.close()
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("ann@example.com",)]
    assert len(smtp_sink.hangs) == 1


def test_accept_then_hang_records_the_message_but_never_confirms_it(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.accept_then_hang(nth=1)
    client = smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=CLIENT_TIMEOUT)
    try:
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            client.send_message(make_message("ann@example.com"))
    finally:
        client.close()
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("ann@example.com",)]
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as again:
        again.send_message(make_message("ann@example.com"))
    assert smtp_sink.addresses_received()["ann@example.com"] == 2


def test_a_slow_reply_comes_late_and_the_message_is_recorded_on_arrival(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.slow("DATA", 0.6, nth=2)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        client.send_message(make_message("ann@example.com"))
        started = time.monotonic()
        client.send_message(make_message("bob@example.com"))
        answered = time.monotonic()
        client.send_message(make_message("cy@example.com"))
    late = smtp_sink.messages[1]
    assert answered - started >= 0.6
    assert late.received_monotonic < started + 0.5
    assert smtp_sink.count == 3
    assert smtp_sink.hangs == []


def test_a_slow_greeting_comes_late(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.slow("CONNECT", 0.5)
    started = time.monotonic()
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        assert time.monotonic() - started >= 0.5
        client.send_message(make_message("ann@example.com"))
    assert smtp_sink.count == 1


def test_a_refusing_greeting_is_sent_and_the_connection_closed(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.add("CONNECT", "554 5.3.2 Not now", once=True)
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5)
    assert refused.value.smtp_code == 554


def test_a_sink_stops_promptly_with_clients_hanging(make_smtp_sink) -> None:
    sink = make_smtp_sink()
    sink.script.hang("MAIL")
    client = smtplib.SMTP(sink.host, sink.port, timeout=10)
    try:
        client.ehlo()
        client.putcmd("MAIL", "FROM:<news@example.com>")
        wait_until(lambda: len(sink.hangs) == 1, 5, "the sink to go silent")
        started = time.monotonic()
        sink.stop()
        assert time.monotonic() - started < 2
    finally:
        client.close()


def test_messages_are_grouped_by_their_sender(smtp_sink: SMTPSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as client:
        for sender, to in [("a@x.example", "1@r.example"), ("b@x.example", "2@r.example")] * 2:
            client.send_message(make_message(to), from_addr=sender)
    grouped = smtp_sink.by_sender()
    assert {sender: [m.rcpt_tos[0] for m in messages] for sender, messages in grouped.items()} == {
        "a@x.example": ["1@r.example", "1@r.example"],
        "b@x.example": ["2@r.example", "2@r.example"],
    }
