"""The tests' IMAP server is a real one: it logs our user in and serves what was delivered to it."""

from __future__ import annotations

import ssl

from imap_tools import MailBox, MailBoxUnencrypted


def test_a_delivered_message_is_served_over_imap(dovecot):
    dovecot.deliver(b"From: a@example.org\r\nSubject: hello\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n")
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(dovecot.username, dovecot.password) as box:
        subjects = [message.subject for message in box.fetch(mark_seen=False)]
    assert subjects == ["hello"]


def test_the_tls_server_is_trusted_with_the_tests_ca(make_dovecot, smtp_tls_files):
    server = make_dovecot(tls=True)
    context = ssl.create_default_context(cafile=smtp_tls_files.ca_file)
    with MailBox(server.host, server.port, ssl_context=context).login(
        server.username, server.password
    ) as box:
        assert box.folder.status("INBOX")["MESSAGES"] == 0
