"""Can I tell the app where my account's mailbox is, keep its password safe, and check it from the page?"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app.extensions import db
from app.models import MailboxAccount
from app.smtp_crypto import decrypt_password
from tests.conftest import post_form
from tests.services import free_port

MAILBOX_FORM = {
    "enabled": "y",
    "host": "",
    "port": "993",
    "security": "ssl",
    "username": "",
    "password": "",
    "folders": "INBOX",
}


@pytest.fixture
def smtp_saved(client, logged_in, submit_smtp) -> None:
    submit_smtp()


def submit_mailbox(client, url: str = "/settings/mailbox", **changes: str):
    fields = {f"mailbox-{name}": value for name, value in {**MAILBOX_FORM, **changes}.items()}
    return post_form(client, url, fields)


def saved_mailbox() -> MailboxAccount:
    db.session.expire_all()
    return db.session.scalars(db.select(MailboxAccount)).one()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield listener.getsockname()[1]


def test_the_mailbox_is_offered_beside_the_smtp_account_with_the_providers_imap_host(
    client, smtp_saved, submit_smtp
):
    submit_smtp(host="smtp.gmail.com")
    page = client.get("/settings/").get_data(as_text=True)
    assert "Mailbox: bounces, complaints and replies" in page
    assert 'placeholder="imap.gmail.com"' in page


def test_saving_the_mailbox_keeps_its_own_password_encrypted_and_blank_fields_mean_the_smtp_ones(
    client, smtp_saved
):
    response = submit_mailbox(client, password="imap-secret-4411", folders="INBOX\n  Bounces  \n")
    assert response.status_code == 302
    mailbox = saved_mailbox()
    assert mailbox.enabled
    assert mailbox.host == ""
    assert mailbox.username == ""
    assert b"imap-secret-4411" not in mailbox.password_encrypted
    assert decrypt_password(mailbox.password_encrypted) == "imap-secret-4411"
    assert mailbox.folder_names() == ["INBOX", "Bounces"]
    submit_mailbox(client, password="")
    assert decrypt_password(saved_mailbox().password_encrypted) == "imap-secret-4411", (
        "blank keeps the saved one"
    )


def test_the_mailbox_needs_an_smtp_account_first(client, logged_in):
    response = submit_mailbox(client)
    assert response.status_code == 302
    assert "Save your SMTP account first" in client.get("/settings/").get_data(as_text=True)


def test_test_mailbox_logs_in_and_lists_the_folders_saving_nothing(client, smtp_saved, dovecot):
    response = submit_mailbox(
        client, "/settings/mailbox/test", host=dovecot.host, port=str(dovecot.port), security="none",
        username=dovecot.username, password=dovecot.password,
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert (
        f"Logged in to 127.0.0.1:{dovecot.port} as {dovecot.username}. Folders: INBOX (0 messages)." in page
    )
    assert db.session.scalars(db.select(MailboxAccount)).all() == []


def test_test_mailbox_over_tls_trusts_the_configured_ca(
    client, smtp_saved, make_dovecot, app, smtp_tls_files
):
    server = make_dovecot(tls=True)
    app.config["SMTP_TLS_CA_FILE"] = smtp_tls_files.ca_file
    page = submit_mailbox(
        client, "/settings/mailbox/test", host=server.host, port=str(server.port), security="ssl",
        username=server.username, password=server.password,
    ).get_data(as_text=True)  # fmt: skip
    assert f"Logged in to 127.0.0.1:{server.port}" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"password": "wrong"},
            "127.0.0.1 refused the login for sender@example.com: check the login and password",
        ),
        ({"folders": "Nowhere"}, "but it has no folder &#39;Nowhere&#39;."),
        ({"security": "ssl"}, "TLS failed with 127.0.0.1:"),
    ],
)
def test_test_mailbox_says_what_went_wrong(client, smtp_saved, dovecot, changes, message):
    fields = {"host": dovecot.host, "port": str(dovecot.port), "security": "none", "username": dovecot.username,
              "password": dovecot.password, **changes}  # fmt: skip
    page = submit_mailbox(client, "/settings/mailbox/test", **fields).get_data(as_text=True)
    assert message in page


def test_test_mailbox_reports_an_untrusted_certificate(client, smtp_saved, make_dovecot):
    server = make_dovecot(tls=True)
    page = submit_mailbox(
        client, "/settings/mailbox/test", host=server.host, port=str(server.port), security="ssl",
        username=server.username, password=server.password,
    ).get_data(as_text=True)  # fmt: skip
    assert "the server&#39;s certificate is not trusted" in page


def test_test_mailbox_reports_a_silent_server_and_a_closed_port_and_an_unknown_host(
    client, smtp_saved, silent_server, app, monkeypatch
):
    app.config["MAILBOX_TIMEOUT"] = 0.5
    page = submit_mailbox(client, "/settings/mailbox/test", host="127.0.0.1", port=str(silent_server), security="none",
                          username="a", password="b").get_data(as_text=True)  # fmt: skip
    assert f"No answer from 127.0.0.1:{silent_server} within 0.5 seconds." in page
    closed = free_port()
    page = submit_mailbox(client, "/settings/mailbox/test", host="127.0.0.1", port=str(closed), security="none",
                          username="a", password="b").get_data(as_text=True)  # fmt: skip
    assert "the connection was refused" in page

    def no_such_name(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)  # as DNS answers; the tests resolve nothing
    page = submit_mailbox(client, "/settings/mailbox/test", host="no-such-host.invalid", security="none",
                          username="a", password="b").get_data(as_text=True)  # fmt: skip
    assert "No such host: no-such-host.invalid could not be found in DNS." in page
