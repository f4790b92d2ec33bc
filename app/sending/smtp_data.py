"""SMTP's DATA in two parts: the message, then, once the caller is ready, the line that ends it.

A server takes responsibility for a message only when it has the final `.` line and answers 250; until
then, closing the connection makes it throw the message away (RFC 5321, 4.1.1.4 and 6.1). So a batch
can send an email's body while the commit that marks the email `sending` is still under way, and end
the message only once that commit has returned (`app.sending.batch`): the database never learns of a
send later than the server does, and the exchange and the commit overlap.

aiosmtplib sends DATA, the message and its end in one call (`SMTP.data`, protocol
`execute_data_command`); `start_data` and `OpenData.end` are that call cut in two, doing what it does
(line endings made CRLF, leading dots doubled, the protocol's command lock held from DATA until the
reply to the end, a connection that times out or drops closed). They use aiosmtplib's protocol
internals, pinned with aiosmtplib's version in requirements.txt and held by tests/sending/test_smtp_data.py.
"""

from __future__ import annotations

import asyncio

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, SMTPProtocol, normalize_message_line_endings

END_OF_DATA = b".\r\n"


class OpenData:
    """A message whose body the server has and whose end it waits for: `end` it, or `abandon` it."""

    def __init__(self, connection: aiosmtplib.SMTP, protocol: SMTPProtocol, lock: asyncio.Lock) -> None:
        self.connection = connection
        self.protocol = protocol
        self.lock = lock

    async def end(self) -> aiosmtplib.SMTPResponse:
        """Send the final `.` and return the server's 250 (`SMTPDataError` for any other reply)."""
        try:
            self.protocol._response_pending = True
            self.protocol.write(END_OF_DATA)
            reply = await self.protocol.read_response(timeout=self.connection.timeout)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
            self.connection.close()
            raise
        finally:
            self.lock.release()
        if reply.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)
        return reply

    def abandon(self) -> None:
        """Drop the connection without ending the message: the server discards it."""
        self.lock.release()
        transport = self.connection.transport
        self.connection.close()
        if isinstance(transport, asyncio.Transport):
            transport.abort()


def wire_form(message: bytes) -> bytes:
    """The message as DATA carries it: every line ending CRLF, the last line ended, and a line's leading
    dot doubled, as aiosmtplib's `data` makes it. Both are regular expressions over the whole message;
    the engine's builder already ends every line with CRLF and seldom starts one with a dot, which
    counts at C speed see first."""
    crlf = message.count(b"\r\n")
    if message.count(b"\n") != crlf or message.count(b"\r") != crlf or not message.endswith(b"\r\n"):
        message = normalize_message_line_endings(message)
    if message.startswith(b".") or b"\n." in message:
        message = PERIOD_REGEX.sub(b"..", message)
    return message


async def start_data(connection: aiosmtplib.SMTP, message: bytes) -> OpenData:
    """Send DATA and, after the server's 354, the whole message but its final `.` line."""
    protocol = connection.protocol
    lock = protocol._command_lock if protocol is not None else None
    if protocol is None or lock is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    payload = wire_form(message)
    await lock.acquire()
    try:
        protocol._response_pending = True
        protocol.write(b"DATA\r\n")
        reply = await protocol.read_response(timeout=connection.timeout)
        if reply.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)
        protocol.write(payload)
    except BaseException as error:
        lock.release()
        if isinstance(error, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError):
            connection.close()
        raise
    return OpenData(connection, protocol, lock)
