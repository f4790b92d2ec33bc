"""Building campaigns for the campaign page tests: content, recipients and an SMTP account."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, CampaignRecipient, Email, SMTPSettings, User
from app.states import CampaignStatus

HTML = "<p>Dear {{ name }}, your code is {{ code }}.</p>"


def make_campaign(user: User, recipients: int | list[str] = 3, **fields: Any) -> Campaign:
    """A draft with a subject, an HTML body using the `code` column, and `recipients`
    (a count, or addresses) each with a code."""
    campaign = Campaign(
        user_id=user.id,
        name=fields.pop("name", "Spring sale"),
        subject=fields.pop("subject", "Hello {{ name }}"),
        html_body=fields.pop("html_body", HTML),
        text_body=fields.pop("text_body", "Dear {{ name }}, your code is {{ code }}.\n"),
        status=fields.pop("status", CampaignStatus.DRAFT),
        merge_fields=fields.pop("merge_fields", [{"key": "code", "header": "Code"}]),
        **fields,
    )
    db.session.add(campaign)
    db.session.flush()
    addresses = (
        [f"reader{i}@rcpt.example" for i in range(recipients)] if isinstance(recipients, int) else recipients
    )
    db.session.add_all(
        CampaignRecipient(
            user_id=user.id,
            campaign_id=campaign.id,
            position=position,
            address=address,
            name=f"Reader {position}",
            merge_data={"code": f"C{position}"},
        )
        for position, address in enumerate(addresses)
    )
    db.session.commit()
    return campaign


def make_smtp_account(user: User, **fields: Any) -> SMTPSettings:
    """An account that is never connected to (no sink): for scheduling, which only records it."""
    account = SMTPSettings(
        user_id=user.id,
        host="smtp.example.com",
        port=587,
        from_address=f"{user.username}@example.com",
        **fields,
    )
    db.session.add(account)
    db.session.commit()
    return account


def reload(campaign: Campaign) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id)


def emails_of(campaign: Campaign) -> list[Email]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Email).where(Email.campaign_id == campaign.id).order_by(Email.id))
    )


def statuses_of(campaign: Campaign) -> list[str]:
    return [email.status for email in emails_of(campaign)]
