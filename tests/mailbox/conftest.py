"""Fixtures for the mailbox reader: mailboxes on the tests' Dovecot (tests/dovecot_fixtures.py), sent
campaigns, and one read cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app import clock
from app.extensions import db
from app.mailbox.reader import ReadReport, ReadSettings, read_mailbox
from app.models import Campaign, Email, MailboxAccount, SMTPSettings, User
from app.smtp_crypto import decrypt_password, encrypt_password
from app.states import CampaignStatus, EmailStatus
from tests.builders import make_queued_campaign
from tests.dovecot import Dovecot


@pytest.fixture
def read_settings(app: Flask) -> ReadSettings:
    return ReadSettings.from_config(app.config)


@pytest.fixture
def read_cycle(read_settings: ReadSettings) -> Callable[[MailboxAccount], ReadReport]:
    """One read of a mailbox, as beat's cycle does it."""

    def read(mailbox: MailboxAccount) -> ReadReport:
        report = read_mailbox(mailbox.id, read_settings, decrypt_password)
        db.session.expire_all()
        return report

    return read


def make_mailbox(user: User, server: Dovecot, **fields: Any) -> MailboxAccount:
    """An SMTP account for `user` whose mailbox is `server`'s user, enabled, plain IMAP on loopback."""
    account = SMTPSettings(
        user_id=user.id,
        host="127.0.0.1",
        port=2525,
        security="none",
        username=server.username,
        password_encrypted=encrypt_password(server.password),
        from_address=server.username,
    )
    db.session.add(account)
    db.session.flush()
    mailbox = MailboxAccount(
        smtp_account_id=account.id,
        **{
            "enabled": True,
            "host": server.host,
            "port": server.port,
            "security": "ssl" if server.tls_files else "none",
            **fields,
        },
    )
    db.session.add(mailbox)
    db.session.commit()
    return mailbox


def sent_campaign(
    mailbox: MailboxAccount, addresses: list[str], message_ids: list[str] | None = None
) -> Campaign:
    """A finished campaign whose emails went to `addresses` with `message_ids` (made up if not given)."""
    campaign = make_queued_campaign(mailbox.smtp_account, addresses, status=CampaignStatus.COMPLETED)
    emails = db.session.scalars(campaign.emails.select().order_by(Email.id)).all()
    ids = message_ids or [f"<{index}.{campaign.id}@sender.example>" for index in range(len(emails))]
    for email, message_id in zip(emails, ids, strict=True):
        email.status, email.message_id, email.sent_at = EmailStatus.SENT, message_id or None, clock.utcnow()
    db.session.commit()
    return campaign
