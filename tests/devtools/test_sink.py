"""`make sink`: a local SMTP server that prints each email it receives, as the README's first campaign
shows."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest

from tests.newcomer import Sink

pytestmark = pytest.mark.processes


def campaign_like_email() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <you@example.com>"
    message["To"] = "ada@example.com"
    message["Subject"] = "Hello Zoë"
    message.set_content("Hi Ada, this is my first campaign.\n")
    message.add_alternative("<p>Hi <b>Ada</b>, this is my first campaign.</p>", subtype="html")
    return message


def test_the_sink_prints_from_to_subject_and_the_text_part_of_each_email(make_sink):
    with smtplib.SMTP("127.0.0.1", make_sink.port, timeout=10) as client:
        client.send_message(campaign_like_email(), to_addrs=["ada@example.com", "alan@example.com"])

    printed = make_sink.read_until("Hi Ada, this is my first campaign.")

    assert printed[0].startswith("── message 1 ──")
    assert "From:    Shop <you@example.com>" in printed
    assert "To:      ada@example.com, alan@example.com" in printed
    assert "Subject: Hello Zoë" in printed
    assert not any("<p>" in line for line in printed)


def test_the_sink_numbers_the_emails_and_says_when_one_has_no_text_part(make_sink):
    html_only = EmailMessage()
    html_only["From"] = "you@example.com"
    html_only["Subject"] = "Only HTML"
    html_only.set_content("<p>hi</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", make_sink.port, timeout=10) as client:
        client.send_message(campaign_like_email(), to_addrs=["ada@example.com"])
        client.send_message(html_only, to_addrs=["grace@example.com"])

    printed = make_sink.read_until("(no plain-text part)")

    assert any(line.startswith("── message 2 ──") for line in printed)


def test_ctrl_c_stops_the_sink_quietly(make_sink):
    make_sink.ctrl_c()
    assert make_sink.ended_within(10)
    assert make_sink.process.returncode == 0
    assert make_sink.errors() == ""


def test_a_port_in_use_gets_a_sentence_naming_another_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = Sink(taken.getsockname()[1])
        try:
            assert process.process.wait(timeout=10) == 1
            error = process.errors()
        finally:
            process.close()
    assert "cannot listen on 127.0.0.1:" in error
    assert "SINK_PORT=2526 make sink" in error
    assert "Traceback" not in error


def test_the_sink_listens_on_loopback_only(make_sink):
    with pytest.raises(OSError):  # noqa: PT011 (refused, unreachable or timed out: any is a pass)
        socket.create_connection((outside_address(), make_sink.port), timeout=2).close()


def outside_address() -> str:
    """An address of this machine other than loopback (skips when it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, a route is chosen
        except OSError:
            pytest.skip("this machine has no address besides loopback")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address besides loopback")
    return address
