from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.address_import.validate import check_address
from app.forms import AppForm, TimeZoneField, strip

__all__ = ["CampaignForm", "ScheduleForm", "TestEmailForm"]

#: Far beyond any real email (Gmail clips a message at about 100 KB), small enough to store and render.
MAX_BODY_CHARS = 1_000_000
NAME_LENGTH = 200
SUBJECT_LENGTH = 998  # RFC 5322's limit for one header line
PREHEADER_LENGTH = 255  # inboxes show about 100 characters of it
#: A test goes to a few people (the user, a colleague, a seed address or two), not to a list.
MAX_TEST_ADDRESSES = 5
BODY_TOO_LONG = f"Keep this under {MAX_BODY_CHARS:,} characters."

SEND_NOW = "now"
SEND_LATER = "later"


class ContentFields(AppForm):
    """Subject and bodies, shared by campaigns and saved templates."""

    subject = StringField(
        "Subject",
        filters=[strip],
        validators=[DataRequired(), Length(max=SUBJECT_LENGTH)],
    )
    html_body = TextAreaField(
        "Message (HTML)", validators=[Length(max=MAX_BODY_CHARS, message=BODY_TOO_LONG)]
    )
    text_body = TextAreaField(
        "Plain-text part", validators=[Length(max=MAX_BODY_CHARS, message=BODY_TOO_LONG)]
    )


class CampaignForm(ContentFields):
    name = StringField("Campaign name", filters=[strip], validators=[DataRequired(), Length(max=NAME_LENGTH)])
    preheader = StringField(
        "Preheader", filters=[strip], validators=[Length(max=PREHEADER_LENGTH)], default=""
    )
    text_edited = BooleanField("Write the plain-text part myself (otherwise it is derived from the HTML)")
    submit = SubmitField("Save")


class FormatHint:
    """A date or time field whose error for unreadable input says the format expected; the typed text
    is shown back as it was (WTForms renders `raw_data` when it could not be read)."""

    hint: str

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError:
            raise ValueError(self.hint) from None


class ScheduleDateField(FormatHint, DateField):
    hint = "Enter the date as YYYY-MM-DD, for example 2026-12-08."


class ScheduleTimeField(FormatHint, TimeField):
    hint = "Enter the time as HH:MM on the 24-hour clock, for example 09:00 or 17:30."


class ScheduleForm(AppForm):
    """When to send: now, or a date and time in a named zone (the user's own by default)."""

    when = RadioField(
        "When",
        choices=[SelectChoice(SEND_NOW, "Send now"), SelectChoice(SEND_LATER, "At a date and time")],
        default=SEND_LATER,
        validators=[InputRequired()],
    )
    send_date = ScheduleDateField("Date", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})
    send_time = ScheduleTimeField("Time", validators=[Optional()], render_kw={"placeholder": "HH:MM"})
    timezone = TimeZoneField()
    submit = SubmitField("Schedule")

    def validate(self, extra_validators: dict | None = None) -> bool:
        """A date and a time are needed for "later"; checked here because `Optional` ends the fields'
        own validation when they are empty. Each empty one is marked."""
        valid = super().validate(extra_validators)
        if self.when.data != SEND_LATER:
            return valid
        for field, missing in ((self.send_date, "date"), (self.send_time, "time")):
            if not field.raw_data or not field.raw_data[0].strip():
                field.errors.append(f"Enter the {missing} to send at, or choose “Send now”.")
                valid = False
        return valid


def addresses_for_a_test(text: str) -> list[str]:
    """The distinct addresses of a comma-separated list; raises `ValidationError` saying what is wrong."""
    addresses: list[str] = []
    for value in (part.strip() for part in text.split(",")):
        if not value:
            continue
        address, reason = check_address(value)
        if not address:
            raise ValidationError(f"“{value}” is not an email address: {reason}")
        if address.lower() not in (known.lower() for known in addresses):
            addresses.append(address)
    if not addresses:
        raise ValidationError("Enter the address to send the test to.")
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise ValidationError(
            f"A test goes to at most {MAX_TEST_ADDRESSES} addresses; you entered {len(addresses)}."
        )
    return addresses


class TestEmailForm(AppForm):
    """Where "Send test" sends: up to `MAX_TEST_ADDRESSES` addresses, the user's own by default (its ids
    differ from the schedule form's on the same page)."""

    to = StringField("Send a test to", id="test-to", filters=[strip], validators=[Length(max=2000)])
    submit = SubmitField("Send test", id="send-test-button")

    def validate_to(self, field: StringField) -> None:
        self.addresses = addresses_for_a_test(field.data)
