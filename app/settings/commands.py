"""`flask rotate-smtp-key`: re-encrypt every stored SMTP password with the newest key.

Rotation, step by step: put a new Fernet key first in SMTP_ENCRYPTION_KEY (keeping the old ones after
it, so every process can still read), restart, run this command, then drop the old keys. The keys that
earlier versions derived from SECRET_KEY are read as well (app.smtp_crypto), so running it once after an
upgrade moves every saved password to the installation's own key.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from cryptography.fernet import InvalidToken

from app.extensions import db
from app.models import SMTPSettings
from app.settings import bp
from app.smtp_crypto import cipher


@bp.cli.command("rotate-smtp-key")
def rotate_smtp_key() -> None:
    """Re-encrypt every saved SMTP password with the first key of SMTP_ENCRYPTION_KEY."""
    rotator = cipher()
    rotated, unreadable = 0, []
    accounts = db.session.scalars(sa.select(SMTPSettings).where(SMTPSettings.password_encrypted.is_not(None)))
    for account in accounts:
        assert account.password_encrypted is not None  # the query's condition
        try:
            account.password_encrypted = rotator.rotate(account.password_encrypted)
            rotated += 1
        except InvalidToken:
            unreadable.append(account.id)
    db.session.commit()
    click.echo(f"Re-encrypted {rotated} SMTP password(s) with the newest key.")
    if unreadable:
        ids = ", ".join(map(str, unreadable))
        click.echo(
            f"{len(unreadable)} password(s) could not be read with any configured key (accounts {ids}): "
            "their users must re-enter them on the Settings page.",
            err=True,
        )
