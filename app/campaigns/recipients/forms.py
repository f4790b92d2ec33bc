"""Forms of the Recipients page: upload, paste, choice of columns, the button that saves (and may keep
the recipients in a list), and the choice of lists and segments."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.audiences.models import LIST_NAME_LENGTH
from app.campaigns.recipients.audiences import Chosen
from app.forms import AppForm, strip

NO_NAME_COLUMN = ""


class UploadForm(AppForm):
    file = FileField(
        "CSV or Excel (.xlsx) file", validators=[FileRequired("Choose a CSV or Excel (.xlsx) file.")]
    )
    upload = SubmitField("Upload and check")


class PasteForm(AppForm):
    addresses = TextAreaField(
        "Addresses", validators=[DataRequired("Paste at least one address.")], render_kw={"rows": 6}
    )
    paste = SubmitField("Check addresses")


class ColumnsForm(AppForm):
    """Sent with GET, so no CSRF token: it only chooses how the review reads an upload."""

    class Meta:
        csrf = False

    email = SelectField("Email column", validate_choice=False)
    name = SelectField("Name column", validate_choice=False)
    submit = SubmitField("Use these columns")

    def offer(self, headers: list[str]) -> ColumnsForm:
        self.email.choices = [(header, header or "(no header)") for header in headers]
        self.name.choices = [(NO_NAME_COLUMN, "(no name column)"), *self.email.choices]
        return self


class SaveForm(AppForm):
    """Only a button; a form class so that the POST carries a CSRF token."""

    submit = SubmitField("Save")


#: The "Keep them in a list" choices that are not a list's id.
NO_LIST, NEW_LIST = 0, -1


class SaveRecipientsForm(SaveForm):
    """The review's "Save", which may also keep the recipients as contacts of a list (new or existing),
    added or updated by address as a list's own import does."""

    keep_in = SelectField("Also keep them as contacts in", coerce=int, default=NO_LIST)
    new_list = StringField(
        "Name of the new list",
        filters=[strip],
        validators=[Length(max=LIST_NAME_LENGTH, message=f"Keep the name to {LIST_NAME_LENGTH} characters.")],
    )

    def offer(self, lists: list[tuple[int, str]]) -> SaveRecipientsForm:
        self.keep_in.choices = [(NO_LIST, "(no list: this campaign only)"), (NEW_LIST, "a new list…"), *lists]
        return self

    def validate_new_list(self, field: StringField) -> None:
        if self.keep_in.data == NEW_LIST and not field.data:
            raise ValidationError("Name the new list, or choose an existing one.")


class AudienceForm(AppForm):
    """The lists and segments a campaign goes to, instead of an upload."""

    lists = SelectMultipleField(
        "Lists", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    segments = SelectMultipleField(
        "Segments", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    replace_upload = BooleanField("Yes, replace the uploaded recipients with these lists and segments")
    choose = SubmitField("Send to these")

    def offer(self, lists: list[tuple[int, str]], segments: list[tuple[int, str]]) -> AudienceForm:
        self.lists.choices = lists
        self.segments.choices = segments
        return self

    def tick(self, chosen: Sequence[Chosen]) -> AudienceForm:
        """Show the lists and segments the campaign goes to now as ticked."""
        self.lists.data = [audience.id for audience in chosen if audience.kind == "list"]
        self.segments.data = [audience.id for audience in chosen if audience.kind == "segment"]
        return self

    def validate_segments(self, field: SelectMultipleField) -> None:
        if not field.data and not self.lists.data:
            raise ValidationError("Choose at least one list or segment.")
