"""What the user reads about an account problem: the provider's reply, what it means and what to do.

One table, the first matching entry wins; the settings page and the campaign page show the sentence the
engine stored on the account (`SMTPSettings.last_error`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.sending.classify import SENDER_LISTED, Verdict, wording
from app.sending.connection import SMTPFailure


@dataclass(frozen=True)
class Advice:
    matches: re.Pattern[str]
    meaning: str


ADVICE: tuple[Advice, ...] = (
    Advice(
        wording(r"5\.7\.30", r"basic authentication is not supported"),
        "Microsoft no longer accepts a plain password for SMTP on this account: ask your administrator to "
        "allow SMTP AUTH for the mailbox, or send through another provider.",
    ),
    Advice(
        wording(r"relay", r"5\.7\.64"),
        "The server will not pass your mail on: it does not see you logged in, or this account may not send "
        "for the From address. Check the username and password and that the From address belongs to this "
        "account.",
    ),
    Advice(
        wording(r"verif", r"sender identity", r"not owned", r"5\.1\.[78]\b"),
        "Your provider sends only from addresses (or domains) you have verified with it. Verify the From "
        "address in your provider's dashboard, or send from an address it has verified.",
    ),
    Advice(
        wording(r"send ?as", r"5\.7\.60", r"not (authorized|allowed|permitted) to send"),
        "This mailbox may not send as the From address. Send from the mailbox's own address, or ask your "
        "administrator to grant it Send As permission.",
    ),
    Advice(
        wording(r"unauthenticated", r"\b(spf|dkim|dmarc)\b", r"5\.7\.(2[3-7]|509)", r"ptr|reverse dns"),
        "The receiving server could not confirm that this mail comes from your domain. Publish the SPF and "
        "DKIM records your provider gives for your domain (and a DMARC record), or send from an address "
        "of your provider's own domain.",
    ),
    Advice(
        wording(
            r"outbound ?spam", r"unusual", r"suspicious", r"suspended", r"disabled", r"\blocked\b", r"banned"
        ),
        "Your provider has stopped this account from sending, usually after mail it judged as spam or too "
        "much at once. Sign in to your provider's web mail or dashboard, follow its steps to unblock the "
        "account, then press Try again here.",
    ),
    Advice(
        wording(
            SENDER_LISTED.pattern,
            r"block",
            r"listed",
            r"reputation",
            r"5\.7\.[67]\d\d",
            r"traffic",
        ),
        "The receiving side refuses mail from your provider's server or IP address (blocked or on a "
        "blocklist). Ask your provider's support about it; no setting here can change it.",
    ),
    Advice(
        wording(r"starttls", r"tls|encryption"),
        "The server requires an encrypted connection: choose STARTTLS (port 587) or SSL/TLS (port 465) as "
        "the security setting.",
    ),
    Advice(
        wording(r"authenticat", r"password|credentials|5\.7\.(8|139|57)\b|535"),
        "The username or password was refused. With Gmail, Outlook or Yahoo use an app password (your "
        "normal password is refused when two-step verification is on), then save the settings again.",
    ),
)


def advice_for(reply: str) -> str | None:
    """What an account refusal means and what to do about it, if the table knows."""
    return next((advice.meaning for advice in ADVICE if advice.matches.search(reply)), None)


def account_error_message(failure: SMTPFailure) -> str:
    """What the settings page tells the user about an account failure: the reply, then its meaning."""
    reply = f"{failure.stage.value.upper()} failed: {failure.reply}"
    meaning = advice_for(failure.reply)
    return reply if meaning is None else f"{reply} — {meaning}"


def breaker_message(refused: int, reply: str) -> str:
    """Why the circuit breaker held the account."""
    return (
        f"{refused} recipients in a row were refused with the same reply, which does not speak of their "
        f"mailboxes: {reply} — most likely your provider or the receiving servers refuse this account's "
        "mail, not these addresses. They are back in the queue, untouched. Check what the reply says, then "
        "press Try again."
    )


def cooldown_reason(failure: SMTPFailure, verdict: Verdict) -> str:
    """Why the account cools down, as the campaign and settings pages say it."""
    if verdict.daily:
        return (
            f"{failure.reply} — a daily sending quota: your provider counts the last 24 hours (Gmail's "
            "limit is a rolling day), so sending resumes when the oldest email of that day is a day old."
        )
    if verdict.wait:
        return f"{failure.reply} — the provider asked for a pause of {verdict.wait:g} seconds."
    return failure.reply
