"""The mailbox beside the SMTP account: its form, saving it, and “Test mailbox” (log in, look at the
folders, hang up). Blank fields mean “the same as the SMTP account” (`app.mailbox.connection`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from app.extensions import db
from app.forms import AppForm, strip
from app.mailbox.connection import MailboxEndpoint, MailboxFailure, close_quietly, endpoint_for, open_mailbox
from app.models import MailboxAccount, Security, SMTPSettings
from app.sending.destinations import literal_refusal
from app.settings.checks import CheckResult
from app.settings.forms import SECURITY_CHOICES, is_host_name_or_ip
from app.smtp_crypto import decrypt_password, encrypt_password


@dataclass(frozen=True)
class MailboxDraft:
    """The form's values, to test before (or without) saving them."""

    host: str
    port: int
    security: str
    username: str
    password_encrypted: bytes | None
    smtp_account: SMTPSettings


#: The form's field prefix on the settings page.
PREFIX = "mailbox"
MAILBOX_FIELDS = ("enabled", "host", "port", "security", "username", "folders")


class MailboxForm(AppForm):
    """Its fields are prefixed (`mailbox-host` …): the SMTP form on the same page has the same names."""

    enabled = BooleanField("Read this account's mailbox for bounces, complaints and replies")
    host = StringField("IMAP host", filters=[strip], validators=[Length(max=255)])
    port = IntegerField(
        "IMAP port",
        default=993,
        validators=[
            DataRequired("Enter a port between 1 and 65535."),
            NumberRange(1, 65535, "Enter a port between 1 and 65535."),
        ],
    )
    security = SelectField("IMAP security", choices=SECURITY_CHOICES, default=Security.SSL)
    username = StringField("IMAP login", filters=[strip], validators=[Length(max=255)])
    password = PasswordField("IMAP password", validators=[Length(max=1024)])
    folders = TextAreaField(
        "Folders to watch", default="INBOX", filters=[strip], validators=[Length(max=2000)]
    )
    save = SubmitField("Save mailbox")
    test = SubmitField("Test mailbox")

    def validate_host(self, field: StringField) -> None:
        if not field.data:
            return
        if not is_host_name_or_ip(field.data):
            raise ValidationError("Enter a host name such as imap.example.com or an IP address.")
        refused = None if current_app.config["SMTP_ALLOW_PRIVATE_HOSTS"] else literal_refusal(field.data)
        if refused:
            raise ValidationError(f"{refused}.")

    def validate_folders(self, field: TextAreaField) -> None:
        names = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        if any(len(name) > 255 for name in names):
            raise ValidationError("A folder name is at most 255 characters.")
        field.data = "\n".join(names) or "INBOX"


def save_mailbox(form: MailboxForm, account: SMTPSettings) -> MailboxAccount:
    """Store the form on the account's mailbox (created on first save); a blank password keeps the saved
    one, or the SMTP password when none was ever saved."""
    mailbox = account.mailbox or MailboxAccount(smtp_account=account)
    db.session.add(mailbox)
    draft_into(form, mailbox)
    if form.password.data:
        mailbox.password_encrypted = encrypt_password(form.password.data)
    mailbox.last_error = None
    return mailbox


def draft_into(form: MailboxForm, mailbox: MailboxAccount) -> None:
    for name in MAILBOX_FIELDS:
        setattr(mailbox, name, getattr(form, name).data)


def form_endpoint(form: MailboxForm, account: SMTPSettings) -> MailboxEndpoint:
    """Where the form's values (not saved) would connect, the saved passwords filling a blank one."""
    draft = MailboxDraft(
        form.host.data, form.port.data, form.security.data, form.username.data,
        account.mailbox.password_encrypted if account.mailbox else None, account,
    )  # fmt: skip
    endpoint = endpoint_for(
        draft,
        decrypt_password,
        current_app.config["MAILBOX_TIMEOUT"],
        current_app.config["SMTP_TLS_CA_FILE"],
        current_app.config["SMTP_ALLOW_PRIVATE_HOSTS"],
    )
    if form.password.data:
        return replace(endpoint, password=form.password.data)
    return endpoint


def check_mailbox(endpoint: MailboxEndpoint, folders: list[str]) -> CheckResult:
    """Log in and look at each folder, read-only; nothing is saved or changed."""
    db.session.commit()  # end the read transaction before the network wait
    try:
        box = open_mailbox(endpoint)
    except MailboxFailure as failure:
        return CheckResult(False, str(failure))
    try:
        seen = []
        for folder in folders:
            if not box.folder.exists(folder):
                return CheckResult(False, f"Logged in to {endpoint.host}, but it has no folder {folder!r}.")
            seen.append(f"{folder} ({box.folder.status(folder, ['MESSAGES'])['MESSAGES']:,} messages)")
    except OSError as error:
        return CheckResult(False, f"The connection to {endpoint.host} dropped: {error}")
    finally:
        close_quietly(box)
    return CheckResult(
        True,
        f"Logged in to {endpoint.host}:{endpoint.port} as {endpoint.username}. Folders: {', '.join(seen)}.",
    )
