"""The SMTP sink in a process of its own: `python -m bench.sink`.

Why a process: the send benchmark compares a bare smtplib loop with the engine's whole path. Were the
sink (aiosmtpd, pure Python) a thread of the benchmark process, the bare loop would share a GIL with it
while the engine's worker, a separate process, would not, and the comparison would be unfair. In a
process of its own the sink costs both sides the same.

Control channel: the child's stdin and stdout, one line each way. It first prints `port=N`, then answers
`stats` with one JSON object (messages received, distinct recipients, duplicated recipients) and `clear`
with `ok`. It stops when its stdin closes, so it cannot outlive a benchmark that died without cleaning
up. A pipe needs no port or file of its own and no polling: the parent asks only when it needs a figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from tests.smtp_sink import SMTPSink

ROOT = Path(__file__).resolve().parent.parent
#: How many duplicated addresses a `stats` reply names (it counts them all).
DUPLICATES_SHOWN = 20


@dataclass(frozen=True)
class SinkStats:
    received: int
    recipients: int
    duplicates: int
    duplicated: dict[str, int]


def stats(sink: SMTPSink) -> dict[str, Any]:
    copies = sink.addresses_received()
    duplicated = {address: count for address, count in copies.items() if count > 1}
    return {
        "received": sink.count,
        "recipients": len(copies),
        "duplicates": sum(count - 1 for count in duplicated.values()),
        "duplicated": dict(list(duplicated.items())[:DUPLICATES_SHOWN]),
    }


def serve() -> None:
    """The child's side: run the sink and answer commands until stdin closes."""
    with SMTPSink() as sink:
        print(f"port={sink.port}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                print(json.dumps(stats(sink)), flush=True)
            elif command == "clear":
                sink.clear()
                print("ok", flush=True)
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


class SinkChild:
    """The parent's side of a sink in a process of its own (`python -m <module> <args>`): its first line
    is `port=N`, then one line answers each command; it stops when its stdin closes."""

    def __init__(self, module: str, *args: str) -> None:
        # A session of its own: a Ctrl-C in the terminal reaches the benchmark, which stops the sink.
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        first = self._read()
        if not first.startswith("port="):
            self.stop()
            raise RuntimeError(f"the sink did not start: {first!r}")
        self.port = int(first.removeprefix("port="))

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the sink exited (code {self.process.poll()})")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SinkProcess(SinkChild):
    """`python -m bench.sink`: one address, one connection's worth of statistics."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        super().__init__("bench.sink")

    def stats(self) -> SinkStats:
        return SinkStats(**json.loads(self._ask("stats")))

    def clear(self) -> None:
        self._ask("clear")


if __name__ == "__main__":
    serve()
