"""What a message found in the sender's mailbox is: a bounce (RFC 3464 DSN or a server's own format), a
complaint (RFC 5965 ARF), an auto-reply (RFC 3834 and the usual headers and wording) or a possible
human reply, and which of our messages it is about.

Pure functions over `email.message.Message` (parsed with the lenient compat32 policy: bounces are
often malformed). Whether a bounce is hard is the engine's rule (`is_mailbox_failure`), not a second one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email import message_from_string
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

from app.models import MailboxEventKind
from app.sending.classify import ENHANCED_CODE, is_mailbox_failure

MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SMTP_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")
#: Who sends bounces: the mail system itself, not a person.
BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (subsystem|system)|mdaemon", re.I)
#: Subjects of bounces in the formats servers use when they do not send a standard DSN.
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery (status notification|failure|has failed|failed)|"
    r"mail delivery (failed|failure|system)|returned mail|failure notice|delivery problem|"
    r"could not be delivered|non.?remis|unzustellbar|no se puede entregar|non recapitabile|"
    r"delivery notification|mail system error|rejected:|returned to sender",
    re.I,
)
#: Subjects of out-of-office and other automatic replies, in the languages they are most seen in.
AUTO_REPLY_SUBJECT = re.compile(
    r"out of (the )?office|automatic reply|auto.?reply|auto.?response|autoresponder|away from|"
    r"on vacation|vacation (reply|message)|abwesenheit|automatische antwort|"
    r"r[ée]ponse automatique|absence|respuesta autom[áa]tica|fuera de la oficina|"
    r"risposta automatica|fuori sede|automatisch antwoord|afwezig|resposta autom[áa]tica|"
    r"ausente|automatyczna odpowied[źz]|自動応答|自動返信|不在|自动回复|автоответ|"
    r"otomatik yan[ıi]t",
    re.I,
)
#: How long a reply's first lines may be, on the report.
EXCERPT_CHARS = 300
EXCERPT_LINES = 3
QUOTE_START = re.compile(
    r"^(>|on .{0,200} wrote:|-----original message-----|le .{0,200} a écrit|am .{0,200} schrieb)", re.I
)


@dataclass(frozen=True)
class Finding:
    """What a message is and what it says about one of our emails."""

    kind: str
    #: The recipient it is about (a bounce's or complaint's; a reply's sender), lower-cased, or "".
    address: str = ""
    #: Message-IDs of ours it may name: the original's, In-Reply-To, References (newest first).
    message_ids: tuple[str, ...] = ()
    status_code: str = ""
    smtp_code: int | None = None
    detail: str = ""
    hard: bool = False


def header(message: Message, name: str) -> str:
    """A header's value, decoded, on one line ("" if absent). Raw 8-bit bytes, which the RFCs forbid but
    servers send, are read as UTF-8."""
    value = message.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        parts = decode_header(value)
    except (UnicodeError, ValueError):
        return " ".join(str(value).split())
    text = "".join(
        chunk.decode(readable_charset(charset), "replace") if isinstance(chunk, bytes) else chunk
        for chunk, charset in parts
    )
    return " ".join(text.split())


def readable_charset(charset: str | None) -> str:
    if not charset or charset == "unknown-8bit":
        return "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


def is_candidate(headers: Message) -> bool:
    """Whether a message's headers alone make it worth fetching whole: a report, a bounce's sender or
    subject, an automatic reply's marks, or a reference to some earlier message (a reply)."""
    content_type = header(headers, "Content-Type").lower()
    return bool(
        "multipart/report" in content_type
        or BOUNCE_SENDER.search(header(headers, "From"))
        or BOUNCE_SUBJECT.search(header(headers, "Subject"))
        or is_auto_reply(headers)
        or header(headers, "In-Reply-To")
        or header(headers, "References")
        or header(headers, "X-Failed-Recipients")
    )


def classify(message: Message) -> Finding | None:
    """What `message` is, or None when it is none of the four (most of a mailbox)."""
    report_type = str(message.get_param("report-type", header="content-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        return complaint(message)
    if message.get_content_type() == "multipart/report" and report_type in ("delivery-status", ""):
        dsn = delivery_status(message)
        if dsn is not None:
            return dsn
    if looks_like_bounce(message):
        return plain_bounce(message)
    if is_auto_reply(message):
        return Finding(MailboxEventKind.AUTO_REPLY, sender_address(message), referenced_ids(message),
                       detail=header(message, "Subject"))  # fmt: skip
    if referenced_ids(message):
        return Finding(
            MailboxEventKind.REPLY, sender_address(message), referenced_ids(message), detail=excerpt(message)
        )
    return None


# ----- bounces -------------------------------------------------------------------------------------


def delivery_status(message: Message) -> Finding | None:
    """An RFC 3464 report: the first recipient whose action is "failed" (a "delayed" one is no bounce)."""
    for part in message.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        recipients = [
            fields for fields in status_blocks(part) if "final-recipient" in fields or "status" in fields
        ]
        for fields in recipients:
            action = (fields.get("action") or "failed").strip().lower()
            if action != "failed":
                continue
            address = typed_address(fields.get("final-recipient") or fields.get("original-recipient") or "")
            status = (fields.get("status") or "").strip()
            diagnostic = " ".join((fields.get("diagnostic-code") or "").split())
            diagnostic = (
                diagnostic.split(";", 1)[1].strip() if diagnostic.lower().startswith("smtp;") else diagnostic
            )
            return bounce(address or failed_recipient(message), status, diagnostic, original_ids(message))
        return None
    return None


def status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part, each as lower-cased name → value."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [
            {k.lower(): str(v) for k, v in block.items()} for block in payload if isinstance(block, Message)
        ]
    else:
        text = payload if isinstance(payload, str) else ""
        blocks = [parse_fields(chunk) for chunk in re.split(r"\r?\n\s*\r?\n", text)]
    return [block for block in blocks if block]


def parse_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            fields[name] = value.strip()
    return fields


def typed_address(value: str) -> str:
    """`rfc822; someone@example.org` → someone@example.org."""
    value = value.split(";", 1)[-1]
    found = ADDRESS.search(value)
    return found.group(0).lower() if found else ""


def looks_like_bounce(message: Message) -> bool:
    """A bounce in a server's own format: sent by the mail system and saying delivery failed."""
    return bool(
        message.get("X-Failed-Recipients")
        or (
            BOUNCE_SENDER.search(header(message, "From"))
            and BOUNCE_SUBJECT.search(header(message, "Subject"))
        )
    )


def plain_bounce(message: Message) -> Finding:
    """A non-standard bounce (qmail, Exim, Exchange's text, …): the failed address, code and diagnostic
    read from the text, the original's Message-ID from an attached copy or its quoted headers."""
    text = "\n".join(text_parts(message, include_attached=False))
    address = failed_recipient(message) or address_in_bounce_text(text, message)
    status_match = ENHANCED_CODE.search(text)
    status = status_match.group(0) if status_match else ""
    return bounce(address, status, diagnostic_line(text, status, address), original_ids(message))


def failed_recipient(message: Message) -> str:
    found = ADDRESS.search(header(message, "X-Failed-Recipients"))
    return found.group(0).lower() if found else ""


def address_in_bounce_text(text: str, message: Message) -> str:
    """The first address in the bounce's text that is not the mail system's or the sender's own."""
    own = {
        address.lower() for _name, address in getaddresses([header(message, "From"), header(message, "To")])
    }
    for found in ADDRESS.finditer(text):
        address = found.group(0).lower()
        if address not in own and not BOUNCE_SENDER.search(address):
            return address
    return ""


def diagnostic_line(text: str, status: str, address: str) -> str:
    """The line of the text that carries the status code or an SMTP reply, for the report."""
    for line in text.splitlines():
        stripped = " ".join(line.split())
        if (status and status in stripped) or (SMTP_CODE.search(stripped) and len(stripped) > 12):
            return stripped[:500]
    for line in text.splitlines():
        if address and address in line.lower():
            return " ".join(line.split())[:500]
    return ""


def bounce(address: str, status: str, diagnostic: str, message_ids: tuple[str, ...]) -> Finding:
    """A bounce, hard when the engine's rule says the mailbox itself failed (5.1.x, 5.2.1)."""
    reply_code = SMTP_CODE.search(diagnostic)
    found = ENHANCED_CODE.search(status)
    status = found.group(0) if found else ""
    specific = ENHANCED_CODE.search(diagnostic)
    if specific and (not status or status.endswith(".0.0")) and specific.group(1) == (status or "5")[0]:
        status = specific.group(0)  # "5.0.0" says only "failed"; the server's own reply says why
    # A report that delivery failed, with no code at all, is a permanent failure said in words.
    smtp_code = int(reply_code.group(1)) if reply_code else {"5": 550, "4": 450}.get(status[:1], 550)
    reply = f"{status} {diagnostic}".strip()
    hard = is_mailbox_failure(smtp_code, reply) and not status.startswith("4")
    return Finding(MailboxEventKind.BOUNCE, address, message_ids, status, smtp_code, reply[:1000], hard=hard)


# ----- complaints ----------------------------------------------------------------------------------


def complaint(message: Message) -> Finding:
    """An RFC 5965 feedback report: the complaining recipient and the original's Message-ID."""
    fields: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            for block in status_blocks(part):
                fields.update(block)
    original = attached_original(message)
    address = typed_address(fields.get("original-rcpt-to", "")) or typed_address(
        fields.get("removal-recipient", "")
    )
    if not address and original is not None:
        address = typed_address(header(original, "To"))
    feedback = fields.get("feedback-type", "abuse").strip()
    return Finding(
        MailboxEventKind.COMPLAINT, address, original_ids(message), detail=f"Feedback-Type: {feedback}"
    )


# ----- replies -------------------------------------------------------------------------------------


def auto_submitted(message: Message) -> bool:
    value = header(message, "Auto-Submitted").lower()
    return bool(value and not value.startswith("no"))


def is_auto_reply(message: Message) -> bool:
    """RFC 3834's Auto-Submitted, the headers auto-responders add, or an out-of-office subject."""
    precedence = header(message, "Precedence").lower()
    return bool(
        auto_submitted(message)
        or message.get("X-Autoreply")
        or message.get("X-Autorespond")
        or precedence in ("auto_reply", "auto-reply")
        or AUTO_REPLY_SUBJECT.search(header(message, "Subject"))
    )


def sender_address(message: Message) -> str:
    addresses = getaddresses([header(message, "Reply-To") or header(message, "From")])
    return addresses[0][1].lower() if addresses and "@" in addresses[0][1] else ""


def referenced_ids(message: Message) -> tuple[str, ...]:
    """In-Reply-To first, then References newest first: the messages this one answers."""
    ids = MESSAGE_ID.findall(header(message, "In-Reply-To"))
    ids += reversed(MESSAGE_ID.findall(header(message, "References")))
    return tuple(dict.fromkeys(ids))


def excerpt(message: Message) -> str:
    """A reply's own first lines: the quoted original and the signature left out."""
    lines: list[str] = []
    for text in text_parts(message, include_attached=False)[:1]:
        for line in text.splitlines():
            stripped = line.strip()
            if QUOTE_START.match(stripped) or stripped == "--":
                break
            if stripped:
                lines.append(stripped)
            if len(lines) == EXCERPT_LINES:
                break
    return " ".join(lines)[:EXCERPT_CHARS]


# ----- the original message ------------------------------------------------------------------------


def attached_original(message: Message) -> Message | None:
    """The copy of our message a report carries (message/rfc822, or just its headers)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if content_type in ("text/rfc822-headers", "text/rfc822-header", "message/rfc822-headers"):
            return message_from_string(decoded_text(part).lstrip())
    return None


def original_ids(message: Message) -> tuple[str, ...]:
    """The Message-ID of the message a report is about: its attached copy's, else a quoted
    `Message-ID:` line in the text, else the report's own In-Reply-To / References."""
    original = attached_original(message)
    if original is not None:
        found = MESSAGE_ID.findall(header(original, "Message-ID"))
        if found:
            return tuple(found)
    for text in text_parts(message, include_attached=True):
        quoted = re.search(r"^\s*Message-ID:\s*(<[^<>\s]+@[^<>\s]+>)", text, re.I | re.M)
        if quoted:
            return (quoted.group(1),)
    return referenced_ids(message)


def text_parts(message: Message, include_attached: bool) -> list[str]:
    """The decoded text/plain parts (text/html, stripped of tags, when there is none)."""
    texts, htmls = [], []
    for part in walk(message, include_attached):
        if part.get_content_type() == "text/plain":
            texts.append(decoded_text(part))
        elif part.get_content_type() == "text/html":
            htmls.append(re.sub(r"<[^>]+>", " ", decoded_text(part)))
    return texts or htmls


def walk(message: Message, include_attached: bool) -> list[Message]:
    if include_attached:
        return list(message.walk())
    parts: list[Message] = []

    def visit(part: Message) -> None:
        if part.get_content_type() in ("message/rfc822", "message/global"):
            return
        if part.is_multipart():
            for child in part.get_payload():
                if isinstance(child, Message):
                    visit(child)
        else:
            parts.append(part)

    visit(message)
    return parts


def decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")
