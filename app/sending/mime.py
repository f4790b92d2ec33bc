"""The bytes of a campaign email, assembled directly rather than through the email package.

The email package parses every header back through its header registry, folds it, and encodes each
body through its content manager: about 1.7 ms a message, most of a worker's time per email. Every
message of a campaign from one sender shares its From, Reply-To and MIME structure, so `Layout` prepares
those once, and each message encodes only what differs per recipient (subject, To, Date, Message-ID,
List-Unsubscribe and the two bodies) with binascii's C codecs. Tests parse what comes out with
`email.parser.BytesParser(policy=default)` and compare it with the email package's own rendering
(`CampaignTemplate.email_message`).

Encodings: a header that is printable ASCII is written as it is (folded at spaces past 78 characters);
anything else is RFC 2047 encoded words. A body is 7bit when it is ASCII with lines of at most 998
bytes, else quoted-printable, or base64 when more than a quarter of it is non-ASCII. An address with a
non-ASCII local part is written in UTF-8 (RFC 6532): the connection sends it with SMTPUTF8; a non-ASCII
domain is written as IDNA.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

CRLF = "\r\n"
#: RFC 5322's limit on a line, CRLF excluded.
MAX_LINE = 998
#: Where a header line is folded when it can be (RFC 5322's recommendation).
FOLD_AT = 78
#: UTF-8 bytes one encoded word carries: `=?utf-8?b?` + 60 base64 characters + `?=` is 72, under 75.
WORD_BYTES = 45
#: Characters that make a display name a quoted string (RFC 5322 `specials`).
SPECIALS = frozenset('()<>[]:;@\\,."')


def refuse_line_breaks(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} may not contain a line break")
    return value


def encoded_words(text: str) -> str:
    """`text` as RFC 2047 'B' encoded words, each under 76 characters, never splitting a character."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for character in text:
        width = len(character.encode("utf-8", "surrogatepass"))
        if size + width > WORD_BYTES:
            words.append(_word("".join(chunk)))
            chunk, size = [], 0
        chunk.append(character)
        size += width
    if chunk or not words:
        words.append(_word("".join(chunk)))
    return f"{CRLF} ".join(words)


def _word(text: str) -> str:
    return "=?utf-8?b?" + binascii.b2a_base64(text.encode("utf-8"), newline=False).decode("ascii") + "?="


def _plain(text: str) -> bool:
    """Whether header text goes out as it is: printable ASCII no reader takes for an encoded word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def unstructured(name: str, text: str) -> str:
    """A header line (no CRLF) holding `text`, e.g. a subject."""
    refuse_line_breaks(text, name)
    if not _plain(text):
        return f"{name}: {encoded_words(text)}"
    line = f"{name}: {text}"
    if len(line) <= FOLD_AT:
        return line
    folded = _fold_at_spaces(line)
    if any(len(part) > MAX_LINE for part in folded.split(CRLF)):  # a word too long for any line
        return f"{name}: {encoded_words(text)}"
    return folded


def _fold_at_spaces(line: str) -> str:
    """Fold a header line at the spaces past `FOLD_AT`, never between the header's name and its first word."""
    name, first, *words = line.split(" ")
    lines: list[str] = []
    current = f"{name} {first}"
    for word in words:
        if len(current) + 1 + len(word) > FOLD_AT:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}"
    lines.append(current)
    return f"{CRLF} ".join(lines)


def address(spec: str) -> str:
    """An addr-spec as it goes in a header; raises `ValueError` for what is not one address."""
    refuse_line_breaks(spec, "An address")
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain or not spec.isprintable() or any(c in spec for c in " <>,"):
        raise ValueError(f"{spec!r} is not an email address")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def needs_smtputf8(spec: str) -> bool:
    """Whether an address can only be sent with SMTPUTF8 (RFC 6531): one with non-ASCII characters before
    the @. A non-ASCII domain does not need it: it goes out as IDNA."""
    return not spec.rpartition("@")[0].isascii()


def mailbox(name: str, spec: str) -> str:
    """`Name <address>`, or the address alone when there is no name (a header value, no CRLF)."""
    refuse_line_breaks(name, "A name")
    addr_spec = address(spec)
    if not name:
        return addr_spec
    if not _plain(name) or len(name) > MAX_LINE // 2:
        phrase = encoded_words(name)
    elif SPECIALS.isdisjoint(name):
        phrase = name
    else:
        phrase = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{phrase} <{addr_spec}>"


def encoded_body(text: str) -> tuple[str, bytes]:
    """The transfer encoding and the encoded bytes of a UTF-8 text body, with CRLF line ends."""
    data = text.encode("utf-8", "surrogateescape")
    lines = data.splitlines()
    joined = b"\r\n".join(lines) + b"\r\n"
    if data.isascii() and max(map(len, lines), default=0) <= MAX_LINE:
        return "7bit", joined
    if (len(data) - len(text)) * 4 > len(data):
        return "base64", base64.encodebytes(joined).replace(b"\n", b"\r\n")
    return "quoted-printable", binascii.b2a_qp(joined, istext=True)


def _folded_url(url: str) -> str:
    """A URL on one line when it fits, else broken over lines, as RFC 2369 lets a list header do (a
    reader drops the whitespace a URL is folded at)."""
    room = MAX_LINE - len("List-Unsubscribe: <>")
    if len(url) <= room:
        return url
    return f"{CRLF} ".join(url[start : start + FOLD_AT] for start in range(0, len(url), FOLD_AT))


@dataclass(frozen=True)
class Part:
    """One rendered body of the message, and its MIME subtype."""

    subtype: str
    text: str

    def encoded(self) -> bytes:
        encoding, payload = encoded_body(self.text)
        head = (
            f'Content-Type: text/{self.subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
        )
        return head.encode("ascii") + payload


@dataclass(frozen=True)
class Personal:
    """What differs between two recipients of one campaign (every value without CR/LF)."""

    subject: str
    to_name: str
    to_address: str
    date: str
    message_id: str
    unsubscribe_url: str


class Layout:
    """What every message from one sender shares, prepared once: From, Reply-To, the fixed headers."""

    def __init__(self, from_name: str, from_address: str, reply_to: str = "") -> None:
        lines = [f"From: {mailbox(from_name, from_address)}"]
        if reply_to:
            lines.append(f"Reply-To: {address(reply_to)}")
        self.sender_lines = CRLF.join(lines) + CRLF
        self.boundary = "=_" + secrets.token_hex(16)

    def assemble(self, personal: Personal, text: str, html: str) -> bytes:
        """The whole message: headers, then a multipart/alternative with the text part first."""
        for value, what in ((personal.message_id, "A Message-ID"), (personal.unsubscribe_url, "A link")):
            refuse_line_breaks(value, what)
        parts = [Part("plain", text).encoded(), Part("html", html).encoded()]
        boundary = self.boundary
        while any(boundary.encode("ascii") in part for part in parts):  # only a 7bit body can hold it
            boundary = "=_" + secrets.token_hex(16)
        head = (
            f"{unstructured('Subject', personal.subject)}{CRLF}"
            f"{self.sender_lines}"
            f"To: {mailbox(personal.to_name, personal.to_address)}{CRLF}"
            f"Date: {personal.date}{CRLF}"
            f"Message-ID: {personal.message_id}{CRLF}"
            f"List-Unsubscribe: <{_folded_url(personal.unsubscribe_url)}>{CRLF}"
            f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{CRLF}"
            f"MIME-Version: 1.0{CRLF}"
            f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
        )
        # The CRLF before a delimiter belongs to it (RFC 2046), so each body keeps its last line end.
        delimiter = f"{CRLF}--{boundary}{CRLF}".encode("ascii")
        return b"".join(
            (
                head.encode("utf-8"),
                delimiter[2:],
                parts[0],
                delimiter,
                parts[1],
                f"{CRLF}--{boundary}--{CRLF}".encode("ascii"),
            )
        )
