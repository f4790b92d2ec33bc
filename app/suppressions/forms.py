"""Forms of the Suppressions page: add addresses by hand, import a file of them."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired

from app.forms import AppForm


class AddForm(AppForm):
    addresses = TextAreaField(
        "Addresses", validators=[DataRequired("Enter at least one address.")], render_kw={"rows": 4}
    )
    add = SubmitField("Add to suppressions")


class ImportForm(AppForm):
    file = FileField(
        "CSV or Excel (.xlsx) file with an email column",
        validators=[FileRequired("Choose a CSV or Excel (.xlsx) file.")],
    )
    upload = SubmitField("Import")
