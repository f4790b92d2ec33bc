"""The preview's sandbox: a merge field the recipient does not have is shown, not left blank.

The engine renders an unknown field as nothing, so a typo (`{{ compny }}`) would only show as a gap.
The preview renders the same templates in environments whose undefined value shows itself: as
`<mark class="unknown-field">{{ compny }}</mark>` in the HTML and `{{ compny }}` in the plain text and
the subject, and notes its name so the page can say so. Sent mail never uses these environments.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Undefined
from jinja2.utils import missing
from markupsafe import Markup, escape

from app.sending.message import ENGINE, Environments


@dataclass(frozen=True)
class UnknownFields:
    """The environments for one preview, and the unknown fields its render met, in order."""

    environments: Environments
    names: list[str]


def preview_environments() -> UnknownFields:
    names: list[str] = []

    class Shown(Undefined):
        __slots__ = ()

        def _shown(self) -> str | None:
            """The field's own name when it is a top-level merge field (not `known.missing_key`)."""
            name = self._undefined_name
            if self._undefined_obj is not missing or name is None:
                return None
            if name not in names:
                names.append(name)
            return name

        def __str__(self) -> str:
            name = self._shown()
            return f"{{{{ {name} }}}}" if name else ""

        def __html__(self) -> Markup:
            name = self._shown()
            if not name:
                return Markup("")
            return Markup('<mark class="unknown-field">{{{{ {} }}}}</mark>').format(escape(name))

    environments = Environments(ENGINE.html.overlay(undefined=Shown), ENGINE.text.overlay(undefined=Shown))
    return UnknownFields(environments, names)
