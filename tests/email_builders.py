"""Campaigns with emails in any state, built directly, for the figure and report tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Campaign, Email, SMTPSettings, User
from app.states import CampaignStatus, EmailStatus


def add_campaign(
    user: User, account: SMTPSettings | None, status: str = CampaignStatus.SENDING, **fields: Any
) -> Campaign:
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
