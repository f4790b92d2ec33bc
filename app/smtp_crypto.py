"""SMTP passwords encrypted at rest with Fernet.

`SMTP_ENCRYPTION_KEY` holds one or more comma-separated Fernet keys, newest first: the first encrypts,
all of them decrypt (MultiFernet), so keys can rotate. Without it a key is derived from `SECRET_KEY`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class PasswordUnreadable(Exception):
    """The stored password was encrypted with a key this app no longer has."""

    def __str__(self) -> str:
        return "The saved SMTP password can't be read with the current encryption key: please re-enter it."


def derived_key(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"smtp-password:{secret_key}".encode()).digest())


def configured_keys() -> list[bytes]:
    configured = current_app.config.get("SMTP_ENCRYPTION_KEY") or ""
    keys = [key.strip().encode() for key in configured.split(",") if key.strip()]
    return keys or [derived_key(current_app.config["SECRET_KEY"])]


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
