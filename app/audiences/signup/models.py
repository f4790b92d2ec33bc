"""A list's sign-up form (`ListSignup`) and each address that asked to join through it (`SignupRequest`)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.audiences.models import ContactList
from app.extensions import Model
from app.models import SMTPSettings


def new_form_token() -> str:
    """The public form's address: random, so it gives away no id and can't be guessed."""
    return secrets.token_urlsafe(16)


class ListSignup(Model):
    """A list's public sign-up form: on or off, and the SMTP account its confirmations go through."""

    __tablename__ = "list_signup"

    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact_list.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_form_token)
    enabled: Mapped[bool] = mapped_column(default=False)
    smtp_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("smtp_settings.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)

    contact_list: Mapped[ContactList] = relationship()
    smtp_account: Mapped[SMTPSettings | None] = relationship()

    def __repr__(self) -> str:
        return f"<ListSignup of list {self.list_id} {'on' if self.enabled else 'off'}>"


class SignupStatus:
    #: Waiting for its confirmation to be sent (now, or at `next_attempt_at`).
    PENDING = "pending"
    #: A worker is sending its confirmation.
    SENDING = "sending"
    #: Its confirmation went out; the link in it was not opened yet.
    SENT = "sent"
    #: The link was opened: the contact is on the list.
    CONFIRMED = "confirmed"
    #: No confirmation will go out (`last_error` says why).
    FAILED = "failed"
    #: The address had bounced or complained, or the user suppressed it: it is sent nothing.
    REFUSED = "refused"
    ALL = (PENDING, SENDING, SENT, CONFIRMED, FAILED, REFUSED)


class SignupRequest(Model):
    """One address that asked to join one list: one row however often it asks (`requested_at` keeps a
    repeat from sending another confirmation too soon)."""

    __tablename__ = "signup_request"
    __table_args__ = (
        sa.UniqueConstraint("list_id", "address"),
        # The beat sweep's "confirmations due", without a scan.
        sa.Index("ix_signup_request_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("contact_list.id", ondelete="CASCADE"))
    #: Lower-cased, as the suppression list and the contacts compare.
    address: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=SignupStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<SignupRequest {self.address} to list {self.list_id} {self.status}>"
