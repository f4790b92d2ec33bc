"""Reading a campaign email's HTML part: the body the user wrote, inside the document around it."""

from __future__ import annotations

import re

WRAPPED = re.compile(
    r'<!DOCTYPE html><html><head>.*</head><body style="margin:0">(?P<preheader>.*?)'
    r'<div class="email-body" style="[^"]*">(?P<body>.*)</div></body></html>',
    re.S,
)


def written_body(html: str) -> str:
    """The body inside the email's wrapper (which must be there, with its typography); a decoded
    MIME part's last line end is not the body's."""
    match = WRAPPED.fullmatch(html.rstrip("\r\n"))
    assert match, f"the HTML is not in the email's wrapper: {html[:200]!r}"
    return match.group("body")
