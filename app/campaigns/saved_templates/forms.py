"""Forms of saved templates: writing one, and naming a campaign saved as one from its page."""

from __future__ import annotations

from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.campaigns.forms import BODY_TOO_LONG, MAX_BODY_CHARS, NAME_LENGTH, SUBJECT_LENGTH, ContentFields
from app.forms import AppForm, strip


class TemplateForm(ContentFields):
    name = StringField("Template name", filters=[strip], validators=[DataRequired(), Length(max=NAME_LENGTH)])
    subject = StringField("Subject", filters=[strip], validators=[Length(max=SUBJECT_LENGTH)])
    text_body = TextAreaField(
        "Plain-text part (leave empty to derive it from the HTML)",
        validators=[Length(max=MAX_BODY_CHARS, message=BODY_TOO_LONG)],
    )
    submit = SubmitField("Save template")


class TemplateNameForm(AppForm):
    """Saves a campaign as a template, from the campaign page: its ids differ from the other forms' there."""

    name = StringField(
        "Template name",
        id="template-name",
        filters=[strip],
        validators=[DataRequired(), Length(max=NAME_LENGTH)],
    )
    submit = SubmitField("Save as template", id="save-as-template")
