"""The data model (DESIGN.md, "Data"). Every timestamp is naive UTC; see `app.clock`."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.campaign_contacts import install_trigger as install_campaign_contact_trigger
from app.database import install_extensions
from app.email_counts import install_triggers
from app.extensions import Model, db
from app.states import CLAIMED, DELIVERED, CampaignStatus, EmailStatus


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    #: Part of every session cookie of this user's (`get_id`): a new one ends all their sessions.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Kolkata")
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    smtp_accounts: Mapped[list[SMTPSettings]] = relationship(back_populates="user")
    campaigns: WriteOnlyMapped[Campaign] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What a session cookie holds for this user (app.auth.sessions checks it on every request)."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session cookie of this user's, copies included, stops opening anything."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ThrottleCounter(Model):
    """Attempts counted against one budget in its current window (app.throttle_storage)."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    count: Mapped[int]
    #: When the window ends, in seconds since the epoch (the clock the `limits` library counts by).
    expires_at: Mapped[float] = mapped_column(index=True)


class Security:
    """How an SMTP connection is protected."""

    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"
    ALL = (STARTTLS, SSL, NONE)


class SMTPSettings(Model):
    """An SMTP account a user sends through, with its limits and the engine's state for it.

    The engine keys everything by account, not by user, so a user may later have several.
    `batch_id`/`batch_heartbeat_at` mark the one batch in flight; `paused_until` is a provider's
    rate-limit cooldown; `last_send_at` keeps the interval between emails across batches; `held` marks
    an account problem only the user can solve (a refusal of the sender, the login or the IP): the
    engine sends nothing more until they save the settings or press Try again.
    """

    __tablename__ = "smtp_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(default=587)
    security: Mapped[str] = mapped_column(sa.String(16), default=Security.STARTTLS)
    username: Mapped[str] = mapped_column(sa.String(255), default="")
    password_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    from_address: Mapped[str] = mapped_column(sa.String(254))
    from_name: Mapped[str] = mapped_column(sa.String(255), default="")
    reply_to: Mapped[str] = mapped_column(sa.String(254), default="")

    send_interval: Mapped[float | None]
    batch_size: Mapped[int | None]
    hourly_cap: Mapped[int | None]
    daily_cap: Mapped[int | None]

    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None]
    held: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_verified_at: Mapped[datetime | None]
    last_send_at: Mapped[datetime | None]
    batch_id: Mapped[str | None] = mapped_column(sa.String(36))
    batch_heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    user: Mapped[User] = relationship(back_populates="smtp_accounts")
    mailbox: Mapped[MailboxAccount | None] = relationship(back_populates="smtp_account")

    def __repr__(self) -> str:
        return f"<SMTPSettings {self.id} {self.host}:{self.port}>"


class MailboxAccount(Model):
    """The IMAP mailbox of an SMTP account, read for bounces, complaints and replies (app.mailbox).

    Blank host, login or password mean "the same as the SMTP account's" (`app.mailbox.endpoint`).
    `reading_until` is a lease: the reader that holds it is the only one reading this mailbox.
    """

    __tablename__ = "mailbox_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    smtp_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("smtp_settings.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(default=False)
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    port: Mapped[int] = mapped_column(default=993)
    security: Mapped[str] = mapped_column(sa.String(16), default=Security.SSL)
    username: Mapped[str] = mapped_column(sa.String(255), default="")
    password_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Folders to watch, one per line.
    folders: Mapped[str] = mapped_column(sa.Text, default="INBOX")
    last_read_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    reading_until: Mapped[datetime | None]

    smtp_account: Mapped[SMTPSettings] = relationship(back_populates="mailbox")

    def folder_names(self) -> list[str]:
        return [name.strip() for name in self.folders.splitlines() if name.strip()] or ["INBOX"]

    def __repr__(self) -> str:
        return f"<MailboxAccount {self.id} of SMTP account {self.smtp_account_id}>"


class MailboxFolder(Model):
    """How far a folder has been read: every message up to `last_uid` while its UIDVALIDITY holds."""

    __tablename__ = "mailbox_folder"
    __table_args__ = (sa.UniqueConstraint("mailbox_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("mailbox_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(255))
    uidvalidity: Mapped[int] = mapped_column(sa.BigInteger)
    last_uid: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class MailboxEventKind:
    """What a message found in the mailbox was."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto_reply"
    REPLY = "reply"
    ALL = (BOUNCE, COMPLAINT, AUTO_REPLY, REPLY)


class MailboxEvent(Model):
    """One message of the mailbox that concerned one of our emails: a bounce, complaint or reply.

    Unique by where it was read (mailbox, folder, UIDVALIDITY, UID): a message read twice counts once.
    """

    __tablename__ = "mailbox_event"
    __table_args__ = (
        sa.UniqueConstraint("mailbox_id", "folder", "uidvalidity", "uid"),
        sa.Index("ix_mailbox_event_email", "email_id"),
        sa.Index("ix_mailbox_event_user_address", "user_id", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    mailbox_id: Mapped[int] = mapped_column(sa.ForeignKey("mailbox_account.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(sa.String(255))
    uidvalidity: Mapped[int] = mapped_column(sa.BigInteger)
    uid: Mapped[int] = mapped_column(sa.BigInteger)
    email_id: Mapped[int | None] = mapped_column(sa.ForeignKey("email.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: The recipient the message is about, lower-cased.
    address: Mapped[str] = mapped_column(sa.String(254), default="")
    #: A bounce's enhanced status code (5.1.1) and whether it is a hard one; its diagnostic, or a
    #: reply's first lines.
    status_code: Mapped[str] = mapped_column(sa.String(16), default="")
    hard: Mapped[bool] = mapped_column(default=False)
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    def __repr__(self) -> str:
        return f"<MailboxEvent {self.kind} {self.address} uid {self.uid}>"


class Campaign(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    smtp_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("smtp_settings.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(998), default="")
    #: The line an inbox shows after the subject (a hidden span at the top of the HTML).
    preheader: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    html_body: Mapped[str] = mapped_column(sa.Text, default="")
    text_body: Mapped[str] = mapped_column(sa.Text, default="")
    text_edited: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(16), default=CampaignStatus.DRAFT, index=True)
    scheduled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)
    completed_at: Mapped[datetime | None]
    #: Set when the user deletes the campaign: it leaves their lists; its sent history stays.
    deleted_at: Mapped[datetime | None]
    #: The recipients' columns offered as merge fields: [{"key": ..., "header": ...}, ...].
    merge_fields: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    #: The longest value of each field (`name`, `email` and every column) among its recipients, kept when
    #: they are saved: the trial render that checks the templates uses them (None: no recipients yet).
    longest_values: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    #: When the last chunk of its emails was written from its contacts (or they were taken, at schedule):
    #: beat's sweep restarts a writing that has not moved for `EMAIL_CHUNK_LEASE` (app.tasks).
    emails_written_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="campaigns")
    smtp_account: Mapped[SMTPSettings | None] = relationship()
    emails: WriteOnlyMapped[Email] = relationship(back_populates="campaign", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r} {self.status}>"


#: The email's status in the conditions of its partial indexes (the table is not declared yet).
_EMAIL_STATUS = sa.column("status", sa.String)


def _partial(condition: sa.ColumnElement[bool] | sa.TextClause) -> dict[str, Any]:
    """An index's keywords that make it partial, on PostgreSQL and SQLite alike."""
    return {"postgresql_where": condition, "sqlite_where": condition}


class Email(Model):
    """One recipient of a campaign, and everything the engine knows about its delivery."""

    __table_args__ = (
        # The dispatcher's "due emails of this account, oldest first" without a scan.
        sa.Index(
            "ix_email_due",
            "smtp_account_id",
            "scheduled_at",
            "id",
            **_partial(_EMAIL_STATUS == EmailStatus.PENDING),
        ),
        # Stale claims, found by their age.
        sa.Index(
            "ix_email_claimed",
            "claimed_at",
            **_partial(_EMAIL_STATUS.in_(CLAIMED)),
        ),
        # A batch finds its emails.
        sa.Index(
            "ix_email_batch",
            "batch_id",
            **_partial(sa.text("batch_id IS NOT NULL")),
        ),
        # Hourly and daily caps count an account's recent sends.
        sa.Index(
            "ix_email_account_sent",
            "smtp_account_id",
            "sent_at",
            **_partial(_EMAIL_STATUS.in_(DELIVERED)),
        ),
        # A campaign's report filtered by status, in id order (keyset pages).
        sa.Index("ix_email_campaign_status", "campaign_id", "status", "id"),
        # A campaign's report unfiltered, in id order.
        sa.Index("ix_email_campaign_id", "campaign_id", "id"),
        # The report's address search (a part of an address: `ILIKE '%...%'`), by trigrams on PostgreSQL
        # (pg_trgm, see `app.database`); SQLite makes it a plain index it does not use for this.
        sa.Index(
            "ix_email_address_search",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
        # A bounce or a reply names the email by its Message-ID.
        sa.Index(
            "ix_email_message_id",
            "message_id",
            postgresql_where=sa.text("message_id IS NOT NULL"),
            sqlite_where=sa.text("message_id IS NOT NULL"),
        ),
        # The emails a user sent one address (a contact's history), as the suppression check compares.
        sa.Index("ix_email_user_address", "user_id", sa.text("lower(address)")),
        # The dashboard's latest failures.
        sa.Index(
            "ix_email_user_failed",
            "user_id",
            "id",
            **_partial(_EMAIL_STATUS == EmailStatus.FAILED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    smtp_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("smtp_settings.id", ondelete="SET NULL")
    )
    address: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    merge_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default=EmailStatus.PENDING)
    scheduled_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    rate_limit_retry_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_smtp_code: Mapped[int | None]
    last_smtp_message: Mapped[str | None] = mapped_column(sa.Text)
    #: Set when the email failed for good: the receiving server refused it (5xx) or the message could
    #: not be built. A temporary failure given up on after MAX_ATTEMPTS leaves it false, and only such
    #: failures are what "Retry failed" retries unless the user asks for the permanent ones too.
    permanent_failure: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(sa.String(255))
    batch_id: Mapped[str | None] = mapped_column(sa.String(36))
    claimed_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship(back_populates="emails")

    def __repr__(self) -> str:
        return f"<Email {self.id} {self.address} {self.status}>"


class EmailCount(Model):
    """How many of a campaign's emails are in a status: kept by database triggers (`app.email_counts`)."""

    __tablename__ = "email_count"

    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<EmailCount {self.campaign_id} {self.status} {self.count}>"


class SentCount(Model):
    """How many emails a user sent in a UTC quarter hour: kept by database triggers (`app.email_counts`)."""

    __tablename__ = "sent_count"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SentCount {self.user_id} {self.starts_at:%Y-%m-%d %H:%M} {self.count}>"


sa.event.listen(
    db.metadata, "before_create", lambda _metadata, connection, **_: install_extensions(connection)
)
sa.event.listen(db.metadata, "after_create", lambda _metadata, connection, **_: install_triggers(connection))
sa.event.listen(
    db.metadata,
    "after_create",
    lambda _metadata, connection, **_: install_campaign_contact_trigger(connection),
)


class SuppressionReason:
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"


class Suppression(Model):
    """An address a user must never mail again. Addresses are stored lower-cased."""

    __table_args__ = (sa.UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(sa.String(254))
    reason: Mapped[str] = mapped_column(sa.String(16), default=SuppressionReason.MANUAL)
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    def __repr__(self) -> str:
        return f"<Suppression {self.address} {self.reason}>"


class CampaignRecipient(Model):
    """A campaign's audience while it is being prepared; scheduling turns each into an `Email`."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (sa.Index("ix_campaign_recipient_campaign_position", "campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    position: Mapped[int]
    address: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    merge_data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    def __repr__(self) -> str:
        return f"<CampaignRecipient {self.address}>"


class CampaignContact(Model):
    """A contact a campaign sent to lists and segments still has to be written an `Email` for.

    Scheduling takes who is mailed here, contact ids alone: a narrow row, no index but the key and no
    foreign key (writing 500,000 emails at once cost 38 s, mostly the email table's indexes and foreign
    keys; a deleted campaign's rows go by a trigger, `app.campaign_contacts`). The emails are then written
    ahead of the engine in chunks, each deleting its rows (`app.campaigns.recipients.snapshot`). A
    campaign with rows left is not finished (`app.states`).
    """

    __tablename__ = "campaign_contact"

    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contact_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class Template(Model):
    """A saved email body a user can start a campaign from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(998), default="")
    html_body: Mapped[str] = mapped_column(sa.Text, default="")
    text_body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)

    def __repr__(self) -> str:
        return f"<Template {self.name!r}>"
