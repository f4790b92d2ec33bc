"""Checking a campaign's subject and bodies against the merge fields its recipients have.

The engine renders with `HTML_ENV`/`TEXT_ENV` from `app.sending.sandbox`; the same environments parse
here, so what passes this check compiles when the campaign is sent. Problems carry their place
(subject, HTML, plain text) and line, for the user to find them.

The trial render fills each field with the longest value any recipient of the campaign has
(`Campaign.longest_values`, kept when recipients are saved), so a template that would pass the render
limits (`app.sending.sandbox.RenderLimits`) on real data (a loop over a long value) is refused here, not
when the engine gets to that recipient. Before there are recipients, each field holds its own name.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta, nodes

from app.address_import.fields import BUILT_IN_FIELDS
from app.campaigns.field_uses import unguarded_uses
from app.models import Campaign
from app.sending.plain_text import html_to_text
from app.sending.sandbox import HTML_ENV, TEXT_ENV, RenderRefused, current_limits

SUBJECT = "subject"
HTML = "HTML"
TEXT = "plain text"
# Jinja names the frames of a template compiled from a string like this in tracebacks.
_TEMPLATE_FRAME = "<template>"


@dataclass(frozen=True)
class Problem:
    place: str
    line: int | None
    message: str
    #: A syntax error stops the campaign being saved; an unknown field stops it being scheduled.
    blocking: bool = True

    def __str__(self) -> str:
        where = f"{self.place}, line {self.line}" if self.line else self.place
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Part:
    place: str
    source: str

    @property
    def env(self) -> Environment:
        return HTML_ENV if self.place == HTML else TEXT_ENV


def message_parts(subject: str, html_body: str, text_body: str) -> list[Part]:
    return [Part(SUBJECT, subject), Part(HTML, html_body), Part(TEXT, text_body)]


def picker_fields(merge_fields: Iterable[Mapping[str, str]]) -> list[tuple[str, str]]:
    """Every field a recipient of the campaign has, with what it holds: the built-in ones, then the
    uploaded columns."""
    columns = [(field["key"], f"column “{field['header']}”") for field in merge_fields]
    return [*BUILT_IN_FIELDS.items(), *columns]


def known_fields(merge_fields: Iterable[Mapping[str, str]]) -> list[str]:
    return [key for key, _ in picker_fields(merge_fields)]


def check_message(
    parts: Iterable[Part], fields: Iterable[str], longest: Mapping[str, str] | None = None
) -> list[Problem]:
    """Syntax errors, fields no recipient has, and errors a trial rendering runs into (with `longest`,
    each field's longest value, where known)."""
    known = set(fields)
    context = {**sample_context(known), **(longest or {})}
    size_limit = current_limits().size
    problems: list[Problem] = []
    for part in parts:
        if len(part.source) > size_limit:
            problems.append(Problem(part.place, None, f"longer than {size_limit:,} characters"))
            continue
        try:
            tree = part.env.parse(part.source)
            undeclared = meta.find_undeclared_variables(tree) - known
        except TemplateSyntaxError as error:  # TemplateAssertionError (an unknown filter) included
            problems.append(Problem(part.place, error.lineno, error.message or "syntax error"))
            continue
        unknown = _unknown_fields(part.place, tree, undeclared)
        problems.extend(unknown or _trial_render(part, context))
    return problems


def _unknown_fields(place: str, tree: nodes.Template, undeclared: set[str]) -> list[Problem]:
    """A problem for each field no recipient has that the template reads without a fallback, at the
    line of its first such read (`app.campaigns.field_uses`)."""
    first_line = {name: line for name, line in unguarded_uses(tree).items() if name in undeclared}
    return [
        Problem(place, line, f"{{{{ {field} }}}} is not a field of your recipients", blocking=False)
        for field, line in sorted(first_line.items(), key=lambda item: (item[1], item[0]))
    ]


def _trial_render(part: Part, context: Mapping[str, Any]) -> list[Problem]:
    """Render with every field filled in, to catch what only shows at run time (`{{ 1 / 0 }}`, a
    forbidden attribute in the sandbox, a render too slow or too big). Any exception is the template's
    doing, so each is reported."""
    try:
        part.env.from_string(part.source).render(context)
    except Exception as error:  # a user's template can raise anything
        return [Problem(part.place, _template_line(error), error_message(error))]
    return []


def error_message(error: Exception) -> str:
    """A template's error as the user reads it: a render limit's own words, otherwise the error's
    type and message."""
    return str(error) if isinstance(error, RenderRefused) else f"{type(error).__name__}: {error}"


def _template_line(error: Exception) -> int | None:
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == _TEMPLATE_FRAME
    ]
    return lines[-1] if lines else None


def sample_context(fields: Iterable[str]) -> dict[str, Any]:
    return {field: f"[{field}]" for field in fields}


def check_content(
    subject: str,
    html_body: str,
    text_body: str,
    text_edited: bool,
    merge_fields: Iterable[Mapping[str, str]],
    longest: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem of a campaign's content; a derived plain text is checked as it will be derived."""
    text = text_body if text_edited else html_to_text(html_body)
    problems = check_message(message_parts(subject, html_body, text), known_fields(merge_fields), longest)
    if not text_edited:
        # The derived text repeats the HTML's fields: report each unknown one once, at the HTML.
        problems = [problem for problem in problems if problem.blocking or problem.place != TEXT]
    return problems


def check_campaign(campaign: Campaign) -> list[Problem]:
    return check_content(
        campaign.subject,
        campaign.html_body,
        campaign.text_body,
        campaign.text_edited,
        campaign.merge_fields,
        campaign.longest_values,
    )
