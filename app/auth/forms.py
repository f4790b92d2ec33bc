from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from app.auth.passwords import password_policy
from app.extensions import db
from app.forms import AppForm, TimeZoneField
from app.models import User

#: One answer for a taken username and a taken email, so sign-up does not say which one exists
#: (docs/security.md: what sign-up can and cannot hide).
ALREADY_REGISTERED = "That username or email is already registered. Log in, or choose others."


def find_user(identifier: str) -> User | None:
    """The user a username or email (any case, spaces around) names."""
    typed = identifier.strip().lower()
    return db.session.scalar(
        sa.select(User).where(sa.or_(sa.func.lower(User.username) == typed, User.email == typed))
    )


class SignupForm(AppForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="Use letters, digits, dots, dashes and underscores only."),
        ],
    )
    email = EmailField(
        "Email", validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)]
    )
    password = PasswordField("Password", validators=[DataRequired(), password_policy])
    password2 = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )
    timezone = TimeZoneField(default="Asia/Kolkata")
    submit = SubmitField("Sign up")

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        taken = db.session.scalar(
            sa.select(User.id).where(
                sa.or_(
                    sa.func.lower(User.username) == self.username.data.lower(),
                    User.email == self.email.data.strip().lower(),
                )
            )
        )
        if taken:
            self.form_errors.append(ALREADY_REGISTERED)
            return False
        return True


class LoginForm(AppForm):
    identifier = StringField("Username or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")


class PasswordChangeForm(AppForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), password_policy])
    password2 = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Change password")
