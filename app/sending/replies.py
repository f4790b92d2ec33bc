"""A server's reply as a person reads it: its code once, then its text ("550 5.1.1 No such user").

An email keeps the two apart (`Email.last_smtp_code`, `Email.last_smtp_message`), as the classifier and
the bounce list read them; this is the one place they are joined, for pages, exports and logs.
"""

from __future__ import annotations


def smtp_reply(code: int | None, message: str | None) -> str:
    """`code` then `message`; a message that already starts with its code (as emails failed before the
    two were stored apart do) keeps it once."""
    text = message or ""
    if code is None or text.split(" ", 1)[0] == str(code):
        return text
    return f"{code} {text}".rstrip()
