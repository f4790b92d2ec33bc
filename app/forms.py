"""Form pieces every area uses."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class EmptyForm(FlaskForm):
    """A button-only form: it carries nothing but the CSRF token."""


def single_line(form: FlaskForm, field: Field) -> None:
    """Refuse line breaks and control characters: the value goes into an SMTP header or command."""
    if field.data and _CONTROL_CHARACTERS.search(field.data):
        raise ValidationError("Use a single line without line breaks or control characters.")


def strip(value: str | None) -> str:
    """Surrounding spaces removed; a field missing from the post reads as empty."""
    return value.strip() if value else ""
