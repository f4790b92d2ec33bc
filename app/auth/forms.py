from __future__ import annotations

import sqlalchemy as sa
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from app.extensions import db
from app.forms import AppForm
from app.models import User
from app.timezones import TIMEZONE_CHOICES

MIN_PASSWORD_LENGTH = 8


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
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
        ],
    )
    password2 = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )
    timezone = SelectField("Time zone", choices=TIMEZONE_CHOICES, default="Asia/Kolkata")
    submit = SubmitField("Sign up")

    def validate_username(self, field: StringField) -> None:
        taken = db.session.scalar(
            sa.select(User.id).where(sa.func.lower(User.username) == field.data.lower())
        )
        if taken:
            raise ValidationError("That username is taken. Please choose another.")

    def validate_email(self, field: EmailField) -> None:
        taken = db.session.scalar(sa.select(User.id).where(User.email == field.data.strip().lower()))
        if taken:
            raise ValidationError("An account with that email already exists. Log in instead?")


class LoginForm(AppForm):
    identifier = StringField("Username or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")
