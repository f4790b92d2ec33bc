"""Where and how to reach an account's mailbox, and a logged-in IMAP session with every failure told
in words a user can act on (wrong password, no such host, no answer, TLS refused).

`imap-tools` speaks the protocol; this module only chooses the class for the security mode, checks the
destination as the SMTP side does (`app.sending.destinations`) and translates its errors.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError

from app.models import Security, SMTPSettings
from app.sending.connection import Reachable, tls_context
from app.sending.destinations import refusal

#: IMAP hosts of the providers with an SMTP preset (app.settings.presets): SMTP host → IMAP host.
IMAP_HOSTS = {
    "smtp.gmail.com": "imap.gmail.com",
    "smtp.office365.com": "outlook.office365.com",
    "smtp.hostinger.com": "imap.hostinger.com",
    "smtp.zoho.com": "imap.zoho.com",
}


class MailboxFailure(Exception):
    """The mailbox could not be read; the message says why, for the user."""


@dataclass(frozen=True)
class MailboxEndpoint:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: float
    ca_file: str = ""
    allow_private_hosts: bool = False


def imap_host_for(smtp_host: str) -> str:
    """The IMAP host that goes with an SMTP host: a known provider's, else `imap.` in place of `smtp.`."""
    host = smtp_host.lower()
    if host in IMAP_HOSTS:
        return IMAP_HOSTS[host]
    return "imap." + host.removeprefix("smtp.")


class MailboxSettings(Reachable, Protocol):
    """A mailbox's own settings (where its server is and how to log in, as an SMTP account's): a saved
    `MailboxAccount`, or a form's values not yet saved."""

    @property
    def smtp_account(self) -> SMTPSettings: ...


def endpoint_for(
    mailbox: MailboxSettings,
    decrypt: Callable[[bytes], str],
    timeout: float,
    ca_file: str = "",
    allow_private_hosts: bool = False,
) -> MailboxEndpoint:
    """The mailbox's settings, a blank host, login or password taken from its SMTP account."""
    smtp = mailbox.smtp_account
    password_token = mailbox.password_encrypted or smtp.password_encrypted
    return MailboxEndpoint(
        host=mailbox.host or imap_host_for(smtp.host),
        port=mailbox.port,
        security=mailbox.security,
        username=mailbox.username or smtp.username,
        password=decrypt(password_token) if password_token else "",
        timeout=timeout,
        ca_file=ca_file,
        allow_private_hosts=allow_private_hosts,
    )


def open_mailbox(endpoint: MailboxEndpoint) -> BaseMailBox:
    """A logged-in session, no folder selected; raises `MailboxFailure` with the reason in words."""
    where = f"{endpoint.host}:{endpoint.port}"
    check_destination(endpoint)
    try:
        box = client(endpoint)
    except socket.gaierror:
        raise MailboxFailure(f"No such host: {endpoint.host} could not be found in DNS.") from None
    except TimeoutError:
        raise MailboxFailure(f"No answer from {where} within {endpoint.timeout:g} seconds.") from None
    except ssl.SSLError as error:
        raise MailboxFailure(f"TLS failed with {where}: {tls_reason(error)}") from None
    except ConnectionRefusedError:
        raise MailboxFailure(f"Could not connect to {where}: the connection was refused.") from None
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as error:
        raise MailboxFailure(f"Could not connect to {where}: {error}") from None
    try:
        box.login(endpoint.username, endpoint.password, initial_folder=None)
    except MailboxLoginError:
        close_quietly(box)
        raise MailboxFailure(
            f"{endpoint.host} refused the login for {endpoint.username}: check the login and password "
            "(Gmail and Outlook need an app password)."
        ) from None
    except TimeoutError:
        close_quietly(box)
        raise MailboxFailure(f"No answer from {where} within {endpoint.timeout:g} seconds.") from None
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as error:
        close_quietly(box)
        raise MailboxFailure(f"{endpoint.host} refused the login: {error}") from None
    return box


def client(endpoint: MailboxEndpoint) -> BaseMailBox:
    if endpoint.security == Security.SSL:
        return MailBox(endpoint.host, endpoint.port, timeout=endpoint.timeout, ssl_context=context(endpoint))
    if endpoint.security == Security.STARTTLS:
        return MailBoxStartTls(
            endpoint.host, endpoint.port, timeout=endpoint.timeout, ssl_context=context(endpoint)
        )
    return MailBoxUnencrypted(endpoint.host, endpoint.port, timeout=endpoint.timeout)


def context(endpoint: MailboxEndpoint) -> ssl.SSLContext:
    return tls_context(endpoint.ca_file)


def check_destination(endpoint: MailboxEndpoint) -> None:
    """Refuse loopback and private addresses unless the operator allows them, as for SMTP."""
    if endpoint.allow_private_hosts:
        return
    try:
        addresses = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise MailboxFailure(f"No such host: {endpoint.host} could not be found in DNS.") from None
    refused = refusal(endpoint.host, [str(address[4][0]) for address in addresses])
    if refused:
        raise MailboxFailure(f"Not connecting: {refused}.")


def tls_reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the server's certificate is not trusted ({error.verify_message})."
    return (
        f"{error.reason or error} (is the port right for the security chosen? 993 is SSL/TLS, 143 STARTTLS)."
    )


def close_quietly(box: BaseMailBox) -> None:
    try:
        box.logout()
    except Exception:  # a dropped session cannot log out: close its socket all the same
        with contextlib.suppress(OSError):
            box.client.shutdown()
