"""Contacts, lists, segments and tags: a user's lasting audience, reused campaign after campaign.

A contact's status is not stored on it. It is read from the user's suppression list, the rows the
engine already refuses to mail: no suppression row means subscribed, and the row's reason says why not.
So the two can never disagree, and a suppressed address is never mailed whatever list it is on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, column_property, mapped_column

from app import clock
from app.audiences.member_counts import install_member_count_triggers
from app.extensions import Model, db
from app.models import Suppression, SuppressionReason

#: JSON everywhere; JSONB on PostgreSQL, so an import merges attributes with `||`. No index on them
#: yet: segments compare them with `->>`, a scan of the list (see docs/benchmarks.md).
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LIST_NAME_LENGTH = 200
TAG_NAME_LENGTH = 64


class ContactStatus:
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    ALL = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED)
    #: The status each suppression reason means; an address the user suppressed by hand is unsubscribed.
    OF_REASON: ClassVar[dict[str, str]] = {
        SuppressionReason.UNSUBSCRIBED: UNSUBSCRIBED,
        SuppressionReason.BOUNCED: BOUNCED,
        SuppressionReason.COMPLAINED: COMPLAINED,
        SuppressionReason.MANUAL: UNSUBSCRIBED,
    }


class ContactSource:
    IMPORT = "import"
    CAMPAIGN = "campaign"
    #: Confirmed their address through a list's public sign-up form (app.audiences.signup).
    SIGNUP = "signup"


class Contact(Model):
    """Someone a user mails: one per address (in any case) per user, with every column ever uploaded."""

    __tablename__ = "contact"
    __table_args__ = (
        # One contact per address in any case, as imports drop repeats in any case; also the upsert's
        # conflict target and the suppression list's join (it stores addresses lower-cased).
        sa.Index("uq_contact_user_address", "user_id", sa.text("lower(address)"), unique=True),
        # The address search (a part of an address), by trigrams on PostgreSQL, as the report's.
        sa.Index(
            "ix_contact_address_search",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
        # All contacts of a user in id order (keyset pages).
        sa.Index("ix_contact_user_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    #: Normalised as every import normalises (`app.recipients.validate.check_address`).
    address: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    #: Every uploaded column but the address and the name: {merge field key: value}.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)
    #: How the contact first came: a list import, a campaign's recipients (before audiences existed), or
    #: a sign-up form.
    source: Mapped[str] = mapped_column(sa.String(16), default=ContactSource.IMPORT)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)
    #: Why the address is on the user's suppression list, or None: the one truth `status` is read from.
    suppression_reason: Mapped[str | None] = column_property(
        sa.select(Suppression.reason)
        .where(Suppression.user_id == user_id, Suppression.address == sa.func.lower(address))
        .correlate_except(Suppression)
        .scalar_subquery()
    )

    @property
    def status(self) -> str:
        return status_of(self.suppression_reason)

    def __repr__(self) -> str:
        return f"<Contact {self.address}>"


class ContactList(Model):
    """A named group of contacts ("newsletter subscribers"); a contact may be on many."""

    __tablename__ = "contact_list"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(LIST_NAME_LENGTH))
    #: How many contacts are on the list, kept by the database's triggers (`member_counts`).
    member_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    def __repr__(self) -> str:
        return f"<ContactList {self.name!r}>"


class ListMember(Model):
    """A contact on a list. The primary key pages a list in contact order without a sort."""

    __tablename__ = "list_member"
    __table_args__ = (sa.Index("ix_list_member_contact_id", "contact_id"),)

    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact_list.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=clock.utcnow)


class Segment(Model):
    """A saved filter over a list (or all contacts, `list_id` None): contacts matching every condition.

    `conditions` is a list of {"kind": "attribute" | "tag" | "status", "key", "op", "value"} and of
    {"kind": "received" | "not received", "value"} (a campaign id, a number of days); what each means is
    `app.audiences.segments`.
    """

    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(LIST_NAME_LENGTH))
    list_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_list.id", ondelete="CASCADE"))
    conditions: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    def __repr__(self) -> str:
        return f"<Segment {self.name!r}>"


class Tag(Model):
    """A label on contacts ("vip"), given by hand, in bulk, or by an import's column."""

    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(TAG_NAME_LENGTH))

    def __repr__(self) -> str:
        return f"<Tag {self.name!r}>"


class ContactTag(Model):
    __tablename__ = "contact_tag"
    __table_args__ = (sa.Index("ix_contact_tag_contact_id", "contact_id"),)

    tag_id: Mapped[int] = mapped_column(sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)


class CampaignAudience(Model):
    """A list or a segment (exactly one) a campaign goes to. Its contacts are read when the campaign is
    scheduled and copied into its emails then: who joins a list later is not mailed by it."""

    __tablename__ = "campaign_audience"
    __table_args__ = (
        sa.CheckConstraint("(list_id IS NULL) <> (segment_id IS NULL)", name="one_source"),
        sa.Index("ix_campaign_audience_campaign_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    list_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact_list.id", ondelete="CASCADE"))
    segment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("segment.id", ondelete="CASCADE"))


sa.event.listen(
    db.metadata, "after_create", lambda _metadata, connection, **_: install_member_count_triggers(connection)
)


def status_of(reason: str | None) -> str:
    """A contact's status from its suppression reason (None: not suppressed)."""
    return (
        ContactStatus.SUBSCRIBED
        if reason is None
        else ContactStatus.OF_REASON.get(reason, ContactStatus.UNSUBSCRIBED)
    )
