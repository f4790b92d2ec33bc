"""What an SMTP failure means for the engine, decided by a table of rules (DESIGN.md, "Batch sender").

The first rule that matches wins. A rule looks at the reply code, the wording (enhanced status codes
such as `5.2.2` are part of it) and the stage the failure came at. Outcomes:

- RATE_LIMIT: the provider wants us to slow down. Park the email, cool the account down, stop the batch.
- ACCOUNT: the account itself cannot send (login refused, TLS, unreachable, sender refused).
- TRANSIENT: this email may go through later; count an attempt and back off.
- PERMANENT: this recipient will never accept it; fail the email with the server's reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.sending.connection import SMTPFailure, Stage


class Outcome(StrEnum):
    RATE_LIMIT = "rate_limit"
    ACCOUNT = "account"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


BEFORE_RECIPIENT = {Stage.CONNECT, Stage.EHLO, Stage.STARTTLS, Stage.AUTH}
RATE_WORDING = re.compile(
    r"rate|quota|limit|throttl|too many|too much mail|try again later|unusual|temporarily deferred|slow down",
    re.IGNORECASE,
)
DAILY_QUOTA_WORDING = re.compile(r"daily|sending (quota|limit)|SubmissionQuotaExceeded", re.IGNORECASE)
#: A recipient's busy or full mailbox (4.2.1, 4.2.2) may speak of rates and quotas too, but it is that
#: recipient's problem, not a reason to cool the whole account down.
RECIPIENT_MAILBOX = re.compile(r"\b[45]\.2\.[12]\b|mailbox (is )?full|over quota", re.IGNORECASE)
#: An enhanced status code (RFC 3463), e.g. 5.1.1; when a reply has one, it decides.
ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
#: 5.1.7 and 5.1.8 are address errors too, but about the sender's address.
SENDER_ADDRESS_DETAILS = {"7", "8"}
#: What servers write when they give no enhanced code.
MAILBOX_GONE_WORDING = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|mailbox unavailable"
    r"|mailbox not found",
    re.IGNORECASE,
)
#: Microsoft 365's wording when basic SMTP AUTH is switched off for the tenant.
BASIC_AUTH_RETIRED = re.compile(r"5\.7\.30|basic authentication is not supported", re.IGNORECASE)


def is_mailbox_failure(code: int | None, reply: str | None) -> bool:
    """Whether a recorded reply is a permanent failure of the mailbox itself (a hard bounce): 5.1.x
    (bad address) or 5.2.1 (mailbox disabled), or, with no enhanced code, the wording servers use. A full
    mailbox (5.2.2), a policy or spam refusal (5.7.x) is not one: the address may work tomorrow."""
    if code is None or not 500 <= code < 600 or not reply:
        return False
    enhanced = ENHANCED_CODE.search(reply)
    if enhanced:
        klass, subject, detail = enhanced.groups()
        address_error = subject == "1" and detail not in SENDER_ADDRESS_DETAILS
        return klass == "5" and (address_error or (subject, detail) == ("2", "1"))
    return bool(MAILBOX_GONE_WORDING.search(reply))


def is_temporary(failure: SMTPFailure) -> bool:
    return failure.code is not None and 400 <= failure.code < 500


def is_permanent(failure: SMTPFailure) -> bool:
    return failure.code is not None and 500 <= failure.code < 600


def has_rate_wording(failure: SMTPFailure) -> bool:
    return bool(RATE_WORDING.search(failure.message)) and not RECIPIENT_MAILBOX.search(failure.message)


@dataclass(frozen=True)
class Rule:
    outcome: Outcome
    why: str
    matches: Callable[[SMTPFailure], bool]


RULES: tuple[Rule, ...] = (
    Rule(Outcome.RATE_LIMIT, "451 is how most providers say 'slow down'", lambda f: f.code == 451),
    Rule(
        Outcome.RATE_LIMIT,
        "a temporary reply worded as a rate, quota or limit, at any stage",
        lambda f: is_temporary(f) and has_rate_wording(f),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "a permanent reply that is really a daily sending quota (Gmail 5.4.5, Microsoft 365)",
        lambda f: is_permanent(f) and has_rate_wording(f) and bool(DAILY_QUOTA_WORDING.search(f.message)),
    ),
    Rule(
        Outcome.ACCOUNT,
        "anything before the recipient concerns the whole account",
        lambda f: f.stage in BEFORE_RECIPIENT,
    ),
    Rule(
        Outcome.ACCOUNT, "the sender address was refused", lambda f: f.stage is Stage.MAIL and is_permanent(f)
    ),
    Rule(Outcome.PERMANENT, "the recipient or the message was refused for good", is_permanent),
    Rule(Outcome.TRANSIENT, "any other temporary reply, timeout or dropped connection", lambda f: True),
)


def classify(failure: SMTPFailure) -> Outcome:
    return next(rule.outcome for rule in RULES if rule.matches(failure))


def closes_connection(failure: SMTPFailure) -> bool:
    """After a 421, a timeout or a drop the server is gone: the next email needs a new connection."""
    return failure.code == 421 or failure.code is None


def account_error_message(failure: SMTPFailure) -> str:
    """What the settings page tells the user about an account failure."""
    if BASIC_AUTH_RETIRED.search(failure.message):
        return (
            f"{failure.reply} — Microsoft no longer accepts a plain password for SMTP on this account: "
            "ask your administrator to allow SMTP AUTH for the mailbox, or send through another provider."
        )
    return f"{failure.stage.value.upper()} failed: {failure.reply}"
