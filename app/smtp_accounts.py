"""An SMTP account as the sending code sees it: where to connect and with which password.

Shared by the settings page (test connection, test email) and the delivery engine, so both reach the
server the same way.
"""

from __future__ import annotations

from flask import current_app

from app.models import SMTPSettings
from app.sending.connection import Endpoint
from app.smtp_crypto import decrypt_password


def stored_password(account: SMTPSettings) -> str:
    """The account's password in clear, "" if none is stored; `PasswordUnreadable` on a wrong key."""
    return decrypt_password(account.password_encrypted) if account.password_encrypted else ""


def endpoint_for(account: SMTPSettings, password: str | None = None) -> Endpoint:
    """Where and how to connect for `account`, with `password` instead of the stored one if given."""
    return Endpoint(
        host=account.host,
        port=account.port,
        security=account.security,
        username=account.username,
        password=stored_password(account) if password is None else password,
        timeout=current_app.config["SMTP_TIMEOUT"],
        ca_file=current_app.config["SMTP_TLS_CA_FILE"],
    )
