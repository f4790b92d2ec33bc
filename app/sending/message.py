"""Turning a campaign and one recipient into the `EmailMessage` that goes out.

Merge fields render in Jinja's SandboxedEnvironment, so a template can read the recipient's data and
nothing else. Headers are set through `EmailMessage`, whose default policy refuses CR/LF in a header
value; subjects and names are folded onto one line first, since a line break there is never meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

import pytz
from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from app import clock
from app.sending.plain_text import html_to_text

HTML_ENV = SandboxedEnvironment(autoescape=True)
TEXT_ENV = SandboxedEnvironment(autoescape=False)


@dataclass(frozen=True)
class Sender:
    address: str
    name: str = ""
    reply_to: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    merge_data: dict[str, Any]

    def context(self) -> dict[str, Any]:
        return {**self.merge_data, "name": self.name, "email": self.address}


def one_line(text: str) -> str:
    return " ".join(text.split())


class CampaignTemplate:
    """A campaign's subject and bodies compiled once, rendered for each recipient."""

    def __init__(self, subject: str, html_body: str, text_body: str = "") -> None:
        self.subject: Template = TEXT_ENV.from_string(subject)
        self.html: Template = HTML_ENV.from_string(html_body)
        self.text: Template = TEXT_ENV.from_string(text_body or html_to_text(html_body))

    def build(self, sender: Sender, recipient: Recipient) -> EmailMessage:
        context = recipient.context()
        message = EmailMessage()
        message["Subject"] = one_line(self.subject.render(context))
        message["From"] = Address(one_line(sender.name), addr_spec=sender.address)
        message["To"] = Address(one_line(recipient.name), addr_spec=recipient.address)
        if sender.reply_to:
            message["Reply-To"] = sender.reply_to
        message["Date"] = format_datetime(pytz.utc.localize(clock.utcnow()))
        message["Message-ID"] = make_msgid(domain=sender.domain)
        message.set_content(self.text.render(context))
        message.add_alternative(self.html.render(context), subtype="html")
        return message


@lru_cache(maxsize=64)
def compiled_template(subject: str, html_body: str, text_body: str = "") -> CampaignTemplate:
    """A campaign compiled once per worker process (keyed by its content, so an edit recompiles)."""
    return CampaignTemplate(subject, html_body, text_body)
