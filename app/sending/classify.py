"""What an SMTP failure means for the engine, decided by a table of rules (DESIGN.md, "Batch sender").

The first rule that matches wins. A rule reads what the server means — its wording and its enhanced
status code (RFC 3463) first, the reply's class (4xx or 5xx) and the stage only where the words say
nothing — because providers disagree on codes: a rate limit comes as 421, 450, 451, 452, 550 or 554,
and a refusal of the whole account at RCPT looks like a bad recipient by its code alone. Outcomes:

- RATE_LIMIT: the provider wants us to slow down. Park the email, cool the account down (for as long as
  the reply says, for a daily quota's window, or an hour), stop the batch.
- ACCOUNT: the account, its sender address or its IP cannot send. Stop the batch, return the rest
  untouched, tell the user what the provider said and what to do. No recipient fails.
- TRANSIENT: this email may go through later (greylisting, a busy or full mailbox, a server's passing
  trouble): count an attempt and try that recipient again in minutes.
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
RECIPIENT_STAGES = {Stage.RCPT, Stage.DATA}


def wording(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


#: An enhanced status code (RFC 3463), e.g. 5.1.1.
ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
#: 5.1.7 and 5.1.8 are address errors too, but about the sender's address.
SENDER_ADDRESS_DETAILS = {"7", "8"}
#: The recipient's mailbox is busy, full or over its quota (4.2.1, x.2.2): that recipient's passing
#: problem even when a server says it with a 5xx, and never a reason to cool the account down.
RECIPIENT_MAILBOX = wording(
    r"\b4\.2\.1\b",
    r"\b[45]\.2\.2\b",
    r"mail ?box[^.;]{0,30}\b(full|busy|over[ -]?quota|exceed|storage|size limit)",
    r"(in ?box|account|user|recipient)('s)? [^.;]{0,30}(is full|over[ -]?quota|out of (storage|space)|"
    r"storage|quota exceeded|exceeded (its|the|their) quota)",
    r"\bover[ -]?quota\b",
    r"(disk|storage|mailbox) quota",
    r"insufficient (disk )?(space|storage)",
    r"receiving mail (at|too)",
)
#: Words about the sender's own sending, which a mailbox's quota never uses.
SENDING = wording(r"\bsend(ing)?\b", r"outgoing|outbound|submission|daily")
#: Greylisting: the first try of a new sender is deferred on purpose; a retry in minutes passes.
GREYLISTING = wording(
    r"gr[ae]y-?list", r"postgrey", r"4\.7\.1 please try again later", r"\btry again later\b.*\bgrey"
)
#: A per-message or per-connection cap on recipients: a new connection sends the rest.
TOO_MANY_RECIPIENTS = wording(
    r"too many (recipients|rcpt)", r"recipient (count )?limit", r"\b[45]\.5\.3\b", r"rcpt limit"
)
#: A refusal of the sender's address, login, domain authentication or IP, whatever the stage.
ACCOUNT_REFUSAL = wording(
    # relaying: the server does not see an authenticated sender it may relay for
    r"relay(ing)? (access )?(denied|not (permitted|allowed))",
    r"(unable|not permitted|not allowed) to relay",
    r"5\.7\.64\b",
    # the sender address: not verified, not owned, not allowed
    r"sender (address )?(rejected|refused|denied|not (allowed|authorized|permitted|verified|owned))",
    r"from address (does not match|is not|not)",
    r"sender identity",
    r"(address|domain|identity|identities)[^.;]{0,40}\bnot (yet )?verified",
    r"\bunverified (sender|address|domain)",
    r"not (authorized|allowed|permitted) to send",
    r"send ?as ?(denied|permission)",
    r"5\.7\.60\b",
    r"not owned by",
    r"\b5\.1\.[78]\b",
    # authentication of the mail: login, SPF, DKIM, DMARC, reverse DNS
    r"unauthenticated",
    r"authenticat\w* (is )?(required|failed|unsuccessful|needed|credentials)",
    r"must (be )?authenticat",
    r"not authenticated",
    r"\b[45]\.7\.(8|23|24|25|26|27|57|139|30|509|510|511|750)\b",
    r"\b(spf|dkim|dmarc)\b",
    r"ptr record|reverse dns|rdns",
    # the IP or the account, blocked
    r"\b5\.7\.(6\d\d|7\d\d)\b",
    r"traffic not accepted",
    r"\b(ip|host|address|server|client|sender|domain|network)\b[^.;]{0,60}\b(black ?listed|block ?listed|"
    r"blocked|banned|listed (on|in|at|by)|poor reputation|bad reputation|low reputation)",
    r"(blocked|listed) (using|by|at|on|in) \S*(spamhaus|spamcop|sorbs|barracuda|uceprotect|rbl|dnsbl)",
    r"spamhaus|spamcop|uceprotect|\bdnsbl\b|\brbl\b",
    r"client host \S* ?rejected",
    r"outbound ?spam|OutboundSpamException",
    r"unusual (sending )?activity|suspicious activity",
    r"account (has been |is |was )?(temporarily )?(suspended|disabled|blocked|locked|deactivated|frozen|"
    r"restricted|banned)",
    r"(sending|account) (has been |is )?(paused|suspended|disabled|blocked) ",
    # encryption the server requires
    r"(must|should) issue a starttls",
    r"(tls|encryption|starttls) (is )?required",
)
#: A volume or rate limit of the sending account or IP, in any class.
RATE_LIMIT_WORDING = wording(
    r"rate[ -]?limit",
    r"\brate (of|exceeded|too high)",
    r"sending rate",
    r"too many (messages|emails|mails|connections|sessions|requests|concurrent|sends)",
    r"too much mail",
    r"sent too (many|much)",
    r"frequen(cy|tly)",
    r"throttl",
    r"slow down",
    r"(sending|message|messages|submission|outgoing|outbound|hourly|daily|email|mail|send|relay|account)"
    r" (quota|limit|cap)",
    r"quota (exceeded|reached|has been)",
    r"\blimit (exceeded|reached|was exceeded|has been (reached|exceeded))",
    r"exceeded[^.;]{0,50}\b(limit|quota)",
    r"(per|an|this|each) (hour|day|minute)\b",
    r"\b5\.4\.5\b",
    r"\b4\.7\.28\b",
    r"SubmissionQuota",
    r"try (again )?in \d+",
    r"temporarily (deferred|rate)",
)
#: Gmail's "421 4.7.0 Try again later, closing connection" before any recipient: the connection is
#: refused for the account, not for one recipient.
REFUSED_FOR_NOW = wording(r"try again later", r"deferred")
#: A daily quota: sending resumes when the provider's 24-hour window lets it.
DAILY_QUOTA = wording(r"daily", r"per day", r"24[ -]?h(ours?)?", r"SubmissionQuota", r"\b5\.4\.5\b", r"today")
#: A server's own passing trouble, or a temporary problem with one recipient's route: retry soon.
TEMPORARY_TROUBLE = wording(
    r"temporar(y|ily) (local )?(problem|error|failure|unavailable)",
    r"local (error|problem)",
    r"insufficient (system )?(resources|storage)",
    r"system (resources|storage)",
    r"lookup fail|dns|resolv",
    r"queue|internal error|server error|configuration",
    r"\b4\.[34]\.\d{1,3}\b",
)
#: What servers write when they give no enhanced code.
MAILBOX_GONE_WORDING = wording(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|mailbox unavailable",
    r"mailbox not found",
)
#: How long the reply asks us to wait: "try again in 92 seconds", "retry after 5 minutes".
STATED_WAIT = re.compile(
    r"\b(?:in|after|for|wait)\s+(\d{1,6})\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b",
    re.IGNORECASE,
)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
#: Waits a reply may set, at most: a reply cannot park an account for longer than a day.
LONGEST_STATED_WAIT = 24 * 3600


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


def says(pattern: re.Pattern[str]) -> Callable[[SMTPFailure], bool]:
    return lambda failure: failure.code is not None and bool(pattern.search(failure.message))


@dataclass(frozen=True)
class Rule:
    outcome: Outcome
    why: str
    matches: Callable[[SMTPFailure], bool]


RULES: tuple[Rule, ...] = (
    Rule(
        Outcome.TRANSIENT,
        "the recipient's mailbox is busy, full or over quota: that recipient's problem, for now",
        lambda f: says(RECIPIENT_MAILBOX)(f) and not SENDING.search(f.message),
    ),
    Rule(
        Outcome.TRANSIENT, "greylisting: the server wants the same email again in minutes", says(GREYLISTING)
    ),
    Rule(
        Outcome.TRANSIENT,
        "too many recipients for one connection: a new connection sends the rest",
        says(TOO_MANY_RECIPIENTS),
    ),
    Rule(
        Outcome.ACCOUNT,
        "the sender, its login, its domain's authentication or its IP was refused, at any stage",
        says(ACCOUNT_REFUSAL),
    ),
    Rule(Outcome.RATE_LIMIT, "a volume or rate limit, whatever its class", says(RATE_LIMIT_WORDING)),
    Rule(
        Outcome.TRANSIENT,
        "the server's passing trouble, or a delay on the recipient's route",
        lambda failure: is_temporary(failure) and says(TEMPORARY_TROUBLE)(failure),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "'try again later' while the account has not named a recipient yet",
        lambda f: is_temporary(f) and f.stage not in RECIPIENT_STAGES and says(REFUSED_FOR_NOW)(f),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "451 with nothing else said is how most providers say 'slow down'",
        lambda f: f.code == 451,
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


@dataclass(frozen=True)
class Verdict:
    """What a failure means, and for how long it holds."""

    outcome: Outcome
    why: str
    #: Seconds the reply itself asks us to wait, if it says.
    wait: float | None = None
    #: A daily quota: the cooldown lasts until the provider's 24-hour window lets sending resume.
    daily: bool = False


def classify(failure: SMTPFailure) -> Verdict:
    rule = next(rule for rule in RULES if rule.matches(failure))
    daily = rule.outcome is Outcome.RATE_LIMIT and bool(DAILY_QUOTA.search(failure.message))
    return Verdict(rule.outcome, rule.why, stated_wait(failure.message), daily)


def stated_wait(message: str) -> float | None:
    """The wait a reply names, in seconds (at most a day), or None."""
    match = STATED_WAIT.search(message)
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2)[0].lower()
    return float(min(amount * UNIT_SECONDS[unit], LONGEST_STATED_WAIT)) or None


def closes_connection(failure: SMTPFailure) -> bool:
    """After a 421, a timeout or a drop the server is gone: the next email needs a new connection; after
    "too many recipients" a new connection is what lets the next one through."""
    return failure.code == 421 or failure.code is None or bool(TOO_MANY_RECIPIENTS.search(failure.message))


def refusal_signature(failure: SMTPFailure) -> str | None:
    """What makes two permanent refusals "the same" for the circuit breaker: the code and the enhanced
    code (or, without one, the words with addresses and numbers taken out). None for a refusal that names
    the recipient's mailbox: many unknown users in a row is a stale list, not a refusal of the account."""
    if not is_permanent(failure) or is_mailbox_failure(failure.code, failure.message):
        return None
    enhanced = ENHANCED_CODE.search(failure.message)
    if enhanced:
        return f"{failure.code} {enhanced.group(0)}"
    words = re.sub(r"<[^>]*>|\S+@\S+|[\d.:\[\]]+", " ", failure.message.lower())
    return f"{failure.code} {' '.join(words.split())[:80]}"
