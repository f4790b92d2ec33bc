"""Turning a campaign and one recipient into the message that goes out.

Merge fields render in Jinja's sandbox, bounded in time and size (`app.sending.sandbox`), so a
template can read the recipient's data and nothing else, and can't hold the worker. The bytes are
assembled by `app.sending.mime`, which refuses CR/LF in any header value; subjects and names are
folded onto one line first, since a line break there is never meant.

Every message carries the headers that Gmail's and Yahoo's bulk-sender rules ask for: From with its
display name, Date, a Message-ID on the sender's domain, and a one-click List-Unsubscribe (RFC 8058)
pointing at the recipient's signed unsubscribe link, which `{{ unsubscribe_url }}` also gives the
bodies. A body part that does not use `{{ unsubscribe_url }}` gets the default footer with the link.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

import pytz
from jinja2 import Template, meta
from jinja2.sandbox import SandboxedEnvironment

from app import clock
from app.recipient import Recipient
from app.sending.mime import Layout, Personal
from app.sending.plain_text import html_to_text
from app.sending.sandbox import HTML_ENV, TEXT_ENV
from app.sending.typography import Wrapper

UNSUBSCRIBE_FIELD = "unsubscribe_url"
#: Added to a body part that has no `{{ unsubscribe_url }}` of its own (README, "Deliverability").
HTML_FOOTER = (
    '<p style="margin-top:32px;font-size:12px;color:#6c757d">'
    'Don\'t want these emails any more? <a href="{{ unsubscribe_url }}">Unsubscribe</a>.</p>'
)
TEXT_FOOTER = "\n\n--\nDon't want these emails any more? Unsubscribe: {{ unsubscribe_url }}\n"
ONE_CLICK = "List-Unsubscribe=One-Click"


class OneLineHeader(UnstructuredHeader):
    """Written on one line as it is: the default policy would fold a long URL, which has no spaces to
    fold at, into RFC 2047 encoded words that no mail client reads as a link (RFC 5322 allows lines of
    998 characters; 78 is only a recommendation). CR/LF is still refused when the header is set."""

    max_count = 1
    #: Given by `BaseHeader`, which `HeaderRegistry` mixes into this class when it makes a header.
    name: str

    def fold(self, *, policy: email.policy.EmailPolicy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_HEADERS = HeaderRegistry()
# typeshed wants a BaseHeader subclass; the registry takes the mixin and adds BaseHeader itself.
_HEADERS.map_to_type("list-unsubscribe", OneLineHeader)  # type: ignore[arg-type]
MESSAGE_POLICY = email.policy.default.clone(header_factory=_HEADERS)


@dataclass(frozen=True)
class Sender:
    address: str
    name: str = ""
    reply_to: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def one_line(text: str) -> str:
    return " ".join(text.split())


def uses_unsubscribe_url(environment: SandboxedEnvironment, source: str) -> bool:
    """Whether the template uses the `unsubscribe_url` variable (the word in a comment does not count)."""
    return UNSUBSCRIBE_FIELD in meta.find_undeclared_variables(environment.parse(source))


def with_footer(environment: SandboxedEnvironment, source: str, footer: str) -> str:
    """`source` as it is if it links to `{{ unsubscribe_url }}`, else with `footer` at its end (inside
    `<body>` when the HTML has one)."""
    if uses_unsubscribe_url(environment, source):
        return source
    end = source.lower().rfind("</body>")
    return source + footer if end < 0 else source[:end] + footer + source[end:]


@dataclass(frozen=True)
class Environments:
    """Where a campaign's parts render: the engine's sandbox, or the preview's (which shows unknown
    fields instead of leaving them blank)."""

    html: SandboxedEnvironment = HTML_ENV
    text: SandboxedEnvironment = TEXT_ENV


ENGINE = Environments()


class CampaignTemplate:
    """A campaign's subject and bodies compiled once, rendered for each recipient; the HTML is put in
    its email document with its typography and preheader (`app.sending.typography`)."""

    def __init__(
        self,
        subject: str,
        html_body: str,
        text_body: str = "",
        preheader: str = "",
        environments: Environments = ENGINE,
    ) -> None:
        html_env, text_env = environments.html, environments.text
        self.subject: Template = text_env.from_string(subject)
        self.html: Template = html_env.from_string(with_footer(html_env, html_body, HTML_FOOTER))
        self.wrapper = Wrapper.for_body(html_body, preheader)
        text = text_body or html_to_text(html_body)
        self.text: Template = text_env.from_string(with_footer(text_env, text, TEXT_FOOTER))

    def render(self, recipient: Recipient, unsubscribe_url: str) -> Rendered:
        context = {**recipient.context(), UNSUBSCRIBE_FIELD: unsubscribe_url}
        return Rendered(
            one_line(self.subject.render(context)),
            self.wrapper.wrap(self.html.render(context)),
            self.text.render(context),
        )

    def build(
        self, sender: Sender, recipient: Recipient, unsubscribe_url: str, message_id: str | None = None
    ) -> bytes:
        """The message for `recipient`; `unsubscribe_url` is their signed link (`UnsubscribeLinks`);
        `message_id` the email's own, kept across tries (a new one if not given: a preview or a test)."""
        rendered = self.render(recipient, unsubscribe_url)
        return self.assemble(sender, rendered, recipient.name, recipient.address, unsubscribe_url, message_id)

    @staticmethod
    def assemble(
        sender: Sender,
        rendered: Rendered,
        to_name: str,
        to_address: str,
        unsubscribe_url: str,
        message_id: str | None = None,
    ) -> bytes:
        """The bytes of a rendered message addressed to `to_address` (`app.sending.mime`)."""
        personal = Personal(
            subject=rendered.subject,
            to_name=one_line(to_name),
            to_address=to_address,
            date=format_datetime(pytz.utc.localize(clock.utcnow())),
            message_id=message_id or make_msgid(domain=sender.domain),
            unsubscribe_url=unsubscribe_url,
        )
        return layout(sender).assemble(personal, rendered.text, rendered.html)

    def email_message(
        self, sender: Sender, recipient: Recipient, unsubscribe_url: str, message_id: str | None = None
    ) -> EmailMessage:
        """The same message built by the email package: the reference `build` is tested against, and
        the "old builder" figure of `make bench-send`."""
        rendered = self.render(recipient, unsubscribe_url)
        message = EmailMessage(policy=MESSAGE_POLICY)
        message["Subject"] = rendered.subject
        message["From"] = Address(one_line(sender.name), addr_spec=sender.address)
        message["To"] = Address(one_line(recipient.name), addr_spec=recipient.address)
        if sender.reply_to:
            message["Reply-To"] = sender.reply_to
        message["Date"] = format_datetime(pytz.utc.localize(clock.utcnow()))
        message["Message-ID"] = message_id or make_msgid(domain=sender.domain)
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message


@lru_cache(maxsize=256)
def layout(sender: Sender) -> Layout:
    """What every message from `sender` shares, prepared once per worker process."""
    return Layout(one_line(sender.name), sender.address, sender.reply_to)


@lru_cache(maxsize=64)
def compiled_template(
    subject: str, html_body: str, text_body: str = "", preheader: str = ""
) -> CampaignTemplate:
    """A campaign compiled once per worker process (keyed by its content, so an edit recompiles)."""
    return CampaignTemplate(subject, html_body, text_body, preheader)
