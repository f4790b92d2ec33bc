"""Forms of the Audience pages. Uploads and pastes use the campaign recipients' own forms."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import BooleanField, FieldList, FormField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from app.audiences.models import LIST_NAME_LENGTH, TAG_NAME_LENGTH, ContactStatus, Segment
from app.audiences.segment_values import read_date, read_number
from app.audiences.segments import (
    ATTRIBUTE,
    DATE_OPERATORS,
    EQUALS,
    IN_LAST_DAYS,
    IS_EMPTY,
    NOT_RECEIVED,
    NUMBER_OPERATORS,
    OPERATORS,
    RECEIVED,
    STATUS,
    TAG,
)
from app.forms import AppForm, strip

#: How many condition rows a new segment's form offers, and how many conditions a segment may have.
CONDITIONS = 3
MAX_CONDITIONS = 10
#: The longest span a "days" condition may name (about 27 years), so a date stays on the calendar.
MAX_DAYS = 10_000
#: The campaign choice that is no campaign.
NO_CAMPAIGN = 0
#: The "Contacts of" choice meaning every contact, on a list or not.
ALL_CONTACTS = 0


class ListNameForm(AppForm):
    """Creating a list, or renaming one."""

    name = StringField(
        "List name",
        filters=[strip],
        validators=[
            DataRequired("Give the list a name."),
            Length(max=LIST_NAME_LENGTH, message=f"Keep the name to {LIST_NAME_LENGTH} characters."),
        ],
    )
    submit = SubmitField("Create list")


class TagForm(AppForm):
    """A tag to give a contact, or the contacts chosen on a list page."""

    tag = StringField(
        "Tag",
        filters=[strip],
        validators=[
            DataRequired("Type the tag to add."),
            Length(max=TAG_NAME_LENGTH, message=f"Keep a tag to {TAG_NAME_LENGTH} characters."),
        ],
    )
    submit = SubmitField("Add tag")


class UntagForm(AppForm):
    """A tag to take off every contact of a segment: one of the user's tags."""

    tag_id = SelectField("Tag to remove", coerce=int, validate_choice=False)

    def offer(self, tags: list[tuple[int, str]]) -> UntagForm:
        self.tag_id.choices = [SelectChoice(tag_id, name) for tag_id, name in tags]
        return self


class ConditionForm(AppForm):
    """One condition of a segment; a row left on "(none)" is no condition."""

    class Meta:
        csrf = False  # part of SegmentForm, which carries the token

    kind = SelectField(
        "Match",
        choices=[
            SelectChoice("", "(none)"),
            SelectChoice(ATTRIBUTE, "Attribute"),
            SelectChoice(TAG, "Tag"),
            SelectChoice(STATUS, "Status"),
            SelectChoice(RECEIVED, "Received campaign"),
            SelectChoice(NOT_RECEIVED, "No campaign for days"),
        ],
        default="",
    )
    key = StringField("Attribute", filters=[strip], validators=[Length(max=TAG_NAME_LENGTH)])
    # Checked by `validate_op`, which says what went wrong, rather than by the choices.
    op = SelectField(
        "Operator", choices=[SelectChoice(op, op) for op in OPERATORS], default=EQUALS, validate_choice=False
    )
    value = StringField("Value", filters=[strip], validators=[Length(max=LIST_NAME_LENGTH)])
    campaign = SelectField("Campaign", coerce=int, validate_choice=False, default=NO_CAMPAIGN)

    def validate_op(self, field: SelectField) -> None:
        if field.data not in OPERATORS:
            raise ValidationError(f"“{field.data}” is not an operator here: choose one of the list.")

    def validate_value(self, field: StringField) -> None:
        kind, op, text = self.kind.data, self.op.data, field.data
        if kind == ATTRIBUTE and not self.key.data:
            raise ValidationError("Name the attribute to match (a column of your imports, such as city).")
        if kind == STATUS and text not in ContactStatus.ALL:
            raise ValidationError(f"A status is one of: {', '.join(ContactStatus.ALL)}.")
        needs_value = kind in (TAG, NOT_RECEIVED) or (kind == ATTRIBUTE and op != IS_EMPTY)
        if needs_value and not text:
            raise ValidationError("Type the value to match.")
        if kind == NOT_RECEIVED or (kind == ATTRIBUTE and op == IN_LAST_DAYS):
            if not (text.isascii() and text.isdigit() and 0 < int(text) <= MAX_DAYS):
                raise ValidationError(
                    f"“{text}” is not a number of days: type a whole number from 1 to {MAX_DAYS}."
                )
        elif kind == ATTRIBUTE and op in NUMBER_OPERATORS and read_number(text) is None:
            raise ValidationError(
                f"“{text}” is not a number: type digits, with a point for decimals (such as 30 or 4.5)."
            )
        elif kind == ATTRIBUTE and op in DATE_OPERATORS and read_date(text) is None:
            raise ValidationError(f"“{text}” is not a date: type it as year-month-day, such as 2026-03-01.")

    def validate_campaign(self, field: SelectField) -> None:
        offered = {choice.value for choice in field.choices or []} - {NO_CAMPAIGN}
        if self.kind.data == RECEIVED and field.data not in offered:
            raise ValidationError("Choose one of your campaigns.")

    def condition(self) -> dict[str, str] | None:
        """The condition as a segment stores it, numbers and dates in one spelling."""
        kind, op, text = self.kind.data, self.op.data, self.value.data
        if not kind:
            return None
        if kind == RECEIVED:
            return {"kind": kind, "value": str(self.campaign.data)}
        if kind == NOT_RECEIVED or (kind == ATTRIBUTE and op == IN_LAST_DAYS):
            text = str(int(text))
        elif kind == ATTRIBUTE and op in NUMBER_OPERATORS:
            text = str(read_number(text))
        elif kind == ATTRIBUTE and op in DATE_OPERATORS:
            text = str(read_date(text))
        return {"kind": kind, "key": self.key.data, "op": op, "value": text}


def condition_fields(condition: Mapping[str, str]) -> dict[str, object]:
    """A stored condition as its form row shows it (the inverse of `ConditionForm.condition`)."""
    if condition["kind"] == RECEIVED:
        return {"kind": RECEIVED, "campaign": int(condition["value"])}
    return {**condition}


class SegmentForm(AppForm):
    name = StringField(
        "Segment name",
        filters=[strip],
        validators=[
            DataRequired("Give the segment a name."),
            Length(max=LIST_NAME_LENGTH, message=f"Keep the name to {LIST_NAME_LENGTH} characters."),
        ],
    )
    list_id = SelectField("Contacts of", coerce=int, validate_choice=False)
    conditions = FieldList(FormField(ConditionForm), min_entries=CONDITIONS, max_entries=MAX_CONDITIONS)
    #: The "Add a condition" button: the form comes back with one more row, nothing saved.
    more = SubmitField("Add a condition")

    @classmethod
    def of(cls, segment: Segment) -> SegmentForm:
        """The form filled with the segment as saved, with at least one blank row to add a condition in."""
        form = cls(
            formdata=None,
            data={
                "name": segment.name,
                "list_id": segment.list_id or ALL_CONTACTS,
                "conditions": [condition_fields(condition) for condition in segment.conditions],
            },
        )
        if len(segment.conditions) >= len(form.conditions):
            form.add_row()
        return form

    def add_row(self) -> None:
        if len(self.conditions) < MAX_CONDITIONS:
            self.conditions.append_entry()

    def offer(self, lists: list[tuple[int, str]], campaigns: list[tuple[int, str]]) -> SegmentForm:
        """The user's own lists and campaigns as the choices (no one else's can be chosen)."""
        self.list_id.choices = [
            SelectChoice(ALL_CONTACTS, "All contacts"),
            *(SelectChoice(list_id, name) for list_id, name in lists),
        ]
        for entry in self.conditions:
            entry.form.campaign.choices = [
                SelectChoice(NO_CAMPAIGN, "(choose)"),
                *(SelectChoice(campaign_id, name) for campaign_id, name in campaigns),
            ]
        return self

    def chosen_conditions(self) -> list[dict[str, str]]:
        made = (entry.form.condition() for entry in self.conditions)
        return [condition for condition in made if condition is not None]


class SignupSettingsForm(AppForm):
    """A list's public sign-up form: on or off, and the SMTP account that sends its confirmations."""

    enabled = BooleanField("Take sign-ups through this list's form")
    smtp_account = SelectField("Send confirmation emails through", coerce=int, validate_choice=False)
    submit = SubmitField("Save sign-up settings")

    def offer(self, accounts: list[tuple[int, str]]) -> SignupSettingsForm:
        """Offer the user's own accounts; any other id posted is refused."""
        self.smtp_account.choices = [SelectChoice(account_id, label) for account_id, label in accounts]
        self.offered = {account_id for account_id, _ in accounts}
        return self

    def validate_smtp_account(self, field: SelectField) -> None:
        if field.data is not None and field.data not in self.offered:
            raise ValidationError("Choose one of your SMTP accounts.")
        if self.enabled.data and field.data is None:
            raise ValidationError(
                "Choose the SMTP account that sends the confirmation emails (add one in Settings)."
            )
