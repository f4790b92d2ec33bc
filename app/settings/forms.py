from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField

from app.timezones import TIMEZONE_CHOICES


class ProfileForm(FlaskForm):
    timezone = SelectField("Time zone", choices=TIMEZONE_CHOICES)
    submit = SubmitField("Save")
