"""Talking to an SMTP server: one connection, and every failure reported with the stage it came at.

The stage matters to the classifier: a failure before RCPT concerns the whole account, a RCPT failure
one recipient (DESIGN.md, "Batch sender").
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from app.models import Security


class Stage(StrEnum):
    CONNECT = "connect"
    EHLO = "ehlo"
    STARTTLS = "starttls"
    AUTH = "auth"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"


class SMTPFailure(Exception):
    """A refusal or an error from the server or the network, at a given stage."""

    def __init__(self, stage: Stage, code: int | None, message: str, timed_out: bool = False) -> None:
        super().__init__(f"{code} {message}" if code else message)
        self.stage = stage
        self.code = code
        self.message = message
        self.timed_out = timed_out

    @property
    def reply(self) -> str:
        """The server's reply as the user should see it, or the network error."""
        return str(self)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: float
    ca_file: str = ""


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's trusted roots, plus an operator's own CA for a private relay."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _failure(stage: Stage, error: Exception) -> SMTPFailure:
    if isinstance(error, smtplib.SMTPResponseException):
        return SMTPFailure(stage, error.smtp_code, _reply_text(error.smtp_error))
    if isinstance(error, ssl.SSLCertVerificationError):
        return SMTPFailure(stage, None, f"TLS certificate not trusted: {error.verify_message}")
    if isinstance(error, ssl.SSLError):
        return SMTPFailure(stage, None, f"TLS failed: {error.reason or error}")
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        # smtplib reports a read timeout as "Connection unexpectedly closed: timed out".
        return SMTPFailure(stage, None, "Timed out waiting for the server", timed_out=True)
    if isinstance(error, ConnectionRefusedError):
        return SMTPFailure(stage, None, "Connection refused: nothing is listening at that host and port")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SMTPFailure(stage, None, "The server closed the connection")
    if isinstance(error, socket.gaierror):
        return SMTPFailure(stage, None, f"Host name not found ({error.strerror})")
    return SMTPFailure(stage, None, _reply_text(str(error)) or type(error).__name__)


def open_connection(endpoint: Endpoint) -> smtplib.SMTP:
    """Connect, say EHLO, negotiate TLS as the account asks and log in."""
    stage = Stage.CONNECT
    connection: smtplib.SMTP | None = None
    try:
        if endpoint.security == Security.SSL:
            connection = smtplib.SMTP_SSL(
                endpoint.host, endpoint.port, timeout=endpoint.timeout, context=tls_context(endpoint.ca_file)
            )
        else:
            connection = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
        stage = Stage.EHLO
        connection.ehlo()
        if endpoint.security == Security.STARTTLS:
            stage = Stage.STARTTLS
            if not connection.has_extn("starttls"):
                raise SMTPFailure(stage, None, "The server does not offer STARTTLS on this port")
            connection.starttls(context=tls_context(endpoint.ca_file))
            connection.ehlo()
        if endpoint.username:
            stage = Stage.AUTH
            connection.login(endpoint.username, endpoint.password)
        return connection
    except SMTPFailure:
        close_quietly(connection)
        raise
    except (smtplib.SMTPException, OSError) as error:
        close_quietly(connection)
        raise _failure(stage, error) from error


def send_message(connection: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> None:
    """Send one message to one recipient, turning smtplib's errors into an `SMTPFailure` with its stage."""
    try:
        connection.send_message(message, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise SMTPFailure(Stage.RCPT, code, _reply_text(reply)) from error
    except smtplib.SMTPSenderRefused as error:
        raise _failure(Stage.MAIL, error) from error
    except (smtplib.SMTPException, OSError) as error:
        raise _failure(Stage.DATA, error) from error


def close_quietly(connection: smtplib.SMTP | None) -> None:
    """Say QUIT if the server still listens; a broken connection is simply dropped."""
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
