"""Can a user make the server connect where it should not, or use "Test connection" as a port scanner?

Issue 13: "Test connection" to 127.0.0.1 reported open, closed and silent ports and read back an SSH
banner. With `SMTP_ALLOW_PRIVATE_HOSTS` off (the default; the test config turns it on for the sinks),
neither the settings page nor the engine connects to a loopback, link-local or private address; with
it on, a port that does not speak SMTP reads as "not an SMTP server", never as the other service's words.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import SMTPSettings
from app.sending import connection as connection_module
from app.sending.connection import NO_SMTP_SERVER, NOT_SMTP, Endpoint, open_connection, run_sync
from app.sending.destinations import ALLOW_SETTING, refusal
from app.states import EmailStatus
from tests.builders import make_account, make_queued_campaign
from tests.sending.runs import run_batch
from tests.services import free_port
from tests.settings.conftest import submit_smtp  # noqa: F401 (a fixture)

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("169.254.169.254", "link-local"),  # the cloud's metadata service
    ("fe80::1%2", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "private"),  # reserved, which Python also counts as private
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
]


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {ALLOW_SETTING: False, "SMTP_TIMEOUT": 2.0, "CONNECTION_SETTLE": 0.0, "SEND_INTERVAL": 0.0}


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and says nothing: did anyone connect?"""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.setblocking(False)
        yield server


def nobody_connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def try_connection(submit_smtp, host: str, port: int, **changes: str) -> str:  # noqa: F811
    """Press "Test connection" with the form pointing at `host:port`; the page that comes back."""
    response = submit_smtp(url="/settings/smtp/test", host=host, port=str(port), **changes)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("address", "kind"), REFUSED_ADDRESSES)
def test_non_public_addresses_are_refused(address, kind):
    article = "an" if kind[0] in "aeiou" else "a"
    assert refusal(address, [address]) == (
        f"{address} is {article} {kind} address, and this server connects only to public addresses "
        f"(its operator can allow local and private ones with {ALLOW_SETTING})"
    )


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert refusal(address, [address]) is None


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    """A name that resolves to a public and a private address could be connected to either."""
    message = refusal("mail.example.com", ["93.184.216.34", "10.0.0.7"])
    assert message is not None
    assert message.startswith("mail.example.com resolves to 10.0.0.7, which is a private")


def test_test_connection_to_loopback_is_refused_without_connecting(client, logged_in, submit_smtp, listener):  # noqa: F811
    port = listener.getsockname()[1]
    page = try_connection(submit_smtp, "127.0.0.1", port)
    assert "Nothing was tested" in page
    assert "127.0.0.1 is a loopback address, and this server connects only to public addresses" in page
    assert ALLOW_SETTING in page
    assert nobody_connected(listener)


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_an_account_on_a_private_address_is_not_saved(client, logged_in, submit_smtp, host):  # noqa: F811
    page = submit_smtp(host=host).get_data(as_text=True)
    assert "The SMTP account was not saved" in page
    assert f"{host} is a" in page
    assert ALLOW_SETTING in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMTPSettings)) == 0


def test_a_name_is_judged_by_the_addresses_it_resolves_to(client, logged_in, submit_smtp, listener):  # noqa: F811
    port = listener.getsockname()[1]
    page = try_connection(submit_smtp, "localhost", port)
    assert f"Could not connect to localhost:{port}: localhost resolves to" in page
    assert "which is a loopback address" in page
    assert nobody_connected(listener)


def test_the_engine_refuses_too_and_loses_nothing(app, make_user, smtp_sink, engine_settings):
    """Like a wrong password: the batch goes back untouched and the account says why."""
    account = make_account(make_user("sender"), smtp_sink)
    campaign = make_queued_campaign(account, 2)
    report = run_batch(engine_settings, account.id)
    assert report.sent == 0
    assert smtp_sink.count == 0
    db.session.expire_all()
    emails = db.session.scalars(campaign.emails.select()).all()
    assert [(email.status, email.attempts) for email in emails] == [(EmailStatus.PENDING, 0)] * 2
    failing = db.session.get(SMTPSettings, account.id)
    assert failing.last_error == (
        "CONNECT failed: 127.0.0.1 is a loopback address, and this server connects only to public "
        f"addresses (its operator can allow local and private ones with {ALLOW_SETTING})"
    )


def test_the_operator_setting_allows_a_local_relay(app, make_user, smtp_sink, engine_settings):
    account = make_account(make_user("sender"), smtp_sink)
    make_queued_campaign(account, 2)
    report = run_batch(replace(engine_settings, smtp_allow_private_hosts=True), account.id)
    assert report.sent == 2
    assert smtp_sink.count == 2


def test_the_connection_goes_to_the_address_checked(app, smtp_sink, monkeypatch):
    """The name is looked up once: nothing resolves it again between the check and the connection
    (a DNS-rebinding name would otherwise answer a public address first and a private one next)."""
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def counting_getaddrinfo(*args, **kwargs):
        lookups.append(args[0])
        return real_getaddrinfo(*args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting_getaddrinfo)
    endpoint = Endpoint("localhost", smtp_sink.port, "none", "", "", 5, allow_private_hosts=True)

    async def talk() -> str:
        connection = await open_connection(endpoint)
        peer = connection.get_transport_info("peername")[0]
        await connection_module.close_quietly(connection)
        return peer

    assert run_sync(talk) in {"127.0.0.1", "::1"}
    assert lookups == ["localhost"]


# ----- with private hosts allowed: a port that answers is reported only as SMTP or not ---------------


@pytest.fixture
def banner_server() -> Iterator[Any]:
    """A loopback port whose service greets with `server.banner` and then waits (an SSH or HTTP server)."""

    class Server:
        banner = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"

    server = Server()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(4)
    listening.settimeout(0.1)
    server.port = listening.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                peer, _ = listening.accept()
            except TimeoutError:
                continue
            with peer:
                peer.sendall(server.banner)
                peer.settimeout(3)
                with contextlib.suppress(OSError):
                    peer.recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(5)
    listening.close()


@pytest.mark.parametrize(
    "banner",
    [
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
        b"HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n\r\n",
        b"200 Secret-Service ready\r\n",  # three digits, but no greeting an SMTP server gives
        b"+OK Dovecot ready.\r\n",
    ],
)
def test_a_service_that_is_not_smtp_reads_as_such_and_its_words_are_not_repeated(
    app,
    client,
    logged_in,
    submit_smtp,  # noqa: F811
    banner_server,
    banner,
):
    app.config[ALLOW_SETTING] = True
    banner_server.banner = banner
    page = try_connection(submit_smtp, "127.0.0.1", banner_server.port)
    assert f"Could not connect to 127.0.0.1:{banner_server.port}: {NOT_SMTP}" in page
    for word in (b"OpenSSH", b"nginx", b"Secret-Service", b"Dovecot"):
        assert word.decode() not in page


def test_closed_and_silent_ports_read_the_same(app, client, logged_in, submit_smtp, listener):  # noqa: F811
    """Refused or silent, it is only "no SMTP server answered": not a map of open and filtered ports."""
    app.config.update({ALLOW_SETTING: True, "SMTP_TIMEOUT": 0.3})
    closed, silent = free_port(), listener.getsockname()[1]
    assert f"Could not connect to 127.0.0.1:{closed}: {NO_SMTP_SERVER}" in try_connection(
        submit_smtp, "127.0.0.1", closed
    )
    assert f"Could not connect to 127.0.0.1:{silent}: {NO_SMTP_SERVER}" in try_connection(
        submit_smtp, "127.0.0.1", silent
    )


def test_an_smtp_server_still_reports_its_own_reply(app, client, logged_in, submit_smtp, make_smtp_sink):  # noqa: F811
    app.config[ALLOW_SETTING] = True
    sink = make_smtp_sink()
    page = try_connection(submit_smtp, sink.host, sink.port, security="none", username="", password="")
    assert f"Connected to 127.0.0.1:{sink.port} without logging in." in page


@pytest.mark.processes
def test_a_real_worker_refuses_too_and_the_emails_wait(app, stack, make_user, smtp_sink):
    """The worker reads the setting from its environment (here SMTP_ALLOW_PRIVATE_HOSTS=False, this
    module's setting), like every other engine setting."""
    account = make_account(make_user("sender"), smtp_sink)
    campaign = make_queued_campaign(account, 3)
    stack.worker()
    stack.beat(DISPATCH_INTERVAL="0.5")
    stack.wait_for(lambda: db.session.get(SMTPSettings, account.id).last_error is not None, 30, "refused")
    assert "127.0.0.1 is a loopback address" in stack.read(
        lambda: db.session.get(SMTPSettings, account.id).last_error
    )
    emails = stack.read(lambda: db.session.scalars(campaign.emails.select()).all())
    assert [(email.status, email.attempts) for email in emails] == [(EmailStatus.PENDING, 0)] * 3
    assert smtp_sink.count == 0
