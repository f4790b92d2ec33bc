"""Tests reach the network on loopback only: a name resolved or a connection opened anywhere else fails
the test that did it (the app may well swallow the error it gets, so it is also recorded and checked).

Subprocesses (the real worker and beat) are not covered; they get loopback addresses from the tests."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class OutsideLoopback(OSError):
    """A test tried to reach past loopback."""


def is_loopback(host: object) -> bool:
    if host is None or host in ("", "0.0.0.0", "::"):  # a listening socket's wildcard
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def is_address(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return True


class Guard:
    """Wraps the resolver and `socket.connect`, keeping what it refused."""

    def __init__(self) -> None:
        self.refused: list[str] = []
        self._getaddrinfo = socket.getaddrinfo
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._own: set[str] | None = None

    def refuse(self, what: str) -> OutsideLoopback:
        self.refused.append(what)
        return OutsideLoopback(f"tests stay on loopback: {what}")

    def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        """A name is looked up in DNS, past loopback; an address literal is not (its connection is
        checked by `connect`)."""
        if not is_loopback(host) and not is_address(host):
            raise self.refuse(f"resolving {host!r}")
        return self._getaddrinfo(host, *args, **kwargs)

    def check(self, sock: socket.socket, address: Any) -> None:
        """TCP only: connecting a UDP socket sends nothing (it picks a route), and a name lookup is
        caught at `getaddrinfo`. This machine's own addresses stay on the machine."""
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return
        if not is_loopback(address[0]) and address[0] not in self.own_addresses():
            raise self.refuse(f"connecting to {address!r}")

    def own_addresses(self) -> set[str]:
        """The addresses of this machine's interfaces that the tests may use (the one routing outward)."""
        if self._own is None:
            self._own = set()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    self._connect(probe, ("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
                    self._own.add(probe.getsockname()[0])
                except OSError:
                    pass
        return self._own

    def install(self) -> None:
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check(sock, address)
            return guard._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check(sock, address)
            return guard._connect_ex(sock, address)

        socket.getaddrinfo = self.getaddrinfo  # type: ignore[assignment]
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]

    def uninstall(self) -> None:
        socket.getaddrinfo = self._getaddrinfo
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.socket.connect_ex = self._connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def loopback_guard() -> Iterator[Guard]:
    guard = Guard()
    guard.install()
    yield guard
    guard.uninstall()


@pytest.fixture(autouse=True)
def loopback_only(loopback_guard: Guard) -> Iterator[None]:
    """Fail the test if it tried to leave loopback, even when the code under test hid the error."""
    loopback_guard.refused.clear()
    yield
    refused, loopback_guard.refused[:] = list(loopback_guard.refused), []
    if refused:
        pytest.fail("this test tried to reach past loopback: " + "; ".join(refused), pytrace=False)
