"""Talking to an SMTP server: one asyncio connection, and every failure reported with the stage it came at.

The stage matters to the classifier: a failure before RCPT concerns the whole account, a RCPT failure
one recipient (DESIGN.md, "Batch sender"). MAIL, RCPT and DATA are sent as separate commands, so a
refusal or a dropped connection is reported at the stage it really came at.

The connection is asyncio (aiosmtplib): one worker process keeps the connections of all its sending
accounts open at once, each waiting out its account's interval without a thread. Pages that talk to a
server once (Test connection, Send test email) use the same code through `run_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from functools import lru_cache
from typing import Protocol, TypeVar

import aiosmtplib

from app.models import Security
from app.sending.destinations import refusal
from app.sending.mime import address, needs_smtputf8
from app.sending.replies import smtp_reply
from app.sending.smtp_data import OpenData, start_data

T = TypeVar("T")


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
        super().__init__(smtp_reply(code, message))
        self.stage = stage
        self.code = code
        self.message = message
        self.timed_out = timed_out

    @property
    def reply(self) -> str:
        """The server's reply as the user should see it, or the network error."""
        return str(self)


#: What the server said when it offers no login on a connection without TLS.
NO_AUTH_OFFERED = "The server does not offer login (AUTH) on this connection"
#: The reply given for an address with non-ASCII characters before the @ when the server has no SMTPUTF8.
UTF8_REFUSED = (
    "5.6.7 This address has non-ASCII characters before the @, and your SMTP server does not support "
    "SMTPUTF8 (international addresses), so it cannot be sent there"
)
#: Refused, silent, or closed before greeting: which of them is not said, so that "Test connection"
#: cannot be used to tell open, closed and filtered ports apart.
NO_SMTP_SERVER = "No SMTP server answered at that host and port"
#: What answered does not speak SMTP (an SSH or HTTP server): its words are not repeated.
NOT_SMTP = "What answered at that host and port is not an SMTP server"
#: The greetings RFC 5321 allows (4.3.2): ready, closing, and "no SMTP service here".
SMTP_GREETINGS = {220, 421, 554}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: float
    ca_file: str = ""
    #: Whether loopback, link-local and private addresses may be connected to (`app.sending.destinations`).
    allow_private_hosts: bool = False


class HasEndpointSettings(Protocol):
    @property
    def smtp_timeout(self) -> float: ...
    @property
    def smtp_ca_file(self) -> str: ...
    @property
    def smtp_allow_private_hosts(self) -> bool: ...


class Reachable(Protocol):
    """Where an SMTP account's server is and how to log in (an `SMTPSettings` or a row of its columns)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def security(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def password_encrypted(self) -> bytes | None: ...


def endpoint_for(
    account: Reachable, settings: HasEndpointSettings, decrypt: Callable[[bytes], str]
) -> Endpoint:
    """How to reach the account's server; `decrypt` turns the stored password into the plain one (and
    raises if it can't be read)."""
    return Endpoint(
        host=account.host,
        port=account.port,
        security=account.security,
        username=account.username,
        password=decrypt(account.password_encrypted) if account.password_encrypted else "",
        timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
        allow_private_hosts=settings.smtp_allow_private_hosts,
    )


@lru_cache(maxsize=8)
def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's trusted roots, plus an operator's own CA for a private relay (made once: loading
    the roots costs milliseconds and a few hundred kilobytes, too much for each of a thousand accounts)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from (aiosmtplib wraps the network's own errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _speaks_smtp(stage: Stage, error: aiosmtplib.SMTPResponseException) -> bool:
    """A reply line that is not SMTP at all, or a greeting no SMTP server gives."""
    if error.code == aiosmtplib.SMTPStatus.invalid_response:
        return False
    return stage is not Stage.CONNECT or error.code in SMTP_GREETINGS


def _failure(stage: Stage, error: BaseException) -> SMTPFailure:
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, aiosmtplib.SMTPResponseException):
            if not _speaks_smtp(stage, cause):
                return SMTPFailure(stage, None, NOT_SMTP)
            return SMTPFailure(stage, cause.code, _reply_text(cause.message))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SMTPFailure(stage, None, f"TLS certificate not trusted: {cause.verify_message}")
        if isinstance(cause, ssl.SSLError):
            return SMTPFailure(stage, None, f"TLS failed: {cause.reason or cause}")
        if isinstance(cause, socket.gaierror):
            return SMTPFailure(stage, None, f"Host name not found ({cause.strerror})")
    timed_out = any(isinstance(cause, TimeoutError) for cause in causes)
    if stage is Stage.CONNECT:
        return SMTPFailure(stage, None, NO_SMTP_SERVER, timed_out=timed_out)
    if timed_out:
        return SMTPFailure(stage, None, "Timed out waiting for the server", timed_out=True)
    if isinstance(error, aiosmtplib.SMTPServerDisconnected | ConnectionError):
        return SMTPFailure(stage, None, "The server closed the connection")
    return SMTPFailure(stage, None, _reply_text(str(error)) or type(error).__name__)


@lru_cache(maxsize=1)
def local_hostname() -> str:
    """The name we give in EHLO, looked up once per process rather than once per connection."""
    return socket.getfqdn()


SMTPErrors = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)


async def _resolve(endpoint: Endpoint) -> list[tuple[int, tuple]]:
    """The host's addresses (family, socket address), each once, in the resolver's order; an address
    typed as one is used as it is, with no look-up (and no thread hop to the resolver)."""
    with contextlib.suppress(ValueError):
        literal = ipaddress.ip_address(endpoint.host)
        if literal.version == 4:
            return [(socket.AF_INET, (endpoint.host, endpoint.port))]
        return [(socket.AF_INET6, (endpoint.host, endpoint.port, 0, 0))]
    loop = asyncio.get_running_loop()
    found = await asyncio.wait_for(
        loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM), endpoint.timeout
    )
    return list(dict.fromkeys((family, address) for family, _, _, _, address in found))


async def connected_socket(endpoint: Endpoint) -> socket.socket:
    """A TCP connection to one of the host's addresses, all of them checked against the operator's rule
    first (`app.sending.destinations`); the socket connects to the address checked, not to the name, so
    the name cannot resolve elsewhere in between."""
    try:
        addresses = await _resolve(endpoint)
    except (OSError, TimeoutError) as unresolved:
        raise _failure(Stage.CONNECT, unresolved) from unresolved
    refused = None if endpoint.allow_private_hosts else refusal(endpoint.host, [a[0] for _, a in addresses])
    if refused:
        raise SMTPFailure(Stage.CONNECT, None, refused)
    loop = asyncio.get_running_loop()
    error: OSError | TimeoutError = ConnectionRefusedError()
    for family, socket_address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        # A message's final "." goes out alone, after its body (`app.sending.smtp_data`): with Nagle's
        # algorithm it would wait for the server's delayed ACK of the body, 40 ms a message.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, socket_address), endpoint.timeout)
        except (OSError, TimeoutError) as failed:
            sock.close()
            error = failed
            continue
        return sock
    raise _failure(Stage.CONNECT, error) from error


async def open_connection(endpoint: Endpoint) -> aiosmtplib.SMTP:
    """Connect, say EHLO, negotiate TLS as the account asks and log in."""
    sock = await connected_socket(endpoint)
    connection = aiosmtplib.SMTP(
        hostname=endpoint.host,
        sock=sock,
        local_hostname=local_hostname(),
        timeout=endpoint.timeout,
        use_tls=endpoint.security == Security.SSL,
        start_tls=False,
        tls_context=tls_context(endpoint.ca_file),
    )
    stage = Stage.CONNECT
    try:
        await connection.connect()
        stage = Stage.EHLO
        await connection.ehlo()
        if endpoint.security == Security.STARTTLS:
            stage = Stage.STARTTLS
            if not connection.supports_extension("starttls"):
                raise SMTPFailure(stage, None, "The server does not offer STARTTLS on this port")
            await connection.starttls(tls_context=tls_context(endpoint.ca_file))
            await connection.ehlo()
        if endpoint.username:
            stage = Stage.AUTH
            if not connection.supports_extension("auth"):
                raise SMTPFailure(stage, None, NO_AUTH_OFFERED)
            await connection.login(endpoint.username, endpoint.password)
        return connection
    except SMTPFailure:
        await _drop(connection)
        raise
    except SMTPErrors as error:
        await _drop(connection)
        raise _failure(stage, error) from error
    finally:
        if not connection.is_connected:
            sock.close()


def message_bytes(message: EmailMessage | bytes) -> bytes:
    return message if isinstance(message, bytes) else message.as_bytes()


async def send_message(
    connection: aiosmtplib.SMTP, message: EmailMessage | bytes, sender: str, recipient: str
) -> None:
    """Send one message to one recipient; a refusal is an `SMTPFailure` with the stage it came at, and
    a connection still open is reset for the next message."""
    data = await start_message(connection, message, sender, recipient)
    await end_message(connection, data)


async def start_message(
    connection: aiosmtplib.SMTP, message: EmailMessage | bytes, sender: str, recipient: str
) -> OpenData:
    """MAIL, RCPT, DATA and the message but its final `.` (`app.sending.smtp_data`): the server has it
    and waits for `end_message`, or for `OpenData.abandon` to drop it. Failures as `send_message`."""
    sender, recipient = address(sender), address(recipient)
    options, encoding = _envelope_options(connection, sender, recipient)
    stage = Stage.MAIL
    try:
        await _mail_from(connection, sender, options, encoding)
        stage = Stage.RCPT
        await _rcpt_to(connection, recipient, encoding)
        stage = Stage.DATA
        return await start_data(connection, message_bytes(message))
    except SMTPErrors as error:
        raise await _refused(connection, stage, error) from error


async def _mail_from(connection: aiosmtplib.SMTP, sender: str, options: list[str], encoding: str) -> None:
    """MAIL FROM for an address `address` has checked: aiosmtplib's `mail` would parse it again with the
    email package (`quote_address`), which cost more of the worker's CPU than the command itself."""
    response = await connection.execute_command(
        b"MAIL", b"FROM:<" + sender.encode(encoding) + b">", *(option.encode("ascii") for option in options)
    )
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)


async def _rcpt_to(connection: aiosmtplib.SMTP, recipient: str, encoding: str) -> None:
    """RCPT TO for an address `address` has checked (as `_mail_from`, without aiosmtplib's parsing)."""
    response = await connection.execute_command(b"RCPT", b"TO:<" + recipient.encode(encoding) + b">")
    if response.code not in (aiosmtplib.SMTPStatus.completed, aiosmtplib.SMTPStatus.will_forward):
        raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)


async def end_message(connection: aiosmtplib.SMTP, data: OpenData) -> None:
    """End the message `start_message` sent: the server's 250, or an `SMTPFailure` at DATA."""
    try:
        await data.end()
    except SMTPErrors as error:
        raise await _refused(connection, Stage.DATA, error) from error


async def _refused(connection: aiosmtplib.SMTP, stage: Stage, error: BaseException) -> SMTPFailure:
    """The failure to raise for `error`, after resetting a connection the server keeps open."""
    failure = _failure(stage, error)
    if connection.is_connected and failure.code is not None:
        await _reset(connection)
    return failure


def _envelope_options(connection: aiosmtplib.SMTP, *addresses: str) -> tuple[list[str], str]:
    """SMTPUTF8 when an address has a non-ASCII local part (RFC 6531); a server that does not offer it
    refuses the recipient as an SMTPUTF8 server would (553 5.6.7)."""
    if not any(needs_smtputf8(spec) for spec in addresses):
        return [], "ascii"
    if not connection.supports_extension("smtputf8"):
        raise SMTPFailure(Stage.RCPT, 553, UTF8_REFUSED)
    return ["SMTPUTF8"], "utf-8"


async def _reset(connection: aiosmtplib.SMTP) -> None:
    """RSET after a refusal, so the next MAIL starts a new transaction; a server that does not answer
    it is left for the caller's next command to find closed."""
    try:
        await connection.rset()
    except SMTPErrors:
        await _drop(connection)


async def close_quietly(connection: aiosmtplib.SMTP | None) -> None:
    """Say QUIT if the server still listens, then drop the socket at once: after QUIT there is nothing
    to wait for, not even TLS's close-notify (a loop closed right after would leave the socket open)."""
    if connection is None:
        return
    transport = connection.transport  # QUIT forgets it, and would leave a TLS socket half closed
    if connection.is_connected:
        with contextlib.suppress(*SMTPErrors):
            await connection.quit()
    await _drop(connection, transport)


async def _drop(connection: aiosmtplib.SMTP, transport: asyncio.BaseTransport | None = None) -> None:
    """Close the socket now, and let the loop see it closed."""
    transport = transport or connection.transport
    connection.close()
    if isinstance(transport, asyncio.Transport):
        transport.abort()
        await asyncio.sleep(0)


async def send_one(endpoint: Endpoint, message: EmailMessage | bytes, sender: str, recipient: str) -> None:
    """Connect, send one message and hang up (a test email)."""
    connection = await open_connection(endpoint)
    try:
        await send_message(connection, message, sender, recipient)
    finally:
        await close_quietly(connection)


def run_sync(work: Callable[[], Awaitable[T]]) -> T:
    """Run one conversation with a server from synchronous code (a web request), on a loop of its own:
    in a thread of its own, with this thread's context, if this thread already runs a loop."""

    async def run() -> T:
        return await work()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    with ThreadPoolExecutor(1, thread_name_prefix="smtp-once") as executor:
        return executor.submit(contextvars.copy_context().run, asyncio.run, run()).result()
