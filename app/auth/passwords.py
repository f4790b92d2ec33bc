"""Password rules: what a new password must be, and checking one in the same time whoever asks.

A new password needs PASSWORD_MIN_LENGTH characters and must not be easy to guess: zxcvbn (Dropbox's
estimator, with its bundled lists of common passwords, words and names) scores it, the user's own
username and email counting as known words.
"""

from __future__ import annotations

import functools
import secrets
from typing import TypeGuard

from flask import current_app
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import Field
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn

from app.models import User

#: zxcvbn's score from 0 to 4; 2 means more than 10^6 guesses, beyond a throttled online attack.
MIN_STRENGTH = 2
#: zxcvbn reads no further (a longer password is no weaker for it).
MAX_SCORED_LENGTH = 72
MAX_LENGTH = 1024


def personal_words(form: FlaskForm) -> list[str]:
    """The user's username and email, from the form (sign-up) or the account (password change)."""
    words = [getattr(form, name).data for name in ("username", "email") if hasattr(form, name)]
    if not words and current_user.is_authenticated:
        words = [current_user.username, current_user.email]
    return [word for word in words if word]


def password_policy(form: FlaskForm, field: Field) -> None:
    """WTForms validator for a new password."""
    password = field.data or ""
    shortest = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < shortest:
        raise ValidationError(f"Use at least {shortest} characters.")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"Use at most {MAX_LENGTH} characters.")
    verdict = zxcvbn(password[:MAX_SCORED_LENGTH], user_inputs=personal_words(form))
    if verdict["score"] < MIN_STRENGTH:
        reason = verdict["feedback"]["warning"] or "It is a common pattern."
        raise ValidationError(f"This password is too easy to guess. {reason} Add another word or two.")


@functools.cache
def _stand_in_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def password_matches(user: User | None, password: str) -> TypeGuard[User]:
    """Whether `password` is `user`'s. With no such user a hash is checked all the same, so a log-in
    takes as long whether or not the account exists."""
    if user is None:
        check_password_hash(_stand_in_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return user.check_password(password)
