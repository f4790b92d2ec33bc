"""The suite's own guard: a test that reaches past loopback fails."""

from __future__ import annotations

import socket

import pytest

from tests.loopback_only import Guard, OutsideLoopback, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.3.2.1", None, "0.0.0.0"])
def test_loopback_hosts_are_allowed(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["smtp.example.com", "8.8.8.8", "192.168.1.10", "2001:db8::1"])
def test_other_hosts_are_not(host):
    assert not is_loopback(host)


def test_resolving_or_connecting_past_loopback_is_refused_and_recorded():
    guard = Guard()
    guard.install()
    try:
        with pytest.raises(OutsideLoopback):
            socket.getaddrinfo("smtp.example.com", 25)
        with socket.socket() as sock, pytest.raises(OutsideLoopback):
            sock.connect(("192.0.2.1", 25))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # UDP: picks a route, sends nothing
        assert socket.getaddrinfo("127.0.0.1", 25)
    finally:
        guard.uninstall()
    assert guard.refused == ["resolving 'smtp.example.com'", "connecting to ('192.0.2.1', 25)"]
