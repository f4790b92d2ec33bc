"""One SMTP sink listening on many loopback addresses, in a process of its own: `python -m bench.multisink N`.

Why many addresses: the engine spaces batches bound for the same SMTP host `DISPATCH_SPACING` apart
(a guard against a herd at one provider). A thousand accounts all pointing at 127.0.0.1 would therefore be
measured as a thousand customers of one provider, paced on purpose, not as a thousand tenants. So the
tenancy benchmark gives account k a host of its own, the k-th loopback address from 127.0.1.1 (Linux
routes all of 127.0.0.0/8 to the loopback interface), and this one process listens on all of them at one
port. The local address a connection came in on names the account it belongs to.

Why not `tests.smtp_sink.SMTPSink`: it is aiosmtpd's Controller, a thread and an event loop for one
address; a thousand of them would be a thousand threads. Here one asyncio loop serves every listener
(`loop.create_server` takes a list of hosts) with aiosmtpd's `SMTP` protocol as the factory, and records
for each message only what the figures need: the wall-clock time it was received
(`time.time()`, comparable with the database's UTC times), the local address, the envelope and the
Message-ID.

Why a process: the worker under test must not share a GIL with the sink, and a slow sink would show up
as a slow engine. Control channel as in `bench.sink`: the child prints `port=N` once it listens on every
address, then answers `count` with `{"messages": m, "recipients": r}` and `records` with a JSON list of
deliveries, one line each; it stops when its stdin closes, so it cannot outlive the benchmark.

`python -m bench.multisink --check N` is the sink's own test: N clients on N addresses, all connected at
once, each sending one message, every one of them recorded on the right address.
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import ipaddress
import json
import resource
import sys
import time
import weakref
from collections import Counter
from dataclasses import astuple, dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.sink import SinkChild

FIRST_ADDRESS = ipaddress.IPv4Address("127.0.1.1")
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
#: File descriptors the sink needs besides one listener and one connection per address.
SPARE_DESCRIPTORS = 64
#: A line of `records` may be megabytes long.
CONTROL_LINE_LIMIT = 1 << 30
#: Seconds the check gives its clients to connect, and then to send.
CHECK_TIMEOUT = 60.0


def loopback_addresses(count: int) -> list[str]:
    """The first `count` loopback addresses from 127.0.1.1: one SMTP host per account."""
    if count < 1 or FIRST_ADDRESS + (count - 1) not in LOOPBACK:
        raise ValueError(f"cannot give {count} accounts a loopback address each")
    return [str(FIRST_ADDRESS + k) for k in range(count)]


def descriptors_needed(count: int) -> int:
    """A listener and a connection for each of `count` addresses, and some to spare."""
    return 2 * count + SPARE_DESCRIPTORS


def raise_descriptor_limit(needed: int) -> None:
    """Lift this process's soft limit on open files to its hard limit; fail if even that is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise RuntimeError(f"ulimit -n allows {hard} open files; {needed} are needed")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass(frozen=True)
class Delivery:
    """One message as the sink received it."""

    received_at: float
    local_address: str
    mail_from: str
    recipients: tuple[str, ...]
    message_id: str


_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def message_id_of(content: bytes) -> str:
    return (_HEADERS.parsebytes(content, headersonly=True)["Message-ID"] or "").strip()


class Recorder:
    """aiosmtpd's hook: accept every message and record it."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.copies: Counter[str] = Counter()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        received_at = time.time()
        assert server.transport is not None
        assert isinstance(envelope.original_content, bytes)
        local_address = server.transport.get_extra_info("sockname")[0]
        recipients = tuple(envelope.rcpt_tos)
        content = envelope.original_content
        self.deliveries.append(
            Delivery(received_at, local_address, envelope.mail_from or "", recipients, message_id_of(content))
        )
        self.copies.update(recipients)
        return "250 OK"

    def counts(self) -> dict[str, int]:
        return {"messages": len(self.deliveries), "recipients": len(self.copies)}


class Listeners:
    """aiosmtpd's SMTP protocol served on every address at one port, and the connections it opened."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.servers: list[asyncio.Server] = []
        self.connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        # A hostname of its own spares aiosmtpd a socket.getfqdn() per connection.
        smtp = SMTP(self.recorder, hostname="sink.bench", loop=asyncio.get_running_loop())
        self.connections.add(smtp)
        return smtp

    async def open(self, addresses: list[str]) -> int:
        """Listen on `addresses`, the first at a port the OS picks and the rest at that port; the port."""
        loop = asyncio.get_running_loop()
        first = await loop.create_server(self._protocol, host=addresses[0], port=0)
        self.servers.append(first)
        port: int = first.sockets[0].getsockname()[1]
        if len(addresses) > 1:
            self.servers.append(await loop.create_server(self._protocol, host=addresses[1:], port=port))
        return port

    def close(self) -> None:
        for server in self.servers:
            server.close()
        for smtp in list(self.connections):
            if smtp.transport is not None:
                smtp.transport.abort()


def _reply(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def _answer_commands(recorder: Recorder) -> None:
    """Answer the parent's commands on stdin until it closes."""
    reader = asyncio.StreamReader(limit=CONTROL_LINE_LIMIT)
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    async for line in reader:
        command = line.decode().strip()
        if command == "count":
            _reply(recorder.counts())
        elif command == "records":
            _reply([astuple(delivery) for delivery in recorder.deliveries])
        else:
            _reply({"error": f"unknown command {command!r}"})


async def serve(count: int) -> None:
    """The child's side: listen on `count` addresses and answer commands until stdin closes."""
    raise_descriptor_limit(descriptors_needed(count))
    recorder = Recorder()
    listeners = Listeners(recorder)
    try:
        port = await listeners.open(loopback_addresses(count))
        print(f"port={port}", flush=True)
        await _answer_commands(recorder)
    finally:
        listeners.close()


class MultiSink(SinkChild):
    """`python -m bench.multisink N`: one sink on N loopback addresses, recording every delivery."""

    def __init__(self, count: int) -> None:
        self.addresses = loopback_addresses(count)
        super().__init__("bench.multisink", str(count))

    def recipients_received(self) -> int:
        """How many distinct recipient addresses have received a message so far."""
        return int(json.loads(self._ask("count"))["recipients"])

    def deliveries(self) -> list[Delivery]:
        return [
            Delivery(received_at, local, mail_from, tuple(recipients), message_id)
            for received_at, local, mail_from, recipients, message_id in json.loads(self._ask("records"))
        ]


# ----- the sink's own check: N clients on N addresses at once -------------------------------------


async def _expect(reader: asyncio.StreamReader, code: bytes) -> None:
    """Read one (possibly multi-line) reply; it must have `code`."""
    while True:
        line = await reader.readline()
        if not line.startswith(code):
            raise AssertionError(f"expected {code!r}, got {line!r}")
        if line[3:4] != b"-":
            return


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _command(stream: Stream, line: str, code: bytes) -> None:
    reader, writer = stream
    writer.write(line.encode() + b"\r\n")
    await _expect(reader, code)


async def _client(address: str, port: int, all_connected: asyncio.Barrier) -> None:
    """Connect and greet, wait until every client has, then send one message and quit."""
    stream = reader, writer = await asyncio.open_connection(address, port)
    try:
        await _expect(reader, b"220")
        await _command(stream, "EHLO check.bench", b"250")
        await all_connected.wait()
        await _command(stream, f"MAIL FROM:<from@{address}>", b"250")
        await _command(stream, f"RCPT TO:<to@{address}>", b"250")
        await _command(stream, "DATA", b"354")
        body = f"Message-ID: <{address}@check.bench>\r\nSubject: check\r\n\r\nHello {address}\r\n."
        await _command(stream, body, b"250")
        await _command(stream, "QUIT", b"221")
    finally:
        writer.close()


async def _clients(addresses: list[str], port: int) -> tuple[float, float]:
    """Seconds until every client had connected and greeted, and until every one had sent."""
    start = time.perf_counter()
    all_connected = asyncio.Barrier(len(addresses) + 1)
    clients = asyncio.gather(*(_client(address, port, all_connected) for address in addresses))
    try:
        await asyncio.wait_for(all_connected.wait(), CHECK_TIMEOUT)
    except TimeoutError:
        await asyncio.wait_for(clients, 1)  # raises the error of a client that failed, if one did
        raise
    connected = time.perf_counter() - start
    await asyncio.wait_for(clients, CHECK_TIMEOUT)
    return connected, time.perf_counter() - start


def _check_records(sink: MultiSink, deliveries: list[Delivery]) -> list[str]:
    """What is wrong with the records of the check (nothing: an empty list)."""
    problems = []
    if len(deliveries) != len(sink.addresses):
        problems.append(f"{len(deliveries)} messages recorded, {len(sink.addresses)} sent")
    if {d.local_address for d in deliveries} != set(sink.addresses):
        problems.append("not every address recorded exactly its own messages")
    for delivery in deliveries:
        address = delivery.local_address
        if delivery.recipients != (f"to@{address}",) or delivery.message_id != f"<{address}@check.bench>":
            problems.append(f"message on {address} recorded as {delivery}")
    return problems


def check(count: int) -> None:
    """The sink takes `count` simultaneous connections on `count` addresses and records each message."""
    raise_descriptor_limit(count + SPARE_DESCRIPTORS)
    with MultiSink(count) as sink:
        connected, sent = asyncio.run(_clients(sink.addresses, sink.port))
        deliveries = sink.deliveries()
    problems = _check_records(sink, deliveries)
    print(
        f"{count} clients on {count} addresses ({sink.addresses[0]} to {sink.addresses[-1]}), port "
        f"{sink.port}: all connected and greeted in {connected:.2f} s, all {count} messages sent by "
        f"{sent:.2f} s; {len(deliveries)} recorded"
    )
    if problems:
        raise SystemExit("FAIL: " + "; ".join(problems[:10]))
    print("PASS: every message recorded once, on its own address, with its Message-ID")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many addresses to listen on")
    parser.add_argument("--check", action="store_true", help="test the sink with that many clients")
    args = parser.parse_args()
    if args.check:
        check(args.count)
    else:
        asyncio.run(serve(args.count))


if __name__ == "__main__":
    main()
