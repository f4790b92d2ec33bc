"""A test SMTP server on loopback that prints every email it receives (`make sink`).

It takes any message from anyone and prints its sender, recipients, subject and plain-text part, so a
first campaign can be sent and watched without a real mail provider. It listens on 127.0.0.1 only, on
`SINK_PORT` (default 1025). It needs aiosmtpd, a development dependency (`make sink` installs it).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import sys
from datetime import datetime
from email.message import EmailMessage
from typing import TextIO

from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
DEFAULT_PORT = 1025
PORT_SETTING = "SINK_PORT"
RULE = "──"


def text_part(message: EmailMessage) -> str:
    """The message's plain-text part, decoded; a note when it has none."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return "(no plain-text part)"
    return part.get_content().strip("\n")


def describe(number: int, envelope: Envelope, received_at: datetime) -> str:
    """What the sink prints for one email: a numbered rule, the headers a reader looks for, the text."""
    message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    return "\n".join(
        [
            f"{RULE} message {number} {RULE} {received_at:%H:%M:%S}",
            f"From:    {message.get('From', envelope.mail_from)}",
            f"To:      {', '.join(envelope.rcpt_tos)}",
            f"Subject: {message.get('Subject', '')}",
            "",
            text_part(message),
            "",
            "",
        ]
    )


class PrintingHandler:
    """An aiosmtpd handler that accepts every message and prints it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.received = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received += 1
        self.out.write(describe(self.received, envelope, datetime.now()))
        self.out.flush()
        return "250 OK: printed by the test sink"


async def serve(port: int, out: TextIO) -> None:
    """Listen on loopback until cancelled."""
    handler = PrintingHandler(out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", enable_SMTPUTF8=True, decode_data=False), HOST, port
    )
    out.write(
        f"Test SMTP sink listening on {HOST}:{port}. Each email that arrives is printed; Ctrl-C stops.\n"
    )
    out.flush()
    async with server:
        await server.serve_forever()


def main() -> int:
    port = int(os.environ.get(PORT_SETTING) or DEFAULT_PORT)
    try:
        asyncio.run(serve(port, sys.stdout))
    except OSError as error:
        print(
            f"The test sink cannot listen on {HOST}:{port}: {error.strerror}. "
            f"Choose another port, e.g. {PORT_SETTING}=2526 make sink.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
