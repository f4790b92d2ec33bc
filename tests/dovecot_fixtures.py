"""Fixtures for tests that read a mailbox: a real Dovecot on loopback (tests/dovecot.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.dovecot import Dovecot, dovecot_root
from tests.smtp_sink import TLSFiles


@pytest.fixture
def make_dovecot(smtp_tls_files: TLSFiles) -> Iterator[Callable[..., Dovecot]]:
    """Start Dovecots (`tls=True` for implicit TLS on the tests' CA); all are stopped at teardown."""
    servers: list[Dovecot] = []

    def make(tls: bool = False, **options: Any) -> Dovecot:
        server = Dovecot(dovecot_root(), tls_files=smtp_tls_files if tls else None, **options)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def dovecot(make_dovecot: Callable[..., Dovecot]) -> Dovecot:
    """A running Dovecot with one user and an empty INBOX, plain IMAP on loopback."""
    return make_dovecot()
