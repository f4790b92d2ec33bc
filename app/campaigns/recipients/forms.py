"""Forms of the Recipients page: upload, paste, choice of columns, and the button that saves."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from app.forms import AppForm

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
