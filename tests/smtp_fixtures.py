"""Fixtures for tests that talk SMTP: a scriptable aiosmtpd server on loopback (see tests/smtp_sink.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.smtp_sink import SMTPSink, TLSFiles, make_tls_files


@pytest.fixture(scope="session")
def smtp_tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A throwaway CA and server certificate for the whole run; trust it with `ca_file`."""
    return make_tls_files(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def make_smtp_sink(smtp_tls_files: TLSFiles) -> Iterator[Callable[..., SMTPSink]]:
    """Start sinks with `SMTPSink`'s options (tls=, require_starttls=, username=, password=).

    TLS sinks use `smtp_tls_files` unless given their own; every sink is stopped at teardown.
    """
    sinks: list[SMTPSink] = []

    def make(**options: Any) -> SMTPSink:
        options.setdefault("tls_files", smtp_tls_files)
        sink = SMTPSink(**options).start()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


@pytest.fixture
def smtp_sink(make_smtp_sink: Callable[..., SMTPSink]) -> SMTPSink:
    """A running sink that accepts everything, with no TLS and no AUTH."""
    return make_smtp_sink()
