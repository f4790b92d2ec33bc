"""A real IMAP server for the tests: a private Dovecot on loopback, with one passwd-file user whose
maildir the tests fill directly (a message is a file in `new/`, so 100,000 of them take seconds).

Run as root, Dovecot's login processes use Debian's `dovenull` and the mail user is `nobody` (Dovecot
refuses to run its login processes, or to open mail, as root); run as anyone else, everything runs as
that user. TLS, when asked for, uses the tests' own CA (`tests.smtp_sink.make_tls_files`).
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.services import free_port, service_missing
from tests.smtp_sink import LOOPBACK, TLSFiles

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
_unique = itertools.count()


def mail_user_ids() -> tuple[int, int]:
    """The uid and gid Dovecot opens mail as: ours, or `nobody`'s when we are root."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


@dataclass
class Dovecot:
    """A Dovecot serving one user on 127.0.0.1 (plain IMAP, or implicit TLS with `tls_files`)."""

    root: Path
    username: str = "sender@example.com"
    password: str = "mailbox secret"
    tls_files: TLSFiles | None = None
    host: str = LOOPBACK
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    stderr: IO[bytes] | None = None

    @property
    def maildir(self) -> Path:
        return self.root / "home" / self.username / "Maildir"

    def folder_path(self, folder: str = "INBOX") -> Path:
        return self.maildir if folder == "INBOX" else self.maildir / f".{folder}"

    def start(self) -> Dovecot:
        if not Path(DOVECOT).exists():
            service_missing("dovecot is not installed (apt-get install -y dovecot-imapd)")
        uid, gid = mail_user_ids()
        for part in ("run", "state"):
            (self.root / part).mkdir(parents=True)
        self.make_folder("INBOX")
        (self.root / "passwd").write_text(f"{self.username}:{{PLAIN}}{self.password}\n")
        (self.root / "dovecot.conf").write_text(self.config(uid, gid))
        self.stderr = (self.root / "stderr.log").open("wb")
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        self._wait_until_listening()
        return self

    def config(self, uid: int, gid: int) -> str:
        users = "" if os.getuid() == 0 else f"default_internal_user = {pwd.getpwuid(uid).pw_name}\n"
        users += "" if os.getuid() == 0 else f"default_login_user = {pwd.getpwuid(uid).pw_name}\n"
        if self.tls_files:
            tls = f"ssl = required\nssl_cert = <{self.tls_files.cert_file}\nssl_key = <{self.tls_files.key_file}\n"
            listeners = f"inet_listener imap {{\n port = 0\n}}\ninet_listener imaps {{\n address = {self.host}\n port = {self.port}\n}}"
        else:
            tls = "ssl = no\n"
            listeners = f"inet_listener imap {{\n address = {self.host}\n port = {self.port}\n}}\ninet_listener imaps {{\n port = 0\n}}"
        return (
            f"base_dir = {self.root}/run\nstate_dir = {self.root}/state\n"
            f"instance_name = dovecot-test-{os.getpid()}-{next(_unique)}\n"
            f"log_path = {self.root}/dovecot.log\nprotocols = imap\nlisten = {self.host}\n{tls}{users}"
            "disable_plaintext_auth = no\nauth_mechanisms = plain login\n"
            # A refused login is answered at once, not after Dovecot's 2 s guard against guessing.
            "auth_failure_delay = 0\n"
            "first_valid_uid = 1\nmail_location = maildir:~/Maildir\n"
            f"passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {self.root}/passwd\n}}\n"
            f"userdb {{\n driver = static\n args = uid={uid} gid={gid} home={self.root}/home/%u\n}}\n"
            f"service imap-login {{\n{listeners}\n}}\n"
        )

    def _wait_until_listening(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on {self.host}:{self.port}: {self.log()}")

    def log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")
            for path in (self.root / "dovecot.log", self.root / "stderr.log")
            if path.exists()
        )

    def make_folder(self, folder: str) -> Path:
        """A maildir folder the mail user owns (Dovecot writes its index files there)."""
        path = self.folder_path(folder)
        uid, gid = mail_user_ids()
        for part in (path, path / "new", path / "cur", path / "tmp"):
            part.mkdir(parents=True, exist_ok=True)
        for part in [*path.parents[: len(path.relative_to(self.root).parts)], path]:
            os.chown(part, uid, gid)
        for part in ("new", "cur", "tmp"):
            os.chown(path / part, uid, gid)
        return path

    def deliver(self, message: bytes, folder: str = "INBOX") -> Path:
        """Put one message into `folder` as a mail server would: written in `tmp/`, renamed into `new/`."""
        path = self.folder_path(folder)
        if not path.exists():
            self.make_folder(folder)
        name = f"{time.time_ns()}.{os.getpid()}_{next(_unique)}.test"
        staged = path / "tmp" / name
        staged.write_bytes(message)
        final = path / "new" / name
        staged.rename(final)
        return final

    def stop(self) -> None:
        """Ask the server to stop, without waiting the second its master takes to see its children go:
        it is reaped, and its folder removed, at the next server's stop or when the tests end."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
        if self.stderr is not None:
            self.stderr.close()
        _stopping.append(self)
        reap_stopped(wait=False)

    def reap(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


#: Servers asked to stop and not yet gone.
_stopping: list[Dovecot] = []


def reap_stopped(wait: bool = True) -> None:
    """Reap the stopped servers that are gone (every one, waiting for them, with `wait`)."""
    for server in list(_stopping):
        if wait or server.process is None or server.process.poll() is not None:
            server.reap()
            _stopping.remove(server)


atexit.register(reap_stopped)


def dovecot_root() -> Path:
    """A folder the mail user can reach: pytest's temporary folders are private to the test user."""
    root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    root.chmod(0o755)
    return root
