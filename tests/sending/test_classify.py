"""Real replies from real providers, and what the engine does with each."""

import pytest

from app.sending.advice import account_error_message
from app.sending.classify import Outcome, classify, closes_connection, is_mailbox_failure
from app.sending.connection import SMTPFailure, Stage

RATE_LIMIT, ACCOUNT, TRANSIENT, PERMANENT = (
    Outcome.RATE_LIMIT,
    Outcome.ACCOUNT,
    Outcome.TRANSIENT,
    Outcome.PERMANENT,
)

REPLIES = [
    # Gmail
    (
        Stage.DATA,
        421,
        "4.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail originating from your IP address.",
        RATE_LIMIT,
    ),
    (Stage.MAIL, 421, "4.7.0 Try again later, closing connection. (MAIL) gsmtp", TRANSIENT),
    (Stage.MAIL, 550, "5.4.5 Daily user sending quota exceeded. gsmtp", RATE_LIMIT),
    (
        Stage.RCPT,
        550,
        "5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852",
        RATE_LIMIT,
    ),
    (
        Stage.RCPT,
        452,
        "4.5.3 Too many recipients; see https://support.google.com/mail/answer/6592",
        TRANSIENT,
    ),
    # Hostinger and other hosts
    (
        Stage.DATA,
        451,
        "4.7.1 Ratelimit exceeded for mailbox sender@example.com. Try again later.",
        RATE_LIMIT,
    ),
    (Stage.RCPT, 451, "Temporary local problem - please try later", TRANSIENT),
    (Stage.RCPT, 451, "", RATE_LIMIT),
    # Microsoft 365
    (
        Stage.DATA,
        554,
        "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception",
        RATE_LIMIT,
    ),
    (Stage.DATA, 432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", RATE_LIMIT),
    # Amazon SES
    (Stage.DATA, 454, "Throttling failure: Maximum sending rate exceeded.", RATE_LIMIT),
    (Stage.MAIL, 454, "Throttling failure: Daily message quota exceeded.", RATE_LIMIT),
    # SendGrid
    (Stage.MAIL, 421, "4.7.0 Your IP address has been rate limited, please try again later", RATE_LIMIT),
    # Postfix's own rate limit (TOOLCHAIN.md)
    (Stage.MAIL, 450, "4.7.1 Error: too much mail from 127.0.0.1", RATE_LIMIT),
    # Permanent, per recipient
    (
        Stage.RCPT,
        550,
        "5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table",
        PERMANENT,
    ),
    (
        Stage.RCPT,
        553,
        "5.1.3 The recipient address <not an address> is not a valid RFC-5321 address.",
        PERMANENT,
    ),
    (Stage.RCPT, 552, "5.2.2 The email account that you tried to reach is over quota.", TRANSIENT),
    (Stage.DATA, 554, "5.7.1 Message rejected as spam", PERMANENT),
    # Transient
    (
        Stage.RCPT,
        450,
        "4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.",
        TRANSIENT,
    ),
    (Stage.RCPT, 450, "4.2.1 Mailbox busy", TRANSIENT),
    (Stage.RCPT, 452, "4.2.2 Mailbox full", TRANSIENT),
    (Stage.DATA, 421, "Service not available, closing transmission channel", TRANSIENT),
    (Stage.DATA, None, "Timed out waiting for the server", TRANSIENT),
    (Stage.DATA, None, "The server closed the connection", TRANSIENT),
    # The account
    (Stage.AUTH, 535, "5.7.8 Authentication failed", ACCOUNT),
    (
        Stage.AUTH,
        535,
        "5.7.8 Username and Password not accepted. Learn more at https://support.google.com/mail/?p=BadCredentials",
        ACCOUNT,
    ),
    (
        Stage.AUTH,
        535,
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
        ACCOUNT,
    ),
    (Stage.EHLO, 530, "5.7.0 Must issue a STARTTLS command first", ACCOUNT),
    (Stage.STARTTLS, None, "TLS certificate not trusted: self-signed certificate", ACCOUNT),
    (Stage.STARTTLS, None, "The server does not offer STARTTLS on this port", ACCOUNT),
    (Stage.CONNECT, None, "Connection refused: nothing is listening at that host and port", ACCOUNT),
    (Stage.CONNECT, None, "Timed out waiting for the server", ACCOUNT),
    (Stage.CONNECT, 421, "Service not available", TRANSIENT),
    (Stage.MAIL, 550, "5.7.1 Sender address rejected: not owned by user sender@example.com", ACCOUNT),
    (Stage.AUTH, 454, "4.7.0 Temporary authentication failure", TRANSIENT),
]


@pytest.mark.parametrize(("stage", "code", "message", "expected"), REPLIES, ids=lambda v: str(v)[:40])
def test_provider_reply_is_classified(stage, code, message, expected):
    assert classify(SMTPFailure(stage, code, message)).outcome is expected


@pytest.mark.parametrize(
    ("code", "closes"), [(421, True), (None, True), (451, False), (550, False), (450, False)]
)
def test_421_timeouts_and_drops_close_the_connection(code, closes):
    assert closes_connection(SMTPFailure(Stage.DATA, code, "x")) is closes


def test_microsoft_basic_auth_retirement_tells_the_user_what_to_do():
    failure = SMTPFailure(
        Stage.AUTH, 535, "5.7.30 Basic authentication is not supported for Client Submission."
    )
    assert "ask your administrator to allow SMTP AUTH" in account_error_message(failure)


def test_account_error_message_names_the_stage_and_the_reply():
    failure = SMTPFailure(Stage.AUTH, 535, "5.7.8 Authentication failed")
    assert account_error_message(failure).startswith("AUTH failed: 535 5.7.8 Authentication failed — ")


#: The examples of README's table "What your provider's replies mean", row by row.
README_EXAMPLES = [
    *[
        (stage, code, text, ACCOUNT)
        for stage, code, text in [
            (Stage.RCPT, 554, "5.7.1 <a@b.example>: Relay access denied"),
            (
                Stage.DATA,
                554,
                "Message rejected: Email address is not verified. The following identities failed",
            ),
            (Stage.MAIL, 550, "The from address does not match a verified Sender Identity."),
            (
                Stage.DATA,
                550,
                "5.7.26 Unauthenticated email from b.example is not accepted due to DMARC policy.",
            ),
            (Stage.MAIL, 550, "5.7.60 SMTP; Client does not have permissions to send as this sender"),
            (
                Stage.RCPT,
                550,
                "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
            ),
            (Stage.DATA, 554, "5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process"),
            (Stage.DATA, 550, "5.7.520 Unusual sending activity detected"),
            (
                Stage.RCPT,
                554,
                "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            ),
            (
                Stage.RCPT,
                550,
                "5.2.1 Mailbox unavailable. Your IP address 192.0.2.1 is blacklisted using SPAMHAUS-XBL.",
            ),
            (Stage.RCPT, 550, "relaying to <a@b.example> prohibited by administrator"),
            (Stage.MAIL, 550, "5.2.252 Sender throttled due to continuous send as denied errors."),
            (Stage.CONNECT, 421, "failure in DNS look-up."),
            (
                Stage.DATA,
                550,
                "5.7.515 Access denied, sending domain B.EXAMPLE doesn't meet the required authentication level.",
            ),
            (Stage.CONNECT, 450, "Temporary denial of connection (450) for Zombie matches (ERS)"),
            (Stage.RCPT, 550, "5.7.1:550 Outbound Mail Refused - 192.0.2.1 See - 2026-01-01"),
            (
                Stage.DATA,
                550,
                "5.7.1 [BR] Our system has detected an excessively high number of invalid recipients originating "
                "from your account.",
            ),
            (Stage.RCPT, 550, "SC-004 Mail rejected"),
        ]
    ],
    *[
        (stage, code, text, RATE_LIMIT)
        for stage, code, text in [
            (Stage.DATA, 451, "4.7.1 Ratelimit exceeded for mailbox a@b.example. Try again later."),
            (Stage.DATA, 454, "Throttling failure: Maximum sending rate exceeded."),
            (Stage.RCPT, 550, "This IP has sent too many to too many recipients this hour. IB607"),
            (
                Stage.RCPT,
                451,
                "4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.",
            ),
            (
                Stage.CONNECT,
                421,
                "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume",
            ),
            (Stage.RCPT, 550, "5.4.5 Daily user sending limit exceeded."),
            (Stage.MAIL, 454, "Throttling failure: Daily message quota exceeded."),
            (Stage.RCPT, 450, "4.7.1 Error: too many recipients from unknown[192.0.2.1]"),
            (Stage.RCPT, 451, "4.3.0 [internal] Sending IP temporarily suspended"),
            (Stage.CONNECT, 421, "4.2.1 Connection deferred"),
            (
                Stage.RCPT,
                550,
                "5.7.508 Access denied, [192.0.2.1] has exceeded permitted limits within 2001:db8::/48 range",
            ),
            (
                Stage.RCPT,
                450,
                "4.2.1 Sender ip address rejected: You sent to many mails from different domains in the last 10 minutes",
            ),
            (Stage.RCPT, 550, "You reached a daily sending limit for your account. Limit expires in 3 hours"),
        ]
    ],
    *[
        (stage, code, text, TRANSIENT)
        for stage, code, text in [
            (
                Stage.RCPT,
                450,
                "4.2.0 <a@b.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/b.example.html",
            ),
            (Stage.RCPT, 452, "4.2.2 The recipient's inbox is out of storage space."),
            (Stage.RCPT, 552, "5.2.2 The email account that you tried to reach is over quota."),
            (Stage.RCPT, 552, "<a@b.example>... Mail quota exceeded"),
            (
                Stage.DATA,
                551,
                "bounce as<the destination mailbox <a@b.example> is full> queue as 100.1.ZmxEL",
            ),
            (
                Stage.RCPT,
                450,
                "4.2.1 The user you are trying to contact is receiving mail at a rate that prevents",
            ),
            (Stage.RCPT, 451, "Temporary local problem - please try later"),
            (Stage.RCPT, 452, "4.3.1 Insufficient system storage"),
            (Stage.DATA, 421, "4.7.20 Temporary error during DKIM verification"),
            (Stage.RCPT, 452, "4.5.3 Too many recipients"),
            (Stage.RCPT, 452, "4.5.3 Error: too many recipients"),
            (
                Stage.MAIL,
                550,
                "This message has exceeded the max number of messages per session. Open a new session. IB510",
            ),
            (Stage.MAIL, 421, "Max message per connection reached, closing transmission channel"),
            (Stage.RCPT, 556, "The number of RCPTs is over size"),
            (Stage.DATA, 421, "Exceeded bad SMTP command limit"),
            (Stage.MAIL, 421, "4.7.0 Try again later, closing connection. (MAIL) gsmtp"),
            (Stage.AUTH, 454, "4.7.0 Temporary authentication failure"),
            (Stage.RCPT, 550, "5.2.122 Recipient's per hour message receive limit exceeded."),
            (
                Stage.RCPT,
                550,
                "Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed storage space.",
            ),
            (
                Stage.DATA,
                554,
                "Transaction failed[Service Temporarily Unavailable. Please try after a few minutes.]",
            ),
        ]
    ],
    *[
        (stage, code, text, PERMANENT)
        for stage, code, text in [
            (Stage.RCPT, 550, "5.1.1 <a@b.example>: Recipient address rejected: User unknown"),
            (Stage.RCPT, 550, "5.2.1 The email account that you tried to reach is disabled."),
            (Stage.RCPT, 556, "5.1.10 Recipient address has null MX"),
            (Stage.DATA, 552, "5.3.4 Message size exceeds fixed limit"),
            (Stage.DATA, 554, "5.7.1 Message rejected as spam"),
            (Stage.RCPT, 550, "5.7.134 Sender was not authenticated for mailbox"),
            (Stage.DATA, 550, "Message contained unsafe content (Heuristics.Phishing.Email.SpoofedDomain)"),
            (Stage.RCPT, 551, "Sender is on domain's blacklist"),
        ]
    ],
]


@pytest.mark.parametrize(("stage", "code", "message", "expected"), README_EXAMPLES, ids=lambda v: str(v)[:40])
def test_the_readme_tables_examples_get_the_outcome_it_gives(stage, code, message, expected):
    assert classify(SMTPFailure(stage, code, message)).outcome is expected


@pytest.mark.parametrize(
    ("message", "wait", "daily"),
    [
        ("4.7.0 Too many messages, try again in 92 seconds", 92, False),
        ("Rate limit reached, retry after 5 minutes", 300, False),
        ("5.4.5 Daily user sending limit exceeded.", None, True),
        ("4.7.1 Ratelimit exceeded", None, False),
    ],
)
def test_a_rate_limit_lasts_as_long_as_the_reply_says(message, wait, daily):
    verdict = classify(SMTPFailure(Stage.RCPT, 451, message))
    assert (verdict.outcome, verdict.wait, verdict.daily) == (RATE_LIMIT, wait, daily)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (552, "<a@b.example>... Mail quota exceeded", TRANSIENT),
        (552, "5.2.2 user quota exceeded", TRANSIENT),
        (550, "5.4.5 Daily user sending quota exceeded.", RATE_LIMIT),
        (552, "Message would take you over your relay quota of 500", RATE_LIMIT),
    ],
)
def test_a_quota_is_the_recipients_mailbox_unless_the_reply_speaks_of_sending(code, message, expected):
    assert classify(SMTPFailure(Stage.RCPT, code, message)).outcome is expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("4.5.3 Error: too many recipients", TRANSIENT),
        ("4.7.1 Error: too many recipients from unknown[192.0.2.1]", RATE_LIMIT),
        ("Too many recipients received this hour (throttled)", RATE_LIMIT),
    ],
)
def test_too_many_recipients_in_one_message_is_a_cap_but_from_one_client_over_time_a_rate(message, expected):
    assert classify(SMTPFailure(Stage.RCPT, 452, message)).outcome is expected


def test_advice_says_what_each_account_problem_means_and_what_to_do():
    cases = {
        "554 5.7.1 Relay access denied": "does not see you logged in",
        "554 Message rejected: Email address is not verified": "verified",
        "550 5.7.60 SendAsDenied": "Send As",
        "550 5.7.26 Unauthenticated email": "SPF",
        "554 OutboundSpamException": "unblock the account",
        "554 5.7.1 Client host blocked using zen.spamhaus.org": "blocklist",
        "530 5.7.0 Must issue a STARTTLS command first": "STARTTLS",
        "535 5.7.8 Authentication failed": "app password",
    }
    for reply, advice in cases.items():
        code, text = reply.split(" ", 1)
        message = account_error_message(SMTPFailure(Stage.RCPT, int(code), text))
        assert message.startswith(f"RCPT failed: {reply} — "), message
        assert advice in message, message


@pytest.mark.parametrize(
    ("stage", "expected"), [(Stage.CONNECT, RATE_LIMIT), (Stage.MAIL, RATE_LIMIT), (Stage.RCPT, TRANSIENT)]
)
def test_a_mailbox_code_before_any_recipient_is_not_a_recipients_mailbox(stage, expected):
    """4.2.1 means a busy mailbox only once a recipient has been named; to the connection it is our pace."""
    assert classify(SMTPFailure(stage, 421, "4.2.1 Connection deferred")).outcome is expected


def test_a_sender_throttled_for_the_errors_it_keeps_causing_is_the_accounts_to_fix():
    """Waiting does not cure continuous 'send as denied' errors, even though the reply says 'throttled'."""
    failure = SMTPFailure(
        Stage.MAIL, 550, "5.2.252 Sender throttled due to continuous send as denied errors."
    )
    assert classify(failure).outcome is ACCOUNT


@pytest.mark.parametrize(
    ("code", "expected"), [(451, TRANSIENT), (550, ACCOUNT)], ids=["temporary SPF error", "SPF failed"]
)
def test_an_spf_check_that_errored_for_now_is_retried_but_one_that_failed_is_the_accounts(code, expected):
    text = "5.7.24 SPF validation error" if code == 451 else "5.7.23 SPF validation failed"
    assert classify(SMTPFailure(Stage.MAIL, code, text)).outcome is expected


def test_a_refused_attachment_type_fails_the_message_not_the_account():
    failure = SMTPFailure(Stage.DATA, 550, "MSG-EXT: Blacklisted high risk file extension detected")
    assert classify(failure).outcome is PERMANENT


def test_a_dns_failure_on_the_connection_is_the_sending_hosts_own_name():
    """At connect no sender or recipient has been named: the name the server failed to look up is ours."""
    assert classify(SMTPFailure(Stage.CONNECT, 421, "failure in DNS look-up.")).outcome is ACCOUNT
    assert classify(SMTPFailure(Stage.RCPT, 451, "4.4.0 DNS lookup failed")).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text", ["Relay operation rejected", "host denies relay.", "relay check domain fail"]
)
def test_relaying_refused_in_other_words_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 553, text)).outcome is ACCOUNT


def test_a_private_list_that_refuses_outsiders_fails_that_recipient_not_the_account():
    assert classify(SMTPFailure(Stage.RCPT, 553, "private list access denied.")).outcome is PERMANENT


def test_a_temporary_block_that_names_a_blocklist_is_still_the_accounts_to_fix():
    failure = SMTPFailure(
        Stage.MAIL, 450, "4.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org; try again later"
    )
    assert classify(failure).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "5.2.1 The user you are trying to contact is receiving email at a rate that prevents additional messages "
        "from being delivered.",
        "5.2.122 Recipient's per hour message receive limit exceeded.",
    ],
)
def test_a_recipient_receiving_more_than_it_may_is_that_recipients_for_now_even_as_5xx(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text",
    [
        "5.7.12 Sender was not authenticated by organization",
        "5.7.134 Sender was not authenticated for mailbox",
        "5.7.124 Sender not in allowed-senders list",
        "5.7.505 Access denied, banned recipient",
    ],
)
def test_a_recipient_that_refuses_outside_or_unlisted_senders_fails_only_that_recipient(text):
    """Exchange's recipient restrictions say 'not authenticated', but of the recipient's organisation."""
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is PERMANENT


def test_a_5xx_saying_the_sender_exceeded_its_permitted_limits_is_a_rate_limit():
    text = "5.7.508 Access denied, [192.0.2.1] has exceeded permitted limits within 2001:db8::/48 range"
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is RATE_LIMIT


def test_too_many_errors_or_messages_on_one_connection_is_a_cap_not_a_rate():
    for text in [
        "4.7.0 Too many protocol errors (6) on this connection",
        "Too many messages in this connection",
    ]:
        failure = SMTPFailure(Stage.DATA, 421, text)
        assert classify(failure).outcome is TRANSIENT
        assert closes_connection(failure)


@pytest.mark.parametrize(
    ("stage", "code", "text"),
    [
        (
            Stage.MAIL,
            421,
            "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2.",
        ),
        (Stage.RCPT, 450, "4.7.1 <host.example>: Helo command rejected: Host not found"),
        (Stage.RCPT, 550, "smtp auth required"),
        (Stage.DATA, 550, 'The "From" header is missing or invalid.'),
        (Stage.RCPT, 550, "Denied due to spam list"),
    ],
)
def test_what_only_the_sending_setup_can_cure_is_the_accounts_whatever_the_stage(stage, code, text):
    assert classify(SMTPFailure(stage, code, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Message contained unsafe content (Heuristics.Phishing.Email.SpoofedDomain)", PERMANENT),
        ("5.7.1 Virus found in message", PERMANENT),
        ("5.7.1 Your IP address 192.0.2.1 is listed for sending malware, see spamhaus.org", ACCOUNT),
    ],
)
def test_harmful_content_fails_the_message_but_a_listing_for_malware_is_the_senders(text, expected):
    assert classify(SMTPFailure(Stage.DATA, 550, text)).outcome is expected


def test_a_count_of_what_the_sender_sent_in_the_last_minutes_is_a_rate_whatever_its_enhanced_code():
    text = "4.2.1 Sender ip address rejected: You sent to many mails from different domains in the last 10 minutes"
    assert classify(SMTPFailure(Stage.RCPT, 450, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    ("code", "text"),
    [(556, "The number of RCPTs is over size"), (421, "Exceeded bad SMTP command limit")],
)
def test_too_many_recipients_in_one_message_or_bad_commands_on_one_connection_is_a_cap(code, text):
    failure = SMTPFailure(Stage.RCPT, code, text)
    assert classify(failure).outcome is TRANSIENT
    assert closes_connection(failure)


def test_a_spammer_on_the_recipients_own_reject_list_fails_only_that_recipient():
    own_list = SMTPFailure(Stage.RCPT, 550, "You are registered as spammer (by user's reject list)")
    filter_says = SMTPFailure(Stage.RCPT, 550, "5.7.1 DDNS says spammer, 20191030-1 dodgyfrom")
    assert classify(own_list).outcome is PERMANENT
    assert classify(filter_says).outcome is ACCOUNT


def test_a_receiving_system_that_says_it_is_misconfigured_is_retried_even_as_5xx():
    assert classify(SMTPFailure(Stage.RCPT, 553, "5.3.5 system config error")).outcome is TRANSIENT


# Paraphrases: the same meaning in the words and languages other providers use (not real replies; those
# live in reply_corpus.toml).


@pytest.mark.parametrize(
    "text",
    [
        "Inbox full",
        "E-mail account full",
        "Mailbox has reached its maximum size",
        "The user is over their quota",
        "Der Posteingang des Empfängers ist voll",
        "Speicherplatz des Postfachs erschöpft",
        "La boîte aux lettres du destinataire est pleine",
        "Boite mail saturée",
        "El buzón del destinatario está lleno",
        "Caixa postal lotada",
        "Почтовый ящик получателя заполнен",
        "Превышена квота почтового ящика",
        "收件人邮箱空间不足",
        "Skrzynka odbiorcy jest przepełniona",
        "Schránka příjemce je plná",
    ],
)
def test_a_full_mailbox_in_other_words_is_that_recipients_for_now(text):
    assert classify(SMTPFailure(Stage.RCPT, 552, text)).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text",
    ["Grey listed, try later", "Veuillez réessayer (liste grise)", "Серый список, повторите попытку позже"],
)
def test_greylisting_in_other_words_is_retried_soon(text):
    assert classify(SMTPFailure(Stage.RCPT, 451, text)).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text",
    [
        "4.5.3 Recipient limit exceeded",
        "Too many envelope recipients",
        "Too many invalid commands",
        "Too many bad commands, closing connection",
        "Trop de destinataires",
        "Zu viele Empfänger",
        "Demasiados destinatarios",
        "Die Anzahl der Empfänger ist zu groß",
        "Le nombre de destinataires est trop grand",
    ],
)
def test_too_many_recipients_or_bad_commands_in_other_words_is_a_cap_on_the_connection(text):
    failure = SMTPFailure(Stage.RCPT, 452, text)
    assert classify(failure).outcome is TRANSIENT
    assert closes_connection(failure)


def test_x_5_3_is_a_cap_unless_its_words_count_over_time():
    """RFC 3463's x.5.3 is "too many recipients"; some providers send their daily limits under it."""
    assert classify(SMTPFailure(Stage.RCPT, 452, "4.5.3")).outcome is TRANSIENT
    assert classify(SMTPFailure(Stage.RCPT, 452, "4.5.3 Daily message limit exceeded")).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    "text",
    [
        "Message is larger than the maximum allowed size",
        "Maximum message size exceeded",
        "Message size is over the limit",
        "Nachricht zu groß",
        "Message trop volumineux",
        "Mensaje demasiado grande",
        "Размер письма превышает допустимый",
        "Превышен лимит размера письма",
        "邮件大小超过限制",
        "发送失败:超过邮件大小限制",
        "El tamaño del mensaje excede el límite",
        "La taille du message dépasse la limite autorisée",
        "O tamanho da mensagem ultrapassa o limite",
    ],
)
def test_a_message_too_large_in_other_words_fails_the_message_not_the_account(text):
    assert classify(SMTPFailure(Stage.DATA, 552, text)).outcome is PERMANENT


@pytest.mark.parametrize(
    "text",
    [
        "5.7.0 Reject, id=12345 - INFECTED: Eicar-Test-Signature",
        "Message infected with Trojan.Generic",
        "Обнаружен вирус",
        "邮件含有病毒",
        "Too many Received headers",
        "Hop count exceeded - possible mail loop",
    ],
)
def test_an_infected_or_looping_message_fails_the_message(text):
    assert classify(SMTPFailure(Stage.DATA, 554, text)).outcome is PERMANENT


def test_zohos_5_4_6_is_read_by_its_words_not_as_a_routing_loop():
    """RFC 3463 calls x.4.6 a routing loop; Zoho sends its outbound blocks under it."""
    text = "5.4.6 Unusual sending activity detected."
    assert classify(SMTPFailure(Stage.DATA, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "4.3.0",
        "4.4.2",
        "4.5.0",
        "4.6.0",
        "Erreur temporaire",
        "Bitte versuchen Sie es später erneut",
        "Inténtelo de nuevo más tarde",
        "Tente novamente mais tarde",
        "Временная ошибка",
        "请稍后再试",
        "系统繁忙",
    ],
)
def test_a_451_with_a_passing_trouble_code_or_words_is_retried_soon_not_a_rate_limit(text):
    assert classify(SMTPFailure(Stage.RCPT, 451, text)).outcome is TRANSIENT


@pytest.mark.parametrize("text", ["", "4.7.1"])
def test_a_451_that_says_nothing_more_is_still_a_rate_limit(text):
    assert classify(SMTPFailure(Stage.RCPT, 451, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    "text",
    [
        "Sending threshold exceeded",
        "You have exceeded the sending threshold",
        "Over the limit",
        "Over quota for outbound mail",
        "You have used up your monthly email credits",
        "5.7.28 Mail flood detected",
        "Превышен лимит отправки писем",
        "Слишком много писем, попробуйте позже",
        "Вы отправили слишком большое количество писем",
        "Лимит на отправку исчерпан",
        "发信数量超过限制",
        "发送邮件过多",
        "Trop de messages envoyés",
        "Limite d'envoi dépassée",
        "Quota d'envoi dépassé",
        "Zu viele Nachrichten",
        "Versandlimit überschritten",
        "Sendelimit erreicht",
        "Límite de envío excedido",
        "Ha superado el límite de envío diario",
        "Demasiados mensajes",
        "Você excedeu o limite de envio",
        "Limite di invio giornaliero superato",
        "Troppi messaggi inviati",
        "Przekroczono dzienny limit wysyłki",
        "Překročen denní limit odeslaných zpráv",
    ],
)
def test_a_sending_limit_in_other_words_is_a_rate_limit_not_a_refused_sender(text):
    assert classify(SMTPFailure(Stage.MAIL, 550, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    ("stage", "text"),
    [
        (Stage.MAIL, "Trop de connexions, veuillez ralentir"),
        (Stage.CONNECT, "Your IP is temporarily restricted"),
        (Stage.CONNECT, "Your IP has been temporarily denied"),
        (Stage.MAIL, "IP временно заблокирован"),
    ],
)
def test_a_temporary_hold_on_the_sending_ip_in_other_words_cools_the_account_down(stage, text):
    assert classify(SMTPFailure(stage, 421, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    "text",
    [
        "We do not relay for non-local users",
        "This server does not relay",
        "Relaying forbidden",
        "No relaying allowed",
        "Relay nicht erlaubt",
        "Relais refusé",
        "Relay denegado",
    ],
)
def test_relaying_refused_in_more_words_and_languages_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "Please authenticate first",
        "5.7.1 Invalid credentials for relay.",
        "Authentifizierung erforderlich",
        "Authentification requise",
        "Autenticación requerida",
        "Требуется аутентификация",
        "需要身份验证",
    ],
)
def test_a_login_required_in_other_words_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "Sender address is not authorized",
        "Sender domain does not exist",
        "Sender address verification failed",
        "Sender address is unverified",
        "Sender address not validated",
        "Your email address has not been confirmed",
        "Client does not have permissions to send as this sender",
        "Sender address does not belong to logged in user",
        "Absender abgelehnt",
        "Expéditeur refusé",
        "Adresse de l'expéditeur invalide",
        "Remitente rechazado",
        "Отправитель отклонен",
        "发件人被拒绝",
    ],
)
def test_a_refused_sender_address_in_other_words_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "Sender Policy Framework check failed",
        "Invalid HELO name",
        "Bad HELO",
        "Client host rejected: cannot find your reverse hostname",
        "Your IP has no PTR",
        "5.7.10 Encryption needed",
    ],
)
def test_the_sending_setup_refused_in_other_words_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "code", ["5.7.10", "5.7.11", "5.7.20", "5.7.21", "5.7.22", "5.7.25", "5.7.27", "5.7.29"]
)
def test_an_enhanced_code_for_the_senders_encryption_or_authentication_is_the_accounts_without_words(code):
    """RFC 3463's registry: encryption needed, DKIM, reverse DNS, the sender's null MX, ARC."""
    assert classify(SMTPFailure(Stage.RCPT, 550, code)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    ["5.7.9 Message not accepted for policy reasons", "5.7.13 Disabled recipient address"],
)
def test_5_7_9_and_5_7_13_are_read_by_their_words_not_their_registry_meaning(text):
    """The registry says a weak login mechanism and a disabled user account; Yahoo sends its policy refusals
    as 5.7.9 and Sendmail a disabled recipient as 5.7.13."""
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is PERMANENT


@pytest.mark.parametrize(
    "text",
    [
        "You have been blocked",
        "You are banned",
        "Connections from your IP are not accepted",
        "Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
        "Outgoing spam detected",
        "Your account is sending spam",
        "Suspicious sending activity detected on your account",
        "Rejected due to abuse",
        "Ваш IP заблокирован",
        "Votre adresse IP est bloquée",
        "Ihre IP-Adresse ist gesperrt",
        "Su IP está bloqueada",
        "Seu IP foi bloqueado",
        "您的IP已被封禁",
    ],
)
def test_a_blocked_sender_or_ip_in_other_words_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.RCPT, 554, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "Recipient unknown",
        "Unrouteable address",
        "No mailbox here by that name",
        "Benutzer unbekannt",
        "Utilisateur inconnu",
        "Usuario desconocido",
        "Usuário desconhecido",
        "Пользователь не найден",
        "用户不存在",
        "Utente sconosciuto",
        "Użytkownik nie istnieje",
        "Uživatel neexistuje",
    ],
)
def test_an_unknown_recipient_in_other_words_is_that_recipients_for_good_and_a_hard_bounce(text):
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is PERMANENT
    assert is_mailbox_failure(550, text)


def test_a_permanent_code_asking_to_retry_later_in_french_is_not_a_refusal_for_good():
    text = "Service indisponible, veuillez réessayer plus tard"
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(
    "text",
    [
        "5.7.1 Too many invalid recipients from your account",
        "Rejected: a high percentage of unknown recipients",
        "550 DY-001 Mail rejected by Outlook.com for policy reasons",
    ],
)
def test_a_refusal_for_the_senders_list_hygiene_or_an_outlook_block_code_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.DATA, 550, text)).outcome is ACCOUNT


@pytest.mark.parametrize(
    "text",
    [
        "Message lacks the required headers From and Subject",
        "Missing API key header",
        "Relaying through this server without SMTP authentication is not allowed",
    ],
)
def test_a_missing_from_header_an_api_key_or_relaying_unauthenticated_is_the_accounts(text):
    assert classify(SMTPFailure(Stage.DATA, 554, text)).outcome is ACCOUNT


def test_a_permanent_code_from_a_service_down_for_now_asking_to_retry_in_minutes_is_retried_soon():
    text = "Service temporarily unavailable, please try again in a few minutes"
    assert classify(SMTPFailure(Stage.DATA, 554, text)).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text", ["5.3.1", "5.3.1 Mail system full", "5.3.2 System not accepting network messages", "5.3.5"]
)
def test_a_receiving_system_full_or_not_accepting_messages_for_now_is_retried_even_as_5xx(text):
    """RFC 3463's x.3.1 and x.3.2 are the receiving system's own trouble, like x.3.5: not this recipient's."""
    assert classify(SMTPFailure(Stage.RCPT, 550, text)).outcome is TRANSIENT


@pytest.mark.parametrize(
    "text",
    [
        "Nombre de destinataires par jour dépassé",
        "Zu viele Empfänger pro Stunde",
        "Límite de correos por día",
    ],
)
def test_recipients_counted_per_day_or_hour_in_other_languages_are_a_rate_not_a_cap(text):
    assert classify(SMTPFailure(Stage.MAIL, 550, text)).outcome is RATE_LIMIT


@pytest.mark.parametrize(("stage", "expected"), [(Stage.RCPT, TRANSIENT), (Stage.MAIL, RATE_LIMIT)])
def test_a_bare_quota_exceeded_is_the_named_recipients_mailbox_but_before_one_the_senders(stage, expected):
    assert classify(SMTPFailure(stage, 550, "Quota exceeded")).outcome is expected
