"""The test SMTP server, seen from the client side with plain smtplib (and once with the app's client)."""

from __future__ import annotations

import smtplib
import ssl
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from app.models import Security
from app.sending.connection import Endpoint, SMTPFailure, Stage, open_connection, run_sync, send_one
from tests.smtp_sink import RATE_LIMITED, SMTPSink

SENDER = "news@example.com"
USER, PASSWORD = "mailer", "s3cret"


def make_message(to: str = "ann@example.com", subject: str = "Hello") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, to, subject
    message.set_content("Hi there.\n")
    return message


def trusting(sink: SMTPSink) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=sink.ca_file)
    return context


def test_accepts_and_records_every_message(smtp_sink: SMTPSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.send_message(make_message("ann@example.com", "First"))
        client.send_message(
            make_message("bob@example.com", "Second"), to_addrs=["bob@example.com", "ann@x.org"]
        )

    first, second = smtp_sink.wait_for(2)
    assert (first.mail_from, first.rcpt_tos, first.message["Subject"]) == (
        SENDER,
        ("ann@example.com",),
        "First",
    )
    assert second.message.get_content() == "Hi there.\r\n"
    assert b"Subject: Second" in second.raw
    assert first.received_monotonic <= second.received_monotonic
    assert second.received_at > 0
    assert smtp_sink.addresses_received() == Counter(
        {"ann@example.com": 1, "bob@example.com": 1, "ann@x.org": 1}
    )
    smtp_sink.clear()
    assert smtp_sink.count == 0
    assert smtp_sink.messages == []


def test_wait_for_fails_with_a_clear_message(smtp_sink: SMTPSink) -> None:
    with pytest.raises(AssertionError, match=r"expected 1 messages within 0.05 s, got 0"):
        smtp_sink.wait_for(1, timeout=0.05)


def test_rate_limits_from_the_third_message_until_the_rule_is_cleared(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.add("DATA", RATE_LIMITED, nth=3)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        for _ in range(2):
            client.send_message(make_message())
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.send_message(make_message())
            assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.7.1 Ratelimit exceeded")
        smtp_sink.script.clear()
        client.send_message(make_message())
    assert smtp_sink.count == 3


def test_a_once_rule_answers_only_the_nth_message_counted_from_when_it_was_set(smtp_sink: SMTPSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.send_message(make_message())
        smtp_sink.script.add("DATA", "452 4.3.1 Insufficient system storage", nth=2, once=True)
        client.send_message(make_message())
        with pytest.raises(smtplib.SMTPDataError, match="452"):
            client.send_message(make_message())
        client.send_message(make_message())
    assert smtp_sink.count == 3


def test_refuses_one_recipient_while_the_others_pass(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.reject_recipients("Gone@example.com")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        refused = client.send_message(
            make_message(), to_addrs=["ann@example.com", "gone@example.com", "bob@x.org"]
        )
    assert refused == {"gone@example.com": (550, b"5.1.1 <gone@example.com>: user unknown")}
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("ann@example.com", "bob@x.org")


@pytest.mark.parametrize("reply", ["450 4.7.1 Error: too much mail", "421 4.7.0 Try again later"])
def test_answers_mail_from_as_scripted(smtp_sink: SMTPSink, reply: str) -> None:
    smtp_sink.script.add("MAIL", reply)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.ehlo()
        code, message = client.mail(SENDER)
        assert f"{code} {message.decode()}" == reply
        if code == 421:  # a 421 means the server closes the connection
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.noop()


def test_dropping_the_connection_at_data_disconnects_the_client(smtp_sink: SMTPSink) -> None:
    smtp_sink.script.drop_connection(nth=2)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.send_message(make_message())
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.send_message(make_message())
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.send_message(make_message())
    assert smtp_sink.count == 2


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_requires_auth_and_refuses_a_wrong_password(
    make_smtp_sink: Callable[..., SMTPSink], mechanism: str
) -> None:
    sink = make_smtp_sink(username=USER, password=PASSWORD)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        assert client.mail(SENDER)[0] == 530
        client.user, client.password = USER, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert refused.value.smtp_code == 535
        client.password = PASSWORD
        client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        client.send_message(make_message())
    assert sink.count == 1


def test_starttls_verifies_with_the_generated_ca(make_smtp_sink: Callable[..., SMTPSink]) -> None:
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username=USER, password=PASSWORD)
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        assert client.mail(SENDER)[0] == 530
        client.starttls(context=trusting(sink))
        client.login(USER, PASSWORD)
        client.send_message(make_message())
    assert sink.count == 1


def test_starttls_fails_for_a_client_that_does_not_trust_the_ca(
    make_smtp_sink: Callable[..., SMTPSink],
) -> None:
    sink = make_smtp_sink(tls="starttls")
    with smtplib.SMTP(sink.host, sink.port) as client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())


def test_implicit_tls_accepts_a_trusting_client(make_smtp_sink: Callable[..., SMTPSink]) -> None:
    sink = make_smtp_sink(tls="implicit", username=USER, password=PASSWORD)
    with smtplib.SMTP_SSL(sink.host, sink.port, context=trusting(sink)) as client:
        client.login(USER, PASSWORD)
        client.send_message(make_message())
    assert sink.count == 1


def test_the_app_client_sends_over_starttls_and_auth(make_smtp_sink: Callable[..., SMTPSink]) -> None:
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username=USER, password=PASSWORD)
    endpoint = Endpoint(sink.host, sink.port, Security.STARTTLS, USER, PASSWORD, 5, sink.ca_file, True)
    run_sync(lambda: send_one(endpoint, make_message(), SENDER, "ann@example.com"))
    assert sink.wait_for(1)[0].rcpt_tos == ("ann@example.com",)

    wrong = Endpoint(sink.host, sink.port, Security.STARTTLS, USER, "wrong", 5, sink.ca_file, True)
    with pytest.raises(SMTPFailure) as refused:
        run_sync(lambda: open_connection(wrong))
    assert (refused.value.stage, refused.value.code) == (Stage.AUTH, 535)


def test_stopping_with_a_client_still_connected_closes_it(make_smtp_sink: Callable[..., SMTPSink]) -> None:
    sink = make_smtp_sink(tls="starttls")
    client = smtplib.SMTP(sink.host, sink.port)
    client.starttls(context=trusting(sink))
    sink.stop()  # and again, harmlessly, at teardown
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    client.close()
