"""“Test connection” and “Send test email”: talk to the user's SMTP server now and report what it said.

Both use the engine's own connection code, so a check that passes here means the engine can connect
the same way. Neither holds a database transaction while the server is talking (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from app import clock
from app.extensions import db
from app.models import Security, SMTPSettings
from app.sending.advice import advice_for
from app.sending.connection import (
    NO_AUTH_OFFERED,
    Endpoint,
    SMTPFailure,
    Stage,
    close_quietly,
    open_connection,
    run_sync,
    send_one,
)

TEST_SUBJECT = "Test email from your campaign manager"
TEST_BODY = (
    "This is a test email sent through the SMTP account saved in your campaign manager's settings.\n"
    "It arrived, so your campaigns can be sent through this account.\n"
)

FAILURE_HEADLINES = {
    Stage.CONNECT: "Could not connect to {host}:{port}",
    Stage.EHLO: "The server at {host}:{port} refused the greeting",
    Stage.STARTTLS: "TLS could not be negotiated with {host}:{port}",
    Stage.AUTH: "Authentication failed at {host}:{port}",
    Stage.MAIL: "The server refused the sender address",
    Stage.RCPT: "The server refused the recipient",
    Stage.DATA: "The server refused the test email",
}


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def failure_message(failure: SMTPFailure, endpoint: Endpoint) -> str:
    """What went wrong, in words, followed by the server's exact reply or the network error."""
    headline = FAILURE_HEADLINES[failure.stage].format(host=endpoint.host, port=endpoint.port)
    detail = failure.reply
    if failure.timed_out and failure.stage is not Stage.CONNECT:
        detail = f"no answer within {endpoint.timeout:g} seconds (SMTP_TIMEOUT)"
    elif failure.message == NO_AUTH_OFFERED and endpoint.security == Security.NONE:
        detail += " The server offers login only over TLS: choose STARTTLS or SSL/TLS."
    elif (meaning := advice_for(failure.reply)) is not None:
        detail = f"{detail} — {meaning}"
    return f"{headline}: {detail}"


def session_summary(connection: aiosmtplib.SMTP, endpoint: Endpoint) -> str:
    """How the session went: TLS version, login, and the server's own greeting line."""
    parts = [f"Connected to {endpoint.host}:{endpoint.port}"]
    tls = connection.get_transport_info("ssl_object")
    if tls is not None:
        parts.append(f"over {tls.version()}")
    parts.append(f"and logged in as {endpoint.username}" if endpoint.username else "without logging in")
    ehlo = connection.last_ehlo_response
    greeting = ehlo.message.splitlines() if ehlo else []
    summary = " ".join(parts) + "."
    return f"{summary} The server said: 250 {greeting[0]}" if greeting else summary


def check_connection(endpoint: Endpoint) -> CheckResult:
    """Connect, negotiate TLS and log in as the form says, then hang up; nothing is saved."""
    db.session.commit()  # end the read transaction before the network wait

    async def talk() -> str:
        connection = await open_connection(endpoint)
        try:
            return session_summary(connection, endpoint)
        finally:
            await close_quietly(connection)

    try:
        return CheckResult(True, run_sync(talk))
    except SMTPFailure as failure:
        return CheckResult(False, failure_message(failure, endpoint))


def sample_message(account: SMTPSettings, recipient: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(account.from_name, addr_spec=account.from_address)
    message["To"] = recipient
    if account.reply_to:
        message["Reply-To"] = account.reply_to
    message["Subject"] = TEST_SUBJECT
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=account.from_address.rpartition("@")[2])
    message.set_content(TEST_BODY)
    return message


def send_test_email(account: SMTPSettings, endpoint: Endpoint, recipient: str) -> CheckResult:
    """Send a short message to `recipient` through the saved account; success marks it verified."""
    message = sample_message(account, recipient)
    sender = account.from_address
    db.session.commit()  # end the read transaction before the network wait
    try:
        run_sync(lambda: send_one(endpoint, message, sender, recipient))
    except SMTPFailure as failure:
        return CheckResult(False, failure_message(failure, endpoint))
    account.last_verified_at = clock.utcnow()
    return CheckResult(True, f"Test email sent to {recipient} through {endpoint.host}. Check that inbox.")
