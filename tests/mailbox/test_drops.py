"""A connection that drops in the middle of a read loses nothing: the chunks read before it stay read,
the error is shown on the account, and the next cycle goes on from there."""

from __future__ import annotations

from dataclasses import replace

from app.extensions import db
from app.mailbox.reader import read_mailbox
from app.models import Email, MailboxAccount, MailboxEvent, MailboxFolder
from app.smtp_crypto import decrypt_password
from app.states import EmailStatus
from tests.mailbox.conftest import make_mailbox, sent_campaign
from tests.mailbox.test_reader import dsn
from tests.tcp_cutter import TCPCutter


def test_a_dropped_connection_mid_read_keeps_what_was_read_and_the_next_cycle_resumes(
    dovecot, make_user, read_settings
):
    cutter = TCPCutter((dovecot.host, dovecot.port))
    try:
        user = make_user()
        mailbox = make_mailbox(user, dovecot, port=cutter.port)
        addresses = [f"r{i}@rcpt.example" for i in range(6)]
        sent_campaign(mailbox, addresses, [f"<m{i}@sender.example>" for i in range(6)])
        for i, address in enumerate(addresses):
            dovecot.deliver(dsn(address, f"<m{i}@sender.example>"))
        settings = replace(read_settings, chunk=2)
        # The server's answer that carries the fourth bounce never arrives whole.
        cutter.cut_when(lambda seen: b"r3@rcpt.example" in seen)

        first = read_mailbox(mailbox.id, settings, decrypt_password)

        assert cutter.cuts == 1
        assert first.error is not None
        assert "dropped" in first.error
        db.session.expire_all()
        assert db.session.get(MailboxAccount, mailbox.id).last_error == first.error
        place = db.session.scalar(db.select(MailboxFolder.last_uid))
        assert place == 2, "the chunk in flight is not marked read"
        assert db.session.scalar(db.select(db.func.count(MailboxEvent.id))) == 2

        cutter.cut_when(None)
        second = read_mailbox(mailbox.id, settings, decrypt_password)

        assert second.error is None
        assert second.messages == 4
        db.session.expire_all()
        assert db.session.get(MailboxAccount, mailbox.id).last_error is None
        assert db.session.scalar(db.select(db.func.count(MailboxEvent.id))) == 6
        assert set(db.session.scalars(db.select(Email.status))) == {EmailStatus.BOUNCED}
    finally:
        cutter.stop()
