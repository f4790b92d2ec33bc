"""A corpus of real SMTP replies from real providers, each with the outcome the engine must give it.

The replies live in reply_corpus.toml next to this file, every one quoted from a public source
(provider documentation, postmaster pages, public issue trackers of mail libraries and servers).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

CORPUS_PATH = Path(__file__).with_name("reply_corpus.toml")

STAGES = frozenset({"connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data"})
OUTCOMES = frozenset({"account", "rate_limit", "transient", "permanent"})

REQUIRED_PROVIDERS = frozenset(
    {
        "Gmail",
        "Google Workspace",
        "Microsoft 365",
        "Outlook.com",
        "Exchange",
        "Yahoo",
        "AOL",
        "iCloud",
        "Zoho",
        "GoDaddy",
        "Hostinger",
        "Amazon SES",
        "SendGrid",
        "Mailgun",
        "Postmark",
        "Brevo",
        "Mailjet",
        "MailerSend",
        "SparkPost",
        "OVH",
        "IONOS",
        "Yandex",
        "Mail.ru",
        "QQ",
        "Comcast",
        "Orange",
        "Postfix",
        "Exim",
        "Sendmail",
        "postgrey",
        "rspamd",
        "Barracuda",
    }
)


@dataclass(frozen=True)
class CorpusReply:
    provider: str
    stage: str
    code: int
    text: str
    outcome: str
    why: str
    source: str
    wait: int | None = None
    daily: bool = False


def load_corpus(path: Path = CORPUS_PATH) -> list[CorpusReply]:
    """Every reply of the corpus, in file order."""
    with path.open("rb") as corpus:
        data = tomllib.load(corpus)
    return [CorpusReply(**entry) for entry in data["reply"]]


def test_corpus_is_well_formed() -> None:
    with CORPUS_PATH.open("rb") as corpus:
        raw = tomllib.load(corpus)["reply"]
    known = {field.name for field in fields(CorpusReply)}
    required = {"provider", "stage", "code", "text", "outcome", "why", "source"}
    for number, entry in enumerate(raw, start=1):
        assert required <= entry.keys(), (number, sorted(required - entry.keys()))
        assert entry.keys() <= known, (number, sorted(entry.keys() - known))
    replies = load_corpus()
    assert len(replies) >= 150
    seen = set()
    for reply in replies:
        assert reply.stage in STAGES, reply
        assert reply.outcome in OUTCOMES, reply
        assert isinstance(reply.code, int) and 200 <= reply.code <= 599, reply
        assert reply.text.strip() and reply.why.strip() and reply.source.strip(), reply
        assert reply.wait is None or (isinstance(reply.wait, int) and reply.wait > 0), reply
        assert isinstance(reply.daily, bool), reply
        assert not reply.daily or reply.outcome == "rate_limit", reply
        key = (reply.code, reply.text)
        assert key not in seen, f"duplicate reply: {reply.code} {reply.text}"
        seen.add(key)
    providers = {reply.provider for reply in replies}
    missing = REQUIRED_PROVIDERS - providers
    assert not missing, sorted(missing)
    assert {reply.outcome for reply in replies} == OUTCOMES
