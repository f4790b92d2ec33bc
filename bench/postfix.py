"""A private Postfix on loopback for `make bench-postfix`: the real MTA a provider runs, as the sink.

Debian's Postfix (`apt-get install -y postfix`, debconf "No configuration"; CI does not need it) runs
from a configuration directory of its own in a temporary folder (`postfix -c DIR start`), listening on
one loopback port with one smtpd, no TLS and no login. Every address is routed to the `discard`
transport and master.cf holds no other delivery agent, so nothing can leave the machine. A message
counts as received when the discard agent logged it (`maillog_file`, through postlogd), once the queue
is empty again.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Self

from bench.sink import DUPLICATES_SHOWN, SinkStats

POSTFIX = "/usr/sbin/postfix"
#: How long the queue may take to empty before the figures are read.
DRAIN_SECONDS = 120.0
#: The queues a message passes through on its way to the discard agent.
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")
DISCARDED = re.compile(r"postfix/discard\[\d+\]: \w+: to=<([^>]+)>.*status=sent")

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix-bench.localhost
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
maillog_file = {folder}/maillog
maillog_file_prefixes = {folder}
smtpd_tls_security_level = none
"""

#: One smtpd, the queue's services, and the discard agent; nothing that could deliver anywhere.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
discard   unix - - n - - discard
postlog   unix-dgram n - n - 1 postlogd
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostfixServer:
    """Postfix started on a free loopback port; stopped, and its folder removed, on exit."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        if not Path(POSTFIX).exists():
            raise RuntimeError("Postfix is not installed: apt-get install -y postfix (docs/benchmarks.md)")
        self.folder = Path(tempfile.mkdtemp(prefix="bench-postfix-"))
        self.folder.chmod(0o755)  # postfix's own processes read the configuration
        self.port = free_port()
        (self.folder / "main.cf").write_text(MAIN_CF.format(folder=self.folder))
        (self.folder / "master.cf").write_text(MASTER_CF.format(port=self.port))
        (self.folder / "queue").mkdir()
        (self.folder / "data").mkdir()
        shutil.chown(self.folder / "data", "postfix")  # the master's lock file
        self.log = self.folder / "maillog"
        self.log_start = 0
        self._postfix("start")
        self._wait_listening()

    def _postfix(self, command: str) -> None:
        subprocess.run([POSTFIX, "-c", str(self.folder), command], check=True, capture_output=True)

    def _wait_listening(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Postfix did not listen on port {self.port}; its log: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else "(none)"

    def _queued(self) -> int:
        queue = self.folder / "queue"
        return sum(1 for name in QUEUES for path in (queue / name).rglob("*") if path.is_file())

    def clear(self) -> None:
        """Count from here on."""
        self._drain()
        self.log_start = self.log.stat().st_size if self.log.exists() else 0

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_SECONDS
        while self._queued() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # the last discard's log line

    def stats(self) -> SinkStats:
        """What the discard agent took since `clear`, once the queue is empty."""
        self._drain()
        with self.log.open("rb") as log:
            log.seek(self.log_start)
            text = log.read().decode(errors="replace")
        copies = Counter(DISCARDED.findall(text))
        duplicated = {address: count for address, count in copies.items() if count > 1}
        return SinkStats(
            received=sum(copies.values()),
            recipients=len(copies),
            duplicates=sum(count - 1 for count in duplicated.values()),
            duplicated=dict(list(duplicated.items())[:DUPLICATES_SHOWN]),
        )

    def stop(self) -> None:
        subprocess.run([POSTFIX, "-c", str(self.folder), "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
