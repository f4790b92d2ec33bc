"""Test data built directly in the database: SMTP accounts, campaigns at every stage, their emails.

`make_*` builds something a user would have made (an account, a campaign with its content and
recipients); `add_*` adds bare rows in a chosen state, for the figures, reports and access tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app import clock
from app.campaigns.recipients.snapshot import write_chunk
from app.extensions import db
from app.models import Campaign, CampaignRecipient, Email, SMTPSettings, User
from app.smtp_crypto import encrypt_password
from app.states import CampaignStatus, EmailStatus
from tests.smtp_sink import SMTPSink

HTML = "<p>Dear {{ name }}, your code is {{ code }}.</p>"
TEXT = "Dear {{ name }}, your code is {{ code }}.\n"
#: Where an account built without a sink points: no test connects to it (scheduling only records it).
UNUSED_HOST = "smtp.example.com"


def make_account(user: User, sink: SMTPSink | None = None, **fields: Any) -> SMTPSettings:
    """An SMTP account of `user`: one that sends to `sink`, with the sink's TLS mode and credentials and
    a from-name, or, with no sink, one that is never connected to and has no from-name."""
    if sink is None:
        defaults: dict[str, Any] = {
            "host": UNUSED_HOST,
            "port": 587,
            "from_address": f"{user.username}@example.com",
        }
    else:
        defaults = {
            "host": sink.host,
            "port": sink.port,
            "security": {"none": "none", "starttls": "starttls", "implicit": "ssl"}[sink.tls],
            "username": sink.username,
            "password_encrypted": encrypt_password(sink.password) if sink.password else None,
            "from_address": f"{user.username}@sender.example",
            "from_name": user.username.title(),
        }
    account = SMTPSettings(user_id=user.id, **{**defaults, **fields})
    db.session.add(account)
    db.session.commit()
    return account


def _addresses(recipients: int | list[str], pattern: str) -> list[str]:
    return [pattern.format(i) for i in range(recipients)] if isinstance(recipients, int) else recipients


def make_campaign(user: User, recipients: int | list[str] = 3, **fields: Any) -> Campaign:
    """A draft as its author leaves it: a subject, an HTML body using the `code` column, and
    `recipients` (a count, or addresses) each with a code."""
    campaign = Campaign(
        user_id=user.id,
        name=fields.pop("name", "Spring sale"),
        subject=fields.pop("subject", "Hello {{ name }}"),
        html_body=fields.pop("html_body", HTML),
        text_body=fields.pop("text_body", TEXT),
        status=fields.pop("status", CampaignStatus.DRAFT),
        merge_fields=fields.pop("merge_fields", [{"key": "code", "header": "Code"}]),
        **fields,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all(
        CampaignRecipient(
            user_id=user.id,
            campaign_id=campaign.id,
            position=position,
            address=address,
            name=f"Reader {position}",
            merge_data={"code": f"C{position}"},
        )
        for position, address in enumerate(_addresses(recipients, "reader{}@rcpt.example"))
    )
    db.session.commit()
    return campaign


def make_queued_campaign(
    account: SMTPSettings,
    recipients: int | list[str] = 3,
    status: str = CampaignStatus.SCHEDULED,
    scheduled_at: datetime | None = None,
    **fields: Any,
) -> Campaign:
    """A campaign whose emails are queued to send through `account` to `recipients` (a count, or
    addresses): what scheduling a draft makes, for the engine."""
    when = scheduled_at or clock.utcnow()
    campaign = Campaign(
        user_id=account.user_id,
        smtp_account_id=account.id,
        name=fields.pop("name", "Spring sale"),
        subject=fields.pop("subject", "Hello {{ name }}"),
        html_body=fields.pop("html_body", HTML),
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
        for index, address in enumerate(_addresses(recipients, "r{:05d}@rcpt.example"))
    )
    db.session.commit()
    return campaign


def add_draft(user: User, **fields: Any) -> Campaign:
    """A draft with only a name: no content, no recipients."""
    campaign = Campaign(user_id=user.id, name=fields.pop("name", "Spring sale"), **fields)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def add_campaign(
    user: User, account: SMTPSettings | None, status: str = CampaignStatus.SENDING, **fields: Any
) -> Campaign:
    """A campaign in `status` with no emails yet (add them with `add_emails`)."""
    campaign = Campaign(
        user_id=user.id,
        smtp_account_id=account.id if account else None,
        name=fields.pop("name", "Spring sale"),
        status=status,
        scheduled_at=fields.pop("scheduled_at", clock.utcnow()),
        **fields,
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def add_emails(campaign: Campaign, count: int, status: str = EmailStatus.PENDING, **fields: Any) -> None:
    """`count` emails of the campaign, alike but for their addresses, which are unique across calls."""
    first = db.session.scalar(sa.select(sa.func.count(Email.id)))
    fields.setdefault("scheduled_at", clock.utcnow())
    db.session.add_all(
        Email(
            user_id=campaign.user_id,
            campaign_id=campaign.id,
            smtp_account_id=campaign.smtp_account_id,
            address=fields.get("address", f"r{first + index}@rcpt.example"),
            status=status,
            **{name: value for name, value in fields.items() if name != "address"},
        )
        for index in range(count)
    )
    db.session.commit()


def add_failures(campaign: Campaign, temporary: int = 2, permanent: int = 3) -> None:
    """Failed emails of the campaign: `temporary` given up on after 5 busy tries, `permanent` refused
    for good (the mailbox does not exist)."""
    add_emails(
        campaign,
        temporary,
        EmailStatus.FAILED,
        attempts=5,
        last_smtp_code=450,
        last_smtp_message="4.2.1 Mailbox busy (gave up after 5 attempts)",
    )
    add_emails(
        campaign,
        permanent,
        EmailStatus.FAILED,
        attempts=1,
        last_smtp_code=550,
        last_smtp_message="5.1.1 user unknown",
        permanent_failure=True,
    )


def reload(campaign: Campaign) -> Campaign:
    """The campaign as the database has it now."""
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id)


def emails_of(campaign: Campaign) -> list[Email]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Email).where(Email.campaign_id == campaign.id).order_by(Email.id))
    )


def write_all_emails(campaign: Campaign, chunk_size: int = 10_000) -> int:
    """What the workers do after a campaign is scheduled to lists and segments: its emails written from
    its contacts, a chunk per commit, until none is left (returns how many chunks that took)."""
    chunks = 0
    while True:
        chunk = write_chunk(campaign.id, chunk_size)
        db.session.commit()
        chunks += 1
        if not chunk.more:
            return chunks


def statuses_of(campaign: Campaign) -> list[str]:
    return [email.status for email in emails_of(campaign)]
