"""The HTML around a campaign's body: its typography and its preheader.

The typography has one home, `app/static/email.css`: the compose page links it for the editor and
every email carries it, read once per process, so the editor, the preview (which shows the email
itself) and the sent email use the same fonts and spacing. An email carries the rules in a `<style>`
in its head, which Gmail, Apple Mail, Outlook and Yahoo apply, and the first rule (font, size, line
height, colour) also inline on the wrapper, for the readers that drop `<style>`.

A body the user wrote as a whole document (with its own `<html>` or `<body>`) keeps its own styles:
it is not wrapped, and only gets the preheader after its `<body>` tag.

The preheader is the line a mail reader shows after the subject in the inbox: a hidden span at the
top of the body, plain text (escaped, no merge fields).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

CSS_FILE = Path(__file__).resolve().parents[1] / "static" / "email.css"
BODY_CLASS = "email-body"
#: Hidden in every reader, including Outlook's Word engine (`mso-hide`).
PREHEADER_STYLE = (
    "display:none;visibility:hidden;mso-hide:all;font-size:1px;line-height:1px;"
    "max-height:0;max-width:0;opacity:0;overflow:hidden;color:transparent"
)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_ROOT_RULE = re.compile(r"\." + BODY_CLASS + r"\s*\{([^}]*)\}")
_DOCUMENT = re.compile(r"<(?:html|body)[\s>]", re.I)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.I)


def _css(source: str) -> str:
    return " ".join(_COMMENT.sub("", source).split())


def _inline(rule: str) -> str:
    return ";".join(" ".join(part.split()) for part in rule.split(";") if part.strip())


def _root_style(css: str) -> str:
    """The declarations of `.email-body` itself, as a style attribute."""
    rule = _ROOT_RULE.search(css)
    if rule is None:
        raise RuntimeError(f"{CSS_FILE} has no .{BODY_CLASS} rule")
    return _inline(rule.group(1))


EMAIL_CSS = _css(CSS_FILE.read_text(encoding="utf-8"))
BODY_STYLE = _root_style(EMAIL_CSS)


def is_document(html_body: str) -> bool:
    """Whether the user wrote a whole document (its own `<html>` or `<body>`)."""
    return _DOCUMENT.search(html_body) is not None


def preheader_span(preheader: str) -> str:
    text = " ".join(preheader.split())
    return f'<span class="preheader" style="{PREHEADER_STYLE}">{html.escape(text)}</span>' if text else ""


@dataclass(frozen=True)
class Wrapper:
    """Puts a rendered body into its email document; made once per campaign."""

    before: str
    after: str
    #: The preheader span to put after the body tag of a whole document ("" for a wrapped body).
    into_document: str = ""

    @classmethod
    def for_body(cls, html_body: str, preheader: str = "") -> Wrapper:
        span = preheader_span(preheader)
        if is_document(html_body):
            return cls("", "", span)
        before = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{EMAIL_CSS}</style></head>"
            f'<body style="margin:0">{span}<div class="{BODY_CLASS}" style="{BODY_STYLE}">'
        )
        return cls(before, "</div></body></html>")

    def wrap(self, rendered: str) -> str:
        if self.into_document:
            return _BODY_TAG.sub(lambda tag: tag.group(0) + self.into_document, rendered, count=1)
        return self.before + rendered + self.after
