"""Factories for engine data: SMTP accounts pointed at a test sink, and campaigns with their emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings, User
from app.smtp_crypto import encrypt_password
from app.states import CampaignStatus
from tests.smtp_sink import SMTPSink


def make_account(user: User, sink: SMTPSink, **fields: Any) -> SMTPSettings:
    """An SMTP account for `user` that sends to `sink`, with the sink's TLS mode and credentials."""
    security = {"none": "none", "starttls": "starttls", "implicit": "ssl"}[sink.tls]
    account = SMTPSettings(
        user_id=user.id,
        host=sink.host,
        port=sink.port,
        security=security,
        username=sink.username,
        password_encrypted=encrypt_password(sink.password) if sink.password else None,
        from_address=fields.pop("from_address", f"{user.username}@sender.example"),
        from_name=fields.pop("from_name", user.username.title()),
        **fields,
    )
    db.session.add(account)
    db.session.commit()
    return account


def make_campaign(
    account: SMTPSettings,
    recipients: int | list[str] = 3,
    status: str = CampaignStatus.SCHEDULED,
    scheduled_at: datetime | None = None,
    **fields: Any,
) -> Campaign:
    """A campaign sending through `account` to `recipients` (a count, or explicit addresses)."""
    addresses = (
        [f"r{i:05d}@rcpt.example" for i in range(recipients)] if isinstance(recipients, int) else recipients
    )
    when = scheduled_at or clock.utcnow()
    campaign = Campaign(
        user_id=account.user_id,
        smtp_account_id=account.id,
        name=fields.pop("name", "Spring sale"),
        subject=fields.pop("subject", "Hello {{ name }}"),
        html_body=fields.pop("html_body", "<p>Dear {{ name }}, your code is {{ code }}.</p>"),
        status=status,
        scheduled_at=when,
        **fields,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all(
        Email(
            user_id=account.user_id,
            campaign_id=campaign.id,
            smtp_account_id=account.id,
            address=address,
            name=f"Reader {index}",
            merge_data={"code": f"C{index}"},
            scheduled_at=when,
        )
        for index, address in enumerate(addresses)
    )
    db.session.commit()
    return campaign
