"""The user's SMTP account: finding it, saving the form into it, and the engine's state for it."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
from flask import current_app
from flask_login import current_user

from app import clock
from app.extensions import db
from app.models import Email, SMTPSettings
from app.ownership import owned
from app.sending.connection import Endpoint, endpoint_for
from app.sending.settings import EngineSettings
from app.settings.forms import SMTPAccountForm
from app.smtp_crypto import PasswordUnreadable, decrypt_password, encrypt_password
from app.states import EmailStatus

# Form fields stored as they are; the password is handled on its own.
ACCOUNT_FIELDS = (
    "host",
    "port",
    "security",
    "username",
    "from_address",
    "from_name",
    "reply_to",
    "send_interval",
    "batch_size",
    "hourly_cap",
    "daily_cap",
)
#: What the user is told when a cooldown is ended early, from Settings or a campaign's page.
RESUMED = "Sending resumes now. If the provider still refuses, the cooldown starts again."
RELEASED = "Sending starts again. If the provider still refuses, the account is held again."


def current_account() -> SMTPSettings | None:
    """The account the settings page edits: the user's first (one per user for now)."""
    return db.session.scalar(owned(SMTPSettings).order_by(SMTPSettings.id).limit(1))


def copy_form(form: SMTPAccountForm, account: SMTPSettings) -> None:
    """Put the form's values on `account`, the password aside."""
    for name in ACCOUNT_FIELDS:
        setattr(account, name, getattr(form, name).data)


def save_account(form: SMTPAccountForm, account: SMTPSettings | None) -> SMTPSettings:
    """Store a validated form in the user's account, creating it on the first save."""
    if account is None:
        account = SMTPSettings(user_id=current_user.id)
        db.session.add(account)
    copy_form(form, account)
    # New settings deserve a fresh try: the engine waits RETRY_BACKOFF after an account error.
    release_hold(account)
    if not form.username.data:
        account.password_encrypted = None
    elif form.password.data:
        account.password_encrypted = encrypt_password(form.password.data)
    return account


def password_unreadable(account: SMTPSettings | None) -> bool:
    """A password is saved but the current encryption key can't read it (the key changed)."""
    if account is None or account.password_encrypted is None:
        return False
    try:
        decrypt_password(account.password_encrypted)
    except PasswordUnreadable:
        return True
    return False


def account_endpoint(account: SMTPSettings, password: str | None = None) -> Endpoint:
    """Where and how the engine connects for `account`, with `password` instead of the saved one if given.

    Raises `PasswordUnreadable` when the saved password is needed but can't be decrypted.
    """
    endpoint = endpoint_for(account, EngineSettings.from_config(current_app.config), decrypt_password)
    return endpoint if password is None else replace(endpoint, password=password)


def emails_waiting(account: SMTPSettings) -> int:
    """How many of the account's emails wait to be sent."""
    query = owned(Email).where(Email.smtp_account_id == account.id, Email.status == EmailStatus.PENDING)
    return db.session.execute(query.with_only_columns(sa.func.count())).scalar_one()


def release_hold(account: SMTPSettings) -> None:
    """Forget the account's last problem and let the engine try it again."""
    account.last_error = account.last_error_at = None
    account.held = False


def in_cooldown(account: SMTPSettings) -> bool:
    return account.paused_until is not None and account.paused_until > clock.utcnow()


def resume_sending(account: SMTPSettings) -> None:
    """End a rate-limit cooldown now: the account and the emails held back by it become due again."""
    account.paused_until = None
    account.pause_reason = None
    db.session.execute(
        sa.update(Email)
        .where(
            Email.user_id == current_user.id,
            Email.smtp_account_id == account.id,
            Email.status == EmailStatus.PENDING,
            Email.rate_limit_retry_at.is_not(None),
        )
        .values(rate_limit_retry_at=None)
    )
