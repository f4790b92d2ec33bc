"""A corpus of real SMTP replies from real providers, each with the outcome the engine must give it.

The replies live in reply_corpus.toml next to this file, every one quoted from a public source
(provider documentation, postmaster pages, public issue trackers of mail libraries and servers).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
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
