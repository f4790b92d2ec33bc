"""Forms of the Audience pages. Uploads and pastes use the campaign recipients' own forms."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.audiences.models import LIST_NAME_LENGTH, TAG_NAME_LENGTH
from app.forms import AppForm, strip


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
