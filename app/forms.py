"""Form pieces every area uses, and the base class of every form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Field, SelectField, StringField
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput, Select, TextArea

from app.timezones import TIMEZONE_CHOICES

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
#: The same, less the tab and line breaks that a multi-line field (a body, a pasted list) may hold.
_CONTROL_CHARACTERS_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SINGLE_LINE_MESSAGE = "Use a single line without line breaks or control characters."
TEXT_MESSAGE = "Remove the control characters (such as NUL): only tabs and line breaks are allowed."


def strip(value: str | None) -> str:
    """Surrounding spaces removed; a field missing from the post reads as empty."""
    return value.strip() if value else ""


def no_control_characters(form: FlaskForm, field: Field) -> None:
    """Refuse NUL and the other control characters a person does not type; only a multi-line field
    (a body, a pasted list) may hold tabs and line breaks. A single-line value may go into an SMTP
    header or command, where a line break would start a new one. Runs before the field's own checks
    and stops them: PostgreSQL refuses a NUL in a text value, so even a query such as "is this
    username taken?" would fail with a 500."""
    multi_line = isinstance(field.widget, TextArea)
    pattern = _CONTROL_CHARACTERS_IN_TEXT if multi_line else _CONTROL_CHARACTERS
    values = field.data if isinstance(field.data, list | tuple) else [field.data]
    if any(isinstance(value, str) and pattern.search(value) for value in values):
        raise StopValidation(TEXT_MESSAGE if multi_line else SINGLE_LINE_MESSAGE)


class RenderedOnceSelect(Select):
    """A select of fixed choices, rendered once per name, chosen value and attributes, then reused: the
    time-zone picker's ~600 options took 5.8 ms to render on every sign-up, settings and campaign page."""

    #: How many renderings are kept (a few per zone in use); past it the oldest half is forgotten.
    KEEP = 512

    def __init__(self) -> None:
        super().__init__()
        self._rendered: dict[tuple[Any, ...], Markup] = {}

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        key = (field.name, field.id, field.data, "required" in field.flags, tuple(sorted(kwargs.items())))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = super().__call__(field, **kwargs)
            if len(self._rendered) >= self.KEEP:
                for old in list(self._rendered)[: self.KEEP // 2]:
                    self._rendered.pop(old, None)
            self._rendered[key] = rendered
        return rendered


class TimeZoneField(SelectField):
    """The user's time zone, chosen from pytz's common zones grouped by region."""

    widget = RenderedOnceSelect()

    def __init__(self, label: str = "Time zone", **kwargs: Any) -> None:
        super().__init__(label, choices=TIMEZONE_CHOICES, **kwargs)


class AppForm(FlaskForm):
    """The base of every form: each field refuses control characters before its own validators run."""

    class Meta:
        def bind_field(self, form: FlaskForm, unbound_field: Any, options: dict[str, Any]) -> Field:
            field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
            field.validators = [no_control_characters, *field.validators]
            return field

    def hidden_tag(self, *fields: Field | str) -> Markup:
        """The hidden fields (the CSRF token), without ids: a page with several forms would otherwise
        repeat `id="csrf_token"`, and an id must name one element of a page."""
        chosen = (getattr(self, field) if isinstance(field, str) else field for field in fields or self)
        return Markup(
            "\n".join(str(field(id=False)) for field in chosen if isinstance(field.widget, HiddenInput))
        )


class EmptyForm(AppForm):
    """A button-only form: it carries nothing but the CSRF token."""


class SearchForm(AppForm):
    """A list's search box (`?q=`), read from the query string: no CSRF token for a GET."""

    class Meta:
        csrf = False

    q = StringField("Search", filters=[strip])


def search_text(args: Mapping[str, str], max_length: int | None = None) -> str:
    """The search typed in the query string; a refused one is flashed and searches nothing."""
    form = SearchForm(MultiDict(args))
    if not form.validate():
        flash(f"The search was ignored: {form.q.errors[0]}", "warning")
        return ""
    return form.q.data[:max_length]
