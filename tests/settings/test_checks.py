"""Can I check my SMTP account from the page: test the connection, send myself a test email?"""

import socket
import time
from collections.abc import Iterator

import pytest

from app.sending.connection import NO_SMTP_SERVER, Endpoint, SMTPFailure, Stage
from app.settings.checks import failure_message
from tests.conftest import post_form
from tests.services import free_port
from tests.settings.conftest import SMTP_PASSWORD, accounts

LOGIN = "asha@example.com"


@pytest.fixture
def trust_sink_ca(app, smtp_tls_files):
    app.config["SMTP_TLS_CA_FILE"] = smtp_tls_files.ca_file


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield listener.getsockname()[1]


def try_connection(submit_smtp, sink, **changes):
    return submit_smtp(url="/settings/smtp/test", host=sink.host, port=str(sink.port), **changes)


def flashed(response) -> str:
    return response.get_data(as_text=True)


def test_connection_succeeds_with_starttls_and_login(
    client, logged_in, submit_smtp, make_smtp_sink, trust_sink_ca
):
    """Does “Test connection” log in through STARTTLS and tell me what the server said?"""
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username=LOGIN, password=SMTP_PASSWORD)
    response = try_connection(submit_smtp, sink, security="starttls")
    assert response.status_code == 200
    assert f"Connected to 127.0.0.1:{sink.port} over TLSv1.3 and logged in as {LOGIN}." in flashed(response)
    assert "The server said: 250 localhost" in flashed(response)
    assert accounts() == [], "testing saves nothing"


def test_connection_succeeds_with_implicit_tls(client, logged_in, submit_smtp, make_smtp_sink, trust_sink_ca):
    sink = make_smtp_sink(tls="implicit", username=LOGIN, password=SMTP_PASSWORD)
    response = try_connection(submit_smtp, sink, security="ssl")
    assert f"Connected to 127.0.0.1:{sink.port} over TLSv1.3 and logged in as {LOGIN}." in flashed(response)


def test_wrong_password_shows_the_servers_reply(client, logged_in, submit_smtp, make_smtp_sink):
    sink = make_smtp_sink(username=LOGIN, password=SMTP_PASSWORD)
    response = try_connection(submit_smtp, sink, security="none", password="wrong-password")
    assert f"Authentication failed at 127.0.0.1:{sink.port}: 535 5.7.8 Authentication failed" in flashed(
        response
    )


def test_nothing_listening_says_no_smtp_server_answered(client, logged_in, submit_smtp):
    port = free_port()
    response = submit_smtp(url="/settings/smtp/test", host="127.0.0.1", port=str(port))
    assert f"Could not connect to 127.0.0.1:{port}: {NO_SMTP_SERVER}" in flashed(response)


def test_silent_server_gives_up_after_smtp_timeout(app, client, logged_in, submit_smtp, silent_server):
    app.config["SMTP_TIMEOUT"] = 0.3
    started = time.monotonic()
    response = submit_smtp(url="/settings/smtp/test", host="127.0.0.1", port=str(silent_server))
    assert time.monotonic() - started < 2
    assert f"Could not connect to 127.0.0.1:{silent_server}: {NO_SMTP_SERVER}" in flashed(response)


def test_server_requiring_tls_explains_what_to_choose(client, logged_in, submit_smtp, make_smtp_sink):
    """I picked “None” but the server wants TLS: am I told what to change?"""
    sink = make_smtp_sink(tls="starttls", require_starttls=True, username=LOGIN, password=SMTP_PASSWORD)
    response = try_connection(submit_smtp, sink, security="none")
    page = flashed(response)
    assert f"Authentication failed at 127.0.0.1:{sink.port}" in page
    assert "The server offers login only over TLS: choose STARTTLS or SSL/TLS." in page


def test_starttls_against_a_server_without_it(client, logged_in, submit_smtp, smtp_sink):
    response = try_connection(submit_smtp, smtp_sink, security="starttls", username="")
    assert "The server does not offer STARTTLS on this port" in flashed(response)


def test_untrusted_certificate_is_reported(client, logged_in, submit_smtp, make_smtp_sink):
    sink = make_smtp_sink(tls="starttls", username=LOGIN, password=SMTP_PASSWORD)
    response = try_connection(submit_smtp, sink, security="starttls")
    page = flashed(response)
    assert f"TLS could not be negotiated with 127.0.0.1:{sink.port}: TLS certificate not trusted" in page


def test_connection_uses_the_saved_password_when_left_blank(client, logged_in, submit_smtp, make_smtp_sink):
    sink = make_smtp_sink(username=LOGIN, password=SMTP_PASSWORD)
    submit_smtp(host=sink.host, port=str(sink.port), security="none")
    response = try_connection(submit_smtp, sink, security="none", password="", from_name="Draft")
    assert f"logged in as {LOGIN}" in flashed(response)
    assert accounts()[0].from_name == "Asha from Spice Co", "testing saves nothing"


def test_invalid_form_is_not_tested(client, logged_in, submit_smtp):
    response = submit_smtp(url="/settings/smtp/test", port="0")
    assert "Enter a port between 1 and 65535." in flashed(response)
    assert "Nothing was tested: please correct the fields marked below." in flashed(response)
    assert "Could not connect" not in flashed(response)


def test_microsoft_basic_auth_refusal_comes_with_advice():
    failure = SMTPFailure(
        Stage.AUTH, 550, "5.7.30 Basic authentication is not supported for Client Submission."
    )
    endpoint = Endpoint("smtp.office365.com", 587, "starttls", "asha@example.com", "pw", 30)
    message = failure_message(failure, endpoint)
    assert message.startswith(
        "Authentication failed at smtp.office365.com:587: 550 5.7.30 Basic authentication"
    )
    assert "ask your administrator to allow SMTP AUTH for the mailbox" in message


def send_test_email(client):
    return post_form(client, "/settings/smtp/send-test", {}, follow_redirects=True)


def test_send_test_email_reaches_my_own_address(
    client, logged_in, submit_smtp, make_smtp_sink, trust_sink_ca
):
    """Does “Send test email” send me a real message through the saved account?"""
    sink = make_smtp_sink(tls="starttls", username=LOGIN, password=SMTP_PASSWORD)
    submit_smtp(host=sink.host, port=str(sink.port), reply_to="replies@example.com")
    response = send_test_email(client)
    assert f"Test email sent to {logged_in.email} through 127.0.0.1." in flashed(response)
    [received] = sink.wait_for(1)
    assert received.rcpt_tos == (logged_in.email,)
    assert received.mail_from == "asha@example.com"
    message = received.message
    assert message["From"] == "Asha from Spice Co <asha@example.com>"
    assert message["Reply-To"] == "replies@example.com"
    assert message["Message-ID"].endswith("@example.com>")
    assert "test email" in message.get_content()
    assert accounts()[0].last_verified_at is not None


def test_send_test_email_reports_the_refusal(client, logged_in, submit_smtp, smtp_sink):
    smtp_sink.script.add("MAIL", "553 5.7.1 Sender address rejected: not owned by user")
    submit_smtp(host=smtp_sink.host, port=str(smtp_sink.port), security="none", username="", password="")
    page = flashed(send_test_email(client))
    assert (
        "The server refused the sender address: 553 5.7.1 Sender address rejected: not owned by user" in page
    )
    assert accounts()[0].last_verified_at is None


def test_send_test_email_needs_a_saved_account(client, logged_in):
    assert "Save your SMTP account first." in flashed(send_test_email(client))
