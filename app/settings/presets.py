"""Provider presets: where each provider's SMTP server is, and limits that keep an account inside
the provider's published sending limit.

The recommended limits stay a little under the published figure: providers count every message the
mailbox sends, not only this app's, and their windows roll rather than reset at midnight. The table is
data for the page; the preset picker (static/settings/smtp_presets.js) copies a row into the form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from wtforms import SelectChoice

from app.models import Security


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    host: str | None
    port: int | None
    security: str | None
    send_interval: float | None
    batch_size: int | None
    hourly_cap: int | None
    daily_cap: int | None
    note: str

    def form_values(self) -> dict[str, Any]:
        """The form fields this preset fills (None leaves the field as the user typed it)."""
        values = asdict(self)
        for not_a_field in ("key", "label", "note"):
            values.pop(not_a_field)
        return values


PRESETS: tuple[Preset, ...] = (
    # key, label, host, port, security, interval s, batch, hourly cap, daily cap, note
    Preset(
        "gmail", "Gmail", "smtp.gmail.com", 587, Security.STARTTLS, 20, 20, 60, 450,
        "Gmail allows about 500 recipients per rolling 24 hours for a personal account; log in with an "
        "app password (needs 2-Step Verification).",
    ),
    Preset(
        "workspace", "Google Workspace", "smtp.gmail.com", 587, Security.STARTTLS, 10, 20, 200, 1800,
        "Google Workspace allows 2,000 messages per user per rolling 24 hours (500 during a trial).",
    ),
    Preset(
        "microsoft365", "Outlook / Microsoft 365", "smtp.office365.com", 587, Security.STARTTLS,
        3, 20, 600, 9000,
        "Microsoft 365 allows 30 messages a minute and 10,000 recipients a day per mailbox, and is "
        "retiring basic SMTP AUTH (550 5.7.30): it must be enabled for the mailbox.",
    ),
    Preset(
        "hostinger", "Hostinger", "smtp.hostinger.com", 465, Security.SSL, 30, 20, 100, 900,
        "Hostinger Business Email allows 1,000 (Starter) or 3,000 (Premium) emails per mailbox per "
        "rolling 24 hours; the free mailbox 100.",
    ),
    Preset(
        "zoho", "Zoho Mail", "smtp.zoho.com", 465, Security.SSL, 30, 20, 50, 300,
        "Zoho Mail allows 50–500 external emails an hour depending on sender reputation, and forbids "
        "bulk sending under its usage policy.",
    ),
    Preset(
        "sendgrid", "SendGrid", "smtp.sendgrid.net", 587, Security.STARTTLS, 1, 50, None, None,
        "SendGrid's limits follow your plan (the free tier allows 100 emails a day); log in as 'apikey' "
        "with an API key as the password.",
    ),
    Preset(
        "mailgun", "Mailgun", "smtp.mailgun.org", 587, Security.STARTTLS, 1, 50, None, None,
        "Mailgun's limits follow your plan (the free plan allows 100 emails a day); use the SMTP "
        "credentials of your sending domain.",
    ),
    Preset(
        "ses", "Amazon SES", "email-smtp.us-east-1.amazonaws.com", 587, Security.STARTTLS, 1, 50, None, None,
        "Amazon SES sets a sending rate and a daily quota per account and region, shown in its console "
        "(the sandbox allows 200 a day, 1 a second); change the region in the host to yours.",
    ),
    Preset(
        "brevo", "Brevo", "smtp-relay.brevo.com", 587, Security.STARTTLS, 2, 20, None, 300,
        "Brevo's free plan allows 300 emails a day; paid plans by monthly volume. Log in with the SMTP "
        "key, not the API key.",
    ),
    Preset(
        "other", "Other", None, None, None, None, None, None, None,
        "Check your provider's documentation for its SMTP host and its hourly and daily sending limits.",
    ),
)  # fmt: skip

PRESET_CHOICES = [SelectChoice("", "Choose a provider…")] + [SelectChoice(p.key, p.label) for p in PRESETS]


def presets_for_page() -> dict[str, dict[str, Any]]:
    """The presets as the picker script reads them: key → fields to fill and the note."""
    return {preset.key: {"fields": preset.form_values(), "note": preset.note} for preset in PRESETS}
