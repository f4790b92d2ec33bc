"""Forms of the Audience pages. Uploads and pastes use the campaign recipients' own forms."""

from __future__ import annotations

from wtforms import BooleanField, FieldList, FormField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from app.audiences.models import LIST_NAME_LENGTH, TAG_NAME_LENGTH, ContactStatus
from app.audiences.segments import ATTRIBUTE, EQUALS, IS_EMPTY, OPERATORS, STATUS, TAG
from app.forms import AppForm, strip

#: How many condition rows the segment form offers.
CONDITIONS = 3
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
        ],
        default="",
    )
    key = StringField("Attribute", filters=[strip], validators=[Length(max=TAG_NAME_LENGTH)])
    op = SelectField("Operator", choices=[SelectChoice(op, op) for op in OPERATORS], default=EQUALS)
    value = StringField("Value", filters=[strip], validators=[Length(max=LIST_NAME_LENGTH)])

    def validate_value(self, field: StringField) -> None:
        kind = self.kind.data
        if kind == ATTRIBUTE and not self.key.data:
            raise ValidationError("Name the attribute to match (a column of your imports, such as city).")
        if kind == STATUS and field.data not in ContactStatus.ALL:
            raise ValidationError(f"A status is one of: {', '.join(ContactStatus.ALL)}.")
        needs_value = kind == TAG or (kind == ATTRIBUTE and self.op.data != IS_EMPTY)
        if needs_value and not field.data:
            raise ValidationError("Type the value to match.")

    def condition(self) -> dict[str, str] | None:
        if not self.kind.data:
            return None
        return {"kind": self.kind.data, "key": self.key.data, "op": self.op.data, "value": self.value.data}


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
    conditions = FieldList(FormField(ConditionForm), min_entries=CONDITIONS, max_entries=CONDITIONS)
    submit = SubmitField("Save segment")

    def offer(self, lists: list[tuple[int, str]]) -> SegmentForm:
        self.list_id.choices = [
            SelectChoice(ALL_CONTACTS, "All contacts"),
            *(SelectChoice(list_id, name) for list_id, name in lists),
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
