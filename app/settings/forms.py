from __future__ import annotations

import ipaddress
import re
from typing import Any

from flask import current_app
from wtforms import (
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import PasswordInput

from app.bounds import INTEGER_MAX
from app.forms import AppForm, TimeZoneField, strip
from app.models import Security, SMTPSettings
from app.sending.destinations import literal_refusal
from app.settings.presets import PRESET_CHOICES
from app.smtp_crypto import PasswordUnreadable, decrypt_password

SECURITY_CHOICES = [
    SelectChoice(Security.STARTTLS, "STARTTLS"),
    SelectChoice(Security.SSL, "SSL/TLS"),
    SelectChoice(Security.NONE, "None (unencrypted)"),
]
SECURITY_LABELS = {choice.value: choice.label for choice in SECURITY_CHOICES}

# Changing any of these would send the saved password somewhere new, so it must then be typed again.
CREDENTIAL_SCOPE = ("host", "security", "username")

# The security each well-known port is meant for; another pairing is allowed but worth a warning.
USUAL_SECURITY_BY_PORT = {
    25: {Security.STARTTLS, Security.NONE},
    465: {Security.SSL},
    587: {Security.STARTTLS},
    2525: {Security.STARTTLS, Security.NONE},
}

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def is_host_name_or_ip(value: str) -> bool:
    """A DNS host name (letters, digits, dashes, dot-separated) or an IPv4/IPv6 address."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    return len(value) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


#: A cap is stored in an Integer column (app.bounds).
CAP_RANGE = NumberRange(1, INTEGER_MAX, f"Use a whole number from 1 to {INTEGER_MAX:,}.")


class ProfileForm(AppForm):
    timezone = TimeZoneField()
    submit = SubmitField("Save")


class SMTPAccountForm(AppForm):
    """The user's SMTP account. The password is never rendered back; blank keeps the stored one."""

    preset = SelectField("Provider", choices=PRESET_CHOICES, validate_choice=False)
    host = StringField("SMTP host", filters=[strip], validators=[DataRequired(), Length(max=255)])
    port = IntegerField(
        "Port",
        default=587,
        validators=[
            DataRequired("Enter a port between 1 and 65535."),
            NumberRange(1, 65535, "Enter a port between 1 and 65535."),
        ],
    )
    security = SelectField("Security", choices=SECURITY_CHOICES, default=Security.STARTTLS)
    username = StringField("Login", filters=[strip], validators=[Length(max=255)])
    password = PasswordField("Password", validators=[Length(max=1024)])
    from_address = EmailField(
        "From address",
        filters=[strip],
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    from_name = StringField("From name", filters=[strip], validators=[Length(max=255)])
    reply_to = EmailField(
        "Reply-To address",
        filters=[strip],
        validators=[Optional(), Length(max=254), Email(check_deliverability=False)],
    )
    send_interval = FloatField(
        "Seconds between emails",
        validators=[Optional(), NumberRange(0, 3600, "Use 0 to 3600 seconds.")],
    )
    batch_size = IntegerField(
        "Emails per batch", validators=[Optional(), NumberRange(1, 1000, "Use 1 to 1000 emails.")]
    )
    hourly_cap = IntegerField("Most emails an hour", validators=[Optional(), CAP_RANGE])
    daily_cap = IntegerField("Most emails a day", validators=[Optional(), CAP_RANGE])
    save = SubmitField("Save SMTP account")
    test = SubmitField("Test connection")

    def __init__(self, *args: Any, saved: SMTPSettings | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved = saved

    def validate_host(self, field: StringField) -> None:
        if not is_host_name_or_ip(field.data):
            raise ValidationError("Enter a host name such as smtp.example.com or an IP address.")
        refused = None if current_app.config["SMTP_ALLOW_PRIVATE_HOSTS"] else literal_refusal(field.data)
        if refused:  # a name is checked when connecting, against every address it resolves to
            raise ValidationError(f"{refused}.")

    def validate_password(self, field: PasswordField) -> None:
        """A blank password keeps the saved one, but only for the same server, security and login."""
        if field.data or not self.username.data:
            return
        if self.saved is None or not self.saved.password_encrypted:
            raise ValidationError("Enter the password for this login.")
        if any(getattr(self.saved, name) != getattr(self, name).data for name in CREDENTIAL_SCOPE):
            raise ValidationError("Enter the password again: the host, security or login has changed.")
        try:
            decrypt_password(self.saved.password_encrypted)
        except PasswordUnreadable as error:
            raise ValidationError(str(error)) from error

    def keep_typed_password(self) -> None:
        """Render the password just typed back into its field (never the saved one, which is not in
        the form): after "Test connection" without JavaScript, so that "Save" works right after."""
        self.password.widget = PasswordInput(hide_value=False)

    def chosen_password(self) -> str:
        """After validation: the password to log in with (the typed one, else the saved one)."""
        if not self.username.data:
            return ""
        if self.password.data:
            return self.password.data
        # `validate_password` keeps a blank password only when a saved one can be read.
        assert self.saved is not None
        assert self.saved.password_encrypted is not None
        return decrypt_password(self.saved.password_encrypted)

    def security_warnings(self) -> list[str]:
        """Unusual but possibly valid choices: saved anyway, with a word of warning."""
        warnings = []
        usual = USUAL_SECURITY_BY_PORT.get(self.port.data)
        if usual and self.security.data not in usual:
            expected = " or ".join(SECURITY_LABELS[value] for value in SECURITY_LABELS if value in usual)
            warnings.append(
                f"Port {self.port.data} usually uses {expected}, not {SECURITY_LABELS[self.security.data]}. "
                "Run “Test connection” to check."
            )
        if self.security.data == Security.NONE and self.username.data:
            warnings.append("Without TLS, your login and password cross the network unencrypted.")
        return warnings
