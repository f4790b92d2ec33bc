"""SMTP passwords encrypted at rest with Fernet.

`SMTP_ENCRYPTION_KEY` holds one or more comma-separated Fernet keys, newest first: the first encrypts,
all of them decrypt (MultiFernet), so keys can rotate. Left blank, it is a random key kept in the instance
folder (app.instance_secrets).

Earlier versions had no key of their own and derived one from `SECRET_KEY` (often the published
development key). Those derived keys still decrypt, never encrypt, so an existing installation keeps
reading its saved passwords; `flask rotate-smtp-key` re-encrypts them with the real key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from config import PUBLISHED_SECRET_KEY


class PasswordUnreadable(Exception):
    """The stored password was encrypted with a key this app no longer has."""

    def __str__(self) -> str:
        return "The saved SMTP password can't be read with the current encryption key: please re-enter it."


def derived_key(secret_key: str) -> bytes:
    """The key earlier versions derived from `secret_key`: read-only, for passwords they saved."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"smtp-password:{secret_key}".encode()).digest())


def configured_keys() -> list[bytes]:
    """The keys of SMTP_ENCRYPTION_KEY, the encrypting one first, then the earlier versions' derived keys."""
    configured = current_app.config["SMTP_ENCRYPTION_KEY"]
    keys = [key.strip().encode() for key in configured.split(",") if key.strip()]
    if not keys:
        raise RuntimeError("SMTP_ENCRYPTION_KEY is blank: create_app fills it from the instance folder.")
    legacy = [derived_key(current_app.config["SECRET_KEY"]), derived_key(PUBLISHED_SECRET_KEY)]
    return keys + [key for key in dict.fromkeys(legacy) if key not in keys]


def cipher(keys: list[bytes] | None = None) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys or configured_keys()])


def encrypt_password(plain: str) -> bytes:
    return cipher().encrypt(plain.encode())


def decrypt_password(token: bytes) -> str:
    return password_decrypter()(token)


def password_decrypter(keys: list[bytes] | None = None) -> Callable[[bytes], str]:
    """Decrypts with the app's keys as they are now, outside the app context too (the engine's
    sender runs in a thread of its own)."""
    fernet = cipher(keys)

    def decrypt(token: bytes) -> str:
        try:
            return fernet.decrypt(token).decode()
        except InvalidToken as error:
            raise PasswordUnreadable() from error

    return decrypt
