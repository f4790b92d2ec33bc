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
#: Before RCPT no recipient has been named, so a reply there cannot be about a recipient's mailbox
#: (EarthLink's "421 4.2.1 Connection deferred" at connect is the client's pace, not a busy mailbox).
NO_RECIPIENT_YET = BEFORE_RECIPIENT | {Stage.MAIL}


def wording(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


def within_clause(most: int) -> str:
    """Up to `most` characters of one clause: no sentence stop, though a dot inside an IP address, a
    domain or an address ("host [192.0.2.1] blocked", "mailbox <a@b.example> is full") does not end it."""
    return rf"(?:[^.;]|\.(?=\S)){{0,{most}}}"


#: An enhanced status code (RFC 3463), e.g. 5.1.1.
ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
#: 5.1.7 and 5.1.8 are address errors too, but about the sender's address.
SENDER_ADDRESS_DETAILS = {"7", "8"}
#: The recipient's mailbox is busy, full or over its quota (4.2.1, x.2.2), or it receives more than it
#: may: that recipient's passing problem even when a server says it with a 5xx, and never a reason to
#: cool the account down.
RECIPIENT_MAILBOX = wording(
    r"\b4\.2\.1\b",
    r"\b[45]\.2\.2\b",
    r"mail ?box" + within_clause(40) + r"\b(full|busy|over[ -]?quota|exceed|storage|size limit)",
    r"mail ?box" + within_clause(40) + r"\b(reached|at) (its |the )?(maximum|max|limit|quota|capacity|size)",
    r"\b(in ?box|account|folder) (is )?(full|at capacity)\b",
    r"\bover (its|their|his|her|the) (storage |mailbox |disk )?quota\b",
    r"(in ?box|account|user|recipient|folder)('s)? [^.;]{0,30}(is full|over[ -]?quota|out of (storage|space)|"
    r"storage|quota exceeded|exceeded (its|the|their) quota)",
    r"\bover[ -]?quota\b",
    r"\bfull (mail ?box|in ?box)\b",
    r"\b(user|mailbox|recipient|inbox)\b[^.;]{0,20}\bhas too many (messages|mails|e-?mails)\b",
    r"quota violation",
    # a bare "Quota exceeded" once a recipient is named (IONOS's 550): a sending quota says whose it is
    r"^\W*(\d\.\d\.\d{1,3}\W+)?quota exceeded\W*$",
    r"folder (is )?full",
    r"(disk|storage|mailbox|queue) quota",
    r"storage allocation",
    r"insufficient (disk )?(space|storage)",
    r"receiving (e-?)?mail (at|too)",
    r"\b(recipient|user|mailbox)('s)?\b[^.;]{0,40}\breceive limit",
    r"recipient has exceeded",
    r"(they|it) can receive",
    r"exceeded their\b",
    # the same in the languages of the providers the engine meets (French, German, Spanish, Italian,
    # Portuguese, Polish, Russian, Chinese)
    r"bo[iî]te[^.;]{0,50}\b(plein|satur)|(postfach|posteingang)[^.;]{0,30}\bvoll\b|speicherplatz",
    r"buz[oó]n[^.;]{0,40}\blleno|casella[^.;]{0,30}\bpiena|caixa[^.;]{0,30}\b(cheia|lotada)",
    r"skrzynk\w*[^.;]{0,30}(pełna|przepełnion)|pojemnoś\w*[^.;]{0,20}skrzynk|schránk\w*[^.;]{0,20}(plná|přeplněn)",
    r"ящик[^.;]{0,30}(переполнен|заполнен)|квот\w*[^.;]{0,30}ящик",
    r"(邮箱|信箱|空间)[^.;]{0,6}(满|不足)",
    r"storedrv\.deliver",
)
#: A full mailbox that is also abandoned (Gmail's OverQuotaPerm): gone for good.
ABANDONED = wording(r"inactive|disabled|discontinued|no longer|abandoned")
#: An enhanced code about the recipient's address (x.1.x) or mailbox (x.2.x); 4.1.7 and 4.1.8 are the
#: sender's address.
RECIPIENT_SUBJECT = re.compile(r"\b4\.(1\.[1-69]|2\.\d{1,3})\b")
#: Words about the sender's own sending, which a mailbox's quota never uses.
SENDING = wording(
    r"\bsend(ing)? (quota|limit|rate|cap)",
    r"\b(you|account|sender) (have |has )?sent\b",
    r"outgoing|outbound|submission|daily|relay",
)
#: Greylisting: the first try of a new sender is deferred on purpose; a retry in minutes passes.
GREYLISTING = wording(
    r"gr[ae]y[ -]?list",
    r"postgrey",
    r"\btry again later\b.*\bgrey",
    r"liste grise|lista gris|grauliste|серый спис|灰名单",
)
#: A cap on one connection (messages or commands per session, bad commands, recipients per connection or
#: per message): a new connection sends the rest.
CONNECTION_CAP = wording(
    r"per (session|connection)",
    r"(session|connection|batch|transaction) limit",
    r"(open )?a new (session|connection)",
    r"too many (nonmail |bad |invalid |unknown |unrecogni[sz]ed |failed )?(smtp )?commands",
    r"too many (protocol |syntax |command |smtp )?errors",
    r"too many\b[^.;]{0,40}\b(in|on|for) (this|the|one|a|each|a single) (session|connection)\b",
    r"(allow(ed)?|maximum|max) (number of )?(rcpt|recipient)s? (numbers|per message)",
    r"out of allow\w* rcpt",
    r"too many (envelope )?(recipients|rcpt)\b(?!\s+from\b|[^.;]{0,40}\b(hour|day|minute|daily|rate))",
    # x.5.3 is "too many recipients" (RFC 3463), unless the words make it a count over time
    r"\b[45]\.5\.3\b(?![^;]{0,80}\b(hour|day|minute|daily|rate|sending|quota))",
    # the same in other languages, unless counted over time (per day or hour: a rate)
    r"(trop de destinataires|zu viele empfänger|demasiados destinatarios|muitos destinatários"
    r"|(anzahl|zahl) der empfänger|nombre de destinataires|número de destinatarios)"
    r"(?![^.;]{0,40}(jour|heure|tag|stunde|d[ií]a|hora))",
    r"слишком много (получателей|адресатов)|收件人[^.;]{0,4}(过多|太多|超过|超出)",
    r"number of (recipients|rcpts?)\b[^.;]{0,20}\b(over|exceed\w*|too)\b"
    r"(?![^.;]{0,40}\b(hour|day|minute|daily|rate))",
    r"\b(bad|invalid|unknown|unrecognized) (smtp )?command limit",
)
#: The message itself is too large for the receiving server.
TOO_LARGE = wording(
    r"\b5\.3\.4\b",
    r"\b5\.2\.3\b",
    r"(message|mail)[^.;]{0,30}\b(too (large|big)|size (limit|exceed))",
    r"size limit",
    r"exceeds? (the )?(maximum|max|fixed) (message )?size",
    r"\b(length|size) of (the )?(data|message|content)|number of attachments",
    r"(larger|bigger) than (the )?(maximum|max|allowed|permitted)",
    r"\bsize\b[^.;]{0,20}\b(over|above|exceeds?|exceeded) (the )?(\w+ )?limit",
    r"(maximum|max) (message |mail |e-?mail )?size (exceeded|reached)|\b(length|size) exceeds",
    # the same in the languages of the providers the engine meets, said of the message (a count "too large" is
    # not the message's size)
    r"(nachricht|e-?mail|mail|anhang|datei)\w*[^.;]{0,20}zu gro(ß|ss)|trop volumineux",
    r"(message|courriel|mail|pièce|fichier)[^.;]{0,20}trop (gros|grand)",
    r"(mensaje|correo|mensagem|e-?mail|adjunto|anexo|archivo|arquivo)[^.;]{0,20}(demasiado|muito) grande",
    r"(messaggio|allegato)[^.;]{0,20}troppo grande",
    r"(tamaño|tamanho|taille|gr(ö|oe)(ß|ss)e|dimensione)[^.;]{0,40}"
    r"(exced|super|ultrapass|dépass|excède|überschr|sobrepas)",
    r"размер\w*[^.;]{0,30}превыш|превыш\w*[^.;]{0,20}размер",
    r"(письм|сообщени)\w*[^.;]{0,20}слишком (больш|велик)",
    r"(邮件|信件|附件)[^.;]{0,4}(大小|尺寸|体积)[^.;]{0,4}(超过|超出)|(邮件|信件|附件)[^.;]{0,4}(过大|太大)",
    r"(超过|超出)[^.;]{0,4}(邮件|信件|附件)?(大小|尺寸)",
)
#: An attachment's type is refused ("Blacklisted high risk file extension detected"): the message, not
#: the sender, whatever list the server keeps of such files.
ATTACHMENT_REFUSAL = wording(
    r"\b(file|attachment)s?\b[^.;]{0,30}\b(extension|type)s?\b",
    r"\b(extension|attachment)s?\b[^.;]{0,30}\b(not allowed|prohibited|blocked|forbidden|detected|refused)",
)
#: The message carries what the server's scanner calls harmful (a virus, malware, "unsafe content"): the
#: message, whatever the scanner's name for it says ("Heuristics.Phishing.Email.SpoofedDomain"), unless the
#: reply speaks of the sending IP's listing (a blocklist of hosts that spread malware is about the sender).
HARMFUL_CONTENT = wording(
    r"\bvirus",
    r"malware",
    r"unsafe content",
    r"malicious (content|code|attachment|file|link)",
    r"\binfected\b|trojan|вирус|病毒",
)
#: The message goes round in circles between servers, said in words: Zoho sends its outbound blocks and rate
#: limits under 5.4.6, RFC 3463's routing loop, so the code alone does not say it.
LOOPING = wording(
    r"too many hops|hop count",
    r"too many \W?received",
    r"(routing|mail|forwarding|delivery) loop",
    r"loop detected|loops back",
)
#: The message's content or links are refused, whatever the code: sent again unchanged, it fails again.
CONTENT_REFUSAL = wording(
    r"nature of the content|content and/or the links|links within",
    r"(message|content|mail) (is |was |looks )?(classified |identified |detected )?(as )?(likely )?"
    r"(spam|junk|suspicious|unsolicited)\b",
)
#: A recipient whose own settings refuse outside mail (Exchange's RESOLVER.RST), or senders not authenticated
#: inside its organisation, not on its allowed list (5.7.12, 5.7.134) or on its own (or its domain's)
#: reject list: that recipient, for good.
RECIPIENT_RESTRICTED = wording(
    r"RESOLVER\.RST",
    r"delivery (to this (address|group|recipient)|is restricted)",
    r"\bprivate list\b|\bmembers only\b",
    r"\bnot authenticated (by (the |its )?organi[sz]ation|for (the |this )?(mailbox|group|public folder))",
    r"\ballowed[- ]senders? list",
    r"\b(user|recipient|domain)'s\b[^.;]{0,10}\b(reject|black|block|deny) ?list",
)
#: A count the account has used up: a quota, credits, so many messages per hour or day, or "sent too many
#: in the last 10 minutes" (whatever enhanced code comes with it).
SENDING_QUOTA = wording(
    r"(sending|message|messages|submission|outgoing|outbound|hourly|daily|email|mail|send|relay|account|"
    r"recipient|rcpt)s? (quota|limit|cap)s?\b",
    r"quota (exceeded|reached|has been|was)",
    r"\bcredits?\b[^.;]{0,20}(exceeded|used up|exhausted)|(maximum|no|out of) credits",
    r"(used up|exhausted|run out of|ran out of)[^.;]{0,30}\bcredits?\b",
    r"\bover[ -]?quota for (outbound|outgoing|sending|send)",
    r"\blimit of \d+",
    r"\blimits? (for|on) (how many|the number of)\b",
    r"\bsent (per|an|a|each) (hour|day|minute)\b",
    r"\d+ (messages|e-?mails|mails|recipients|rcpts|requests) ?(/|per\b|an\b|a\b|each\b|in\b)",
    r"limited to \d+",
    r"max(imum)? \d+ \w+ (per|an|a|each) (hour|day|minute)",
    r"(achieved|reached) the maximum",
    r"per \d+ (hours?|minutes?|days?)",
    r"\b(over|in|within|during) (the )?(past|last) (\d+ ?)?(h|hours?|days?|minutes?)\b[^.;]{0,20}"
    r"\b(reached|exceeded)",
    r"too many[^.;]{0,40}\b(this|per|an|each|a|last) (hour|day|minute)",
    r"\bsent\b[^.;]{0,60}\b(in|within|during) the (past|last) (\d+ ?)?(hours?|days?|minutes?|seconds?)\b",
    r"\b5\.4\.5\b",
    r"SubmissionQuota",
    r"\b(exceeded|reached|over) (the |its |your |their )?(permitted|allowed) (\w+ )?limits?\b",
    r"\b(sending|message|messages|hourly|daily|outgoing|outbound|send|volume) threshold",
    r"exceed\w* (the |your |its )?(sending|message|hourly|daily|volume|rate) threshold",
    r"\bover (the |your |its )?(sending |message |hourly |daily |rate )?limit\b",
    # the same in the languages of the providers the engine meets
    r"превыш\w*[^.;]{0,30}(лимит|квот|ограничени|предел)|(лимит|квот|ограничени)\w*[^.;]{0,30}(превыш|исчерпан|достигнут)",
    r"слишком (много|часто|быстро)|слишком больш\w* (количеств|числ)",
    r"(发信|发送|发件)[^.;]{0,8}(超过|超出|达到|过多|太多|上限|限额)|超过[^.;]{0,2}(发信|发送)",
    r"trop de (messages|mails|e-?mails|courriels|connexions|envois)|limite[^.;]{0,30}(dépass|atteint)",
    r"dépass\w* (la |le |votre )?(limite|quota)|quota[^.;]{0,20}dépass",
    r"zu viele (nachrichten|e-?mails|mails|verbindungen)|(versand|sende)(limit|kontingent)",
    r"(limit|kontingent|höchstgrenze)[^.;]{0,20}(überschritten|erreicht)",
    r"demasiad[oa]s (mensajes|correos|conexiones|envíos|e-?mails)",
    r"muit[oa]s (mensagens|e-?mails|conexões|envios)",
    r"l[ií]mite[^.;]{0,30}(excedido|superado|alcanzado|sobrepasado|atingido|ultrapassado|superato|raggiunto)",
    r"troppi (messaggi|invii|e-?mail)|zbyt wiele (wiadomości|maili|e-?maili)|příliš mnoho (zpráv|e-?mailů)",
    r"przekroczon\w*[^.;]{0,20}limit|limit\w*[^.;]{0,20}(przekroczon|překročen)|překročen\w*[^.;]{0,20}limit",
    r"(excedi\w*|super\w*|alcanz\w*|sobrepas\w*|excede\w*|ultrapass\w*|atingi\w*)[^.;]{0,20}l[ií]mite",
)
#: A DNS lookup that failed for now; the sending IP's missing reverse DNS is not one (the sender must fix it).
#: Words about the sending IP's own name: its reverse DNS is the sender's to fix, not a passing lookup.
SENDER_NAME = wording(r"reverse|\bptr\b|ip name|hostname|rdns")
DNS_TROUBLE = wording(
    r"(?<!reverse )(dns|lookup)[^.;]{0,20}\b(fail|error|timeout|timed out)",
    r"\b(fail\w*|error)\b[^.;]{0,20}\b(dns|look-?up)\b",
    r"temporar\w*[^.;]{0,30}\b(?<!reverse )(dns|lookup)",
)
#: A refusal of the sender: its address, its login, relaying for it, its domain's authentication.
SENDER_REFUSAL = wording(
    # relaying: the server does not see an authenticated sender it may relay for
    r"relay(ing)?\b"
    + within_clause(40)
    + r"\b(denied|not (permitted|allowed)|disallowed|refused|rejected|prohibited|disabled|forbidden|blocked)",
    r"\bden(y|ies|ied)\b[^.;]{0,20}\brelay|relay check\b[^.;]{0,20}\bfail",
    r"\b(do|does|will|can|shall)( not|n't) relay\b|\bcannot relay\b|\bno relay(ing)?\b",
    r"relay(ing)?\b[^.;]{0,30}(nicht erlaubt|verweigert|untersagt|abgelehnt|denegado|no permitido|rechazado|"
    r"negado|não permitido)|relais[^.;]{0,30}(refus|interdit|non autoris)",
    r"(转发|中继)[^.;]{0,6}(拒绝|不允许|禁止)|(不允许|禁止|拒绝)[^.;]{0,4}(转发|中继)",
    r"(ретрансляц|пересылк)\w*[^.;]{0,20}(запрещ|отказ|не разреш)",
    r"unauthori[sz]ed relay|not a gateway|local (users?|senders?) only",
    r"delivery is not allowed to this address",
    r"conform with authentication|(doesn't|does not|must) match (the )?(authenticat|login)",
    r"headers? from\b",
    r"(unable|not permitted|not allowed|not configured) to relay",
    r"rcpthosts|list of allowed (rcpt)?hosts",
    r"not logged in|logged into the (pop|imap)|authentication (turned on|enabled)",
    r"too (many|much) (fail\w* (auth|login)|(auth|login)\w* fail)",
    r"authentication (information|checks)",
    r"purported responsible",
    r"reject(ed)? due to policy",
    r"as a relay",
    r"5\.7\.64\b",
    # the sender address or domain: not verified, not owned, not configured, not allowed
    r"sender (address )?(is |was |has been )?(rejected|refused|denied|unverified|"
    r"not (allowed|authori[sz]ed|permitted|verified|owned))",
    r"sender (address )?verif\w* fail|verification failed for",
    r"sender (domain|address)\b[^.;]{0,20}\b(not found|does not exist|doesn't exist|unknown|not resolv|"
    r"has no)",
    r"permissions? to send as|(does not|doesn't) belong to (the )?(logged|authenticated|user|account|you)",
    r"(exp[ée]diteur|[ée]metteur|absender\w*|remitente|remetente|отправител\w*|发件人|发信人)[^.;]{0,40}"
    r"(refus|rejet|invalide|inconnu|non autoris|abgelehnt|verweigert|ungültig|unbekannt|"
    r"nicht (erlaubt|zulässig|verifiziert)|rechazad|inválid|desconocid|desconhecid|"
    r"no (autorizad|permitid|válid)|não (autorizad|permitid)|отклон|запрещ|"
    r"не (найден|существует|разрешен|авторизован)|неизвестн|недопустим|被拒|拒绝|不允许|无效|不存在|未验证)",
    r"(valid|invalid|unknown|unverified|blank|empty|missing) (a valid )?(sender|from)",
    r"\b(from|sender)\b[^.;]{0,20}\b(is )?not valid",
    r"\bfrom\W{0,3}(address|domain|header)",
    r"sender identity",
    r"sending domain",
    r"(address|domain|identity|identities)[^.;]{0,40}\bnot (yet )?(been )?"
    r"(verified|validated|confirmed|approved)",
    r"not (authorized|allowed|permitted) to send",
    r"send ?as ?(denied|permission)",
    r"\b5\.7\.60\b",
    r"not owned by",
    r"\b5\.1\.[78]\b",
    r"sandbox",
    r"spoof",
    # authentication of the mail: login, SPF, DKIM, DMARC, reverse DNS
    r"unauthenticated",
    r"\bwithout (smtp )?authenticat\w*|\bapi[ -]?key\b",
    r"authenticat\w* (is )?(required|failed|unsuccessful|needed|credentials)",
    r"must (be )?authenticat|authenticate first",
    r"authentifi\w*[^.;]{0,20}(erforderlich|requise?|nécessaire|obligatoire|fehlgeschlagen|échou)",
    r"autentica\w*[^.;]{0,20}(requerid|necesari|obligatori|fall|necessári|obrigatóri)",
    r"(требуется|необходима) (аутентификац|авторизац)",
    r"(аутентификац|авторизац)\w*[^.;]{0,20}(требуется|не пройден)",
    r"(需要|必须)[^.;]{0,4}(身份验证|认证|验证|登录)|(身份验证|认证)[^.;]{0,4}失败",
    r"\bauth (is )?required\b",
    r"not authenticated",
    r"\bauth\w* (mode|mechanism|method|type)s? (is )?(not supported|unsupported)|\bunsupported auth",
    # RFC 3463 and its registry: 5.7.8, 5.7.10 and 5.7.11 credentials and encryption; 5.7.20-27 and 5.7.29
    # DKIM, SPF, reverse DNS, DMARC, a null MX of the sender and ARC (not 5.7.9 or 5.7.13: Yahoo sends its
    # policy refusals as 5.7.9, Sendmail a disabled recipient as 5.7.13)
    r"\b[45]\.7\.(8|10|11|2[0-7]|29|30|32|57|139|509|510|511|512|750)\b",
    r"\b(spf|dkim|dmarc|sender id)\b|sender policy framework|domainkeys|\barc (validation|fail|check)",
    r"\bptr\b|reverse (dns|lookup|hostname|host name|mapping|resolution)|\brdns\b",
    r"cannot find your (reverse )?host ?name",
    r"\be?helo\b[^.;]{0,20}\b(rejected|refused|denied|invalid|not (valid|allowed|accepted))",
    r"(invalid|bad|illegal|bogus|forged|broken|malformed) e?helo\b",
    r"(invalid|bad|wrong|incorrect) (credentials|password|user ?name)",
    # encryption the server requires
    r"(must|should) issue a starttls",
    r"\btls ?(v?1\.[01]|versions?)\b" + within_clause(30) + r"\b(not|no longer) supported",
    r"\b(tls|encryption|starttls)\b[^.;]{0,20}\b(required|needed)\b",
)
#: The sending IP on a DNS blocklist (named, or a zone it is "listed at"), said outright to be listed,
#: blocked or rejected, refused for its location, its access refused, or the sender refused for its list
#: hygiene (many unknown recipients from it): words that only ever describe the sender, so they win over a
#: code or words that look like the recipient's (a "5.2.1 Mailbox unavailable. Your IP address is
#: blacklisted").
SENDER_LISTED = wording(
    r"spamhaus|spamcop|uceprotect|\bsorbs\b|\bdnsbl\b|\brbl\b|barracudacentral|barracuda reputation",
    r"invaluement|hostkarma|junkemailfilter|abusix|cloudmark|mail-abuse|spamrl|\bsurbl\b|\bpsbl\b|mailspike",
    r"senderbase|\bsbrs\b|senderscore",
    r"\b(your|the sending|sending|sender'?s?|client|connecting) (ip|host|server)( address)?\b"
    + within_clause(40)
    + r"\b(black ?listed|listed|blocked|banned|not (accepted|allowed|permitted|welcome))\b",
    r"\b(your|the sending|sending|sender'?s?) ip( ad+ress)? (rejected|refused|denied)\b",
    r"\blisted (at|on|in|by) [\w-]+(\.[\w-]+)+",
    r"\bbad ip\b|\bdeny ?ip\b|ipcheck\.proofpoint",
    r"\byour access\b[^.;]{0,60}\b(rejected|denied|refused|revoked|blocked)",
    r"\bgeo ?ip\b|geographical location|\bfrom your (location|country)\b",
    r"\byou (are|have been|were|'ve been) (temporarily |permanently )?"
    r"(blocked|banned|black ?listed|block ?listed)",
    r"\b(ip|adresse|address|dirección|endereço|адрес)\b[^.;]{0,30}(bloqu|blockiert|gesperrt|заблокир)",
    r"(?<![a-z])ip[^.;]{0,10}(被封|封禁|被禁|屏蔽|拉黑)",
    # the sender's list hygiene: many invalid recipients from its account, IP or domain
    r"\b(invalid|unknown|bad|non-?existent) recipients\b[^.;]{0,40}\bfrom your "
    r"(account|address|domain|ip|server)",
    r"\b(high|excessive\w*|large) (number|rate|percentage|amount) of (invalid|unknown|bad|non-?existent) "
    r"(recipients|addresses)",
)
#: A recipient unknown to its server, in the words of servers that give no enhanced code and in the
#: languages of the providers the engine meets (never "address", which may be the sender's).
UNKNOWN_RECIPIENT = (
    r"\b(recipient|user|mailbox|addressee) (is )?unknown\b",
    r"unrout(e)?able address|no mailbox (here|by that name)",
    r"(benutzer|empfänger|postfach)\w*[^.;]{0,20}(unbekannt|existiert nicht|nicht vorhanden|nicht gefunden)",
    r"(utilisateur|destinataire)[^.;]{0,30}(inconnu|inexistant|n'existe pas|introuvable)",
    r"(usuario|usuário|utilizador|destinatari[oa]|destinatário|buz[oó]n)[^.;]{0,30}"
    r"(desconocid|desconhecid|no existe|não existe|inexistente)",
    r"(utente|destinatario|użytkownik|odbiorc\w*|uživatel|příjemce)[^.;]{0,30}"
    r"(sconosciut|inesistente|non esiste|nie istnieje|nieznany|neexistuje|neznámý)",
    r"(пользовател|ящик|получател)\w*[^.;]{0,30}(не найден|не существует|неизвест)",
    r"нет такого (пользователя|ящика)",
    r"(用户|收件人|邮箱|帐户|账户)[^.;]{0,4}不存在|查无此",
)
#: A refusal that names the recipient's mailbox or address: that recipient, for good.
RECIPIENT_REFUSAL = wording(
    *UNKNOWN_RECIPIENT,
    r"\b5\.1\.([0-69]|10)\b",
    r"\b5\.2\.1\b",
    r"user unknown|unknown (user|recipient|mailbox)|no such (user|mailbox|recipient|address)",
    r"(mailbox|address|recipient|user)[^.;]{0,30}\b(does not exist|doesn't exist|not found|unavailable|"
    r"disabled|invalid|inactive)",
    r"invalid (mailbox|recipient|address)\b",
    r"recipient address(es)? rejected ?: access denied",
    r"recipient('s)? account|account of the recipient",
    r"discontinued|no longer (active|in use|exists)",
    r"(cannot|can't|could not|couldn't) be delivered",
    r"(cannot|can't|could not|couldn't|unable to) deliver (mail|messages?|e-?mails?) to\b",
    r"messages to \S+ are blocked",
    r"\b(banned|blocked|barred) recipient",
)
#: The account or its IP is blocked, listed, suspended, its outbound mail refused, or judged a spammer or a
#: zombie (a compromised host).
ACCOUNT_BLOCKED = wording(
    r"\b5\.7\.(5\d\d|6\d\d|7\d\d)\b",
    r"(?<!rejected: )(?<!rejected : )access denied",
    r"traffic not accepted",
    r"block ?list|black ?list|deny ?list|spam ?list|block-send",
    r"lista negra|liste noire|schwarze[nr]? liste|черн\w* спис|黑名单",
    r"\b(ip|host|(?<!recipient )address|server|client|sender|domain|network)\b"
    + within_clause(60)
    + r"\b(blocked|banned|listed (on|in|at|by))",
    r"reputation",
    r"\bblock (has been |was )?(placed|put|set) (on|against)\b",
    r"client host \S* ?rejected",
    r"(outbound|outgoing) ?spam|OutboundSpamException",
    r"\b(account|mailbox|user)\b[^.;]{0,20}\bsending spam|(due to|because of) (\w+ )?abuse\b",
    r"outbound (mail|e-?mail|sending|messages?) (is |has been )?(refused|blocked|disabled|suspended|denied)",
    r"\bspammers?\b|\bzombie\b",
    r"spam abuse|abuse detected|abusive|rejection- ?abuse|behaviou?r spam",
    r"(unusual|suspicious|abnormal) (sending |outgoing |outbound )?activity",
    r"\b(account|mailbox|login)\b[^.;]{0,30}\bcompromised",
    r"account (has been |is |was )?(temporarily )?(suspended|disabled|blocked|locked|deactivated|frozen|"
    r"restricted|banned)",
    r"(sending|account) (has been |is )?(paused|suspended|disabled|blocked) ",
    r"reject(ed)? due to policy",
    r"permanently deferred",
    r"(spam|unsolicited)[^.;]{0,40}\b(from|originating from) your (address|account|mailbox)",
    r"messages from \S+ weren't sent",
    r"\b(ip|address)\b[^.;]{0,40}\b(is filtered|not in whitelist|is controlled)",
    r"register your ip|spam[_ ]suspect|ip[_ ]control",
    r"\bHL:[A-Z]{3}\b",
    # Outlook.com's SC- and DY- codes: the sending IP or network blocked (complaints, address mining, an open
    # proxy, a dynamic or infected host)
    r"\b(SC|DY)-00\d\b",
)
#: Words that name a rate limit outright: they win over the reason the reply gives for it (an IP
#: "rate limited due to reputation" is rate limited).
RATE_LIMITED = wording(
    r"rate[ -]?limit",
    r"throttl",
    r"frequen(cy|t|tly)\b|频率|频繁",
    r"(excessive|high|unusual|unexpected) (volume|number of (connections|sessions|messages|e-?mails))",
    r"temporarily deferred",
    r"\b4\.7\.[56]\d\d\b",
    r"too many (messages|e-?mails|mails|connections|concurrent|sessions)\b",
    r"too fast|too quickly",
    r"intrusion prevention",
    r"exceeded the rate|unusual rate|\brate of\b|slow down|ralenti",
    r"\b[45]\.7\.28\b|mail flood|flood(ing)? detected",
)
#: Why a provider rate-limits an unauthenticated sender: the cure is the account's setup, not waiting.
AUTH_REASON = wording(
    r"(because|due to)\b[^.;]{0,80}(\b(spf|dkim|dmarc|tls|ptr)\b|authenticat|reverse dns|unresolvable|"
    r"from domain)",
    r"\b(spf|dkim|dmarc|ptr) (record|signature|polic|check|fail|alignment)",
    r"(not|isn't|aren't) aligned|alignment",
)
#: Why a provider holds a sender back: the errors it keeps causing (Exchange Online's "Sender throttled due
#: to continuous send as denied errors"). Waiting does not cure them; fixing the account does.
ERRORS_REASON = wording(
    r"(because of|due to) (continuous|repeated|persistent|constant)\b[^.;]{0,40}\berrors?\b"
)
#: A rate that got the sender blocked: that is a block, not a cooldown.
BLOCKED = wording(r"\bblocked\b|\bbanned\b|black ?list|block ?list")
#: A connection held back for now: refused, deferred, throttled or blocked ("421 4.2.1 Connection deferred").
CONNECTION_HELD = wording(r"\b(blocked|banned)\b", r"connection (refused|deferred|throttled)")
HL_CODE = re.compile(r"\bHL:[A-Z]{3}\b")
#: A volume or rate limit of the sending account or IP, in any class.
RATE_LIMIT_WORDING = wording(
    r"rate[ -]?limit",
    r"\brate (of|exceeded|too high)",
    r"sending rate",
    r"too many (?!recipients\b)",
    r"too many (recipients|rcpts?) from\b",
    r"too much mail",
    r"sent too (many|much)",
    r"frequen(cy|tly)",
    r"throttl",
    r"slow down",
    r"(excessive|high|unusual) volume",
    r"\blimit (exceeded|reached|was exceeded|has been (reached|exceeded))",
    r"reached [^.;]{0,20}\blimit",
    r"(sessions|connections)[^.;]{0,30}\bexceed",
    r"\blimit\b[^.;]{0,60}\b(exceeded|reached)",
    r"exceeded[^.;]{0,50}\b(limit|quota)",
    r"(per|an|this|each) (hour|day|minute)\b",
    r"\bpar (jour|heure|minute)\b|\bpro (tag|stunde|minute)\b|\bpor (d[ií]a|hora|minuto)\b",
    r"\bal (giorno|ora)\b|в (день|час|минуту)|每(天|日|小时|分钟)",
    r"\b4\.7\.28\b",
    r"try (again )?in \d+",
    r"temporarily rate",
    r"dictionary attack|directory harvest",
)
#: The sending IP (or "you") held back for a while, worded as a temporary block: a cooldown.
TEMPORARY_BLOCK = wording(
    r"\b(ip|host|client|server|connection|you)\b[^.;]{0,30}\btemporar(il)?y "
    r"(blocked|black ?listed|suspended|banned|restricted|denied|refused)",
    r"временно (заблокирован|ограничен)",
)
#: A server that calls its own trouble temporary ("temporary error during DKIM verification", "temporary
#: lookup failure"): not a refusal of the sender, whatever check it was running.
TEMPORARY_ERROR = wording(r"temporar\w* (error|failure|problem)", r"validation error")
#: A daily quota: sending resumes when the provider's 24-hour window lets it.
DAILY_QUOTA = wording(r"daily", r"per day", r"24[ -]?h(ours?)?", r"\b5\.4\.5\b", r"today")
#: A server's own passing trouble, or a temporary problem with one recipient's route: retry soon.
TEMPORARY_TROUBLE = wording(
    r"\btemporar(y|ily)\b",
    r"\berror\b|\bfail",
    r"(could not|couldn't|cannot|can't|unable to) ",
    r"try (again|another)",
    r"local (error|problem)",
    r"insufficient (system )?(resources|storage)",
    r"system (resources|storage)",
    r"unavailable|not available|not ready|busy|trouble",
    r"\btime(d)?[ -]?out\b",
    r"(try|come back|retry) (again )?later",
    r"unable to verify",
    r"lookup fail|dns|resolv",
    r"queue|internal error|server error|configuration",
    # 4.3.x system, 4.4.x network, 4.5.x protocol, 4.6.x content (RFC 3463): passing trouble, not our pace
    r"\b4\.[3-6]\.\d{1,3}\b",
    # the same in the languages of the providers the engine meets
    r"réessa\w*|plus tard|temporaire|indisponible|später|vorübergehend|temporär",
    r"más tarde|mais tarde|temporal|temporári|indisponível|no disponible",
    r"позже|временн|недоступ|稍后|暂时|临时|繁忙",
)
#: The receiving system's own trouble in RFC 3463's words: full (x.3.1 "Mail system full"), not accepting
#: messages for now (x.3.2, "imminent shutdown, excessive load, or system maintenance") or wrongly configured
#: (x.3.5): whatever the class, not this recipient's for good.
RECEIVING_SYSTEM_TROUBLE = wording(
    r"\b5\.3\.[125]\b",
    r"\bsystem config(uration)? error",
    r"\bmail system full\b",
    r"\bnot accepting network messages\b",
)
TRY_LATER = wording(
    r"(try|retry|come back) (again )?later",
    r"(try|retry) (again )?(after|in) (a few|some|several) (minutes|seconds)",
    r"réessayer plus tard|später (erneut|noch einmal|wieder)|más tarde|mais tarde|позже|稍后",
)
#: The receiving service itself down for now ("Service Temporarily Unavailable"): its own passing trouble.
SERVICE_DOWN_FOR_NOW = wording(
    r"\b(service|server|system)\b[^.;]{0,20}\btemporar\w* (unavailable|down|out of service)"
)
NAMES_RECIPIENT = wording(
    r"\b(recipients?|user|mailbox|destinataire|empfänger|destinatari[oa]|destinatário)\b|получател|收件人"
)
#: What servers write when they give no enhanced code.
MAILBOX_GONE_WORDING = wording(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|mailbox unavailable",
    r"mailbox not found",
    *UNKNOWN_RECIPIENT,
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


def is_storage_quota(failure: SMTPFailure) -> bool:
    """552 is "exceeded storage allocation" (RFC 5321): with a quota, the recipient's mailbox's one."""
    return failure.code == 552 and "quota" in failure.message.lower()


def says(pattern: re.Pattern[str]) -> Callable[[SMTPFailure], bool]:
    return lambda failure: failure.code is not None and bool(pattern.search(failure.message))


@dataclass(frozen=True)
class Rule:
    outcome: Outcome
    why: str
    matches: Callable[[SMTPFailure], bool]


RULES: tuple[Rule, ...] = (
    Rule(
        Outcome.ACCOUNT,
        "the sender is held back for the errors it keeps causing: the cure is the account, not waiting",
        lambda f: says(RATE_LIMITED)(f) and bool(ERRORS_REASON.search(f.message)),
    ),
    Rule(
        Outcome.TRANSIENT,
        "the recipient's mailbox is busy, full or over quota: that recipient's problem, for now",
        lambda f: (
            f.stage not in NO_RECIPIENT_YET
            and (says(RECIPIENT_MAILBOX)(f) or is_storage_quota(f))
            and not SENDING.search(f.message)
            and not ABANDONED.search(f.message)
        ),
    ),
    Rule(
        Outcome.TRANSIENT, "greylisting: the server wants the same email again in minutes", says(GREYLISTING)
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "the sending IP held back for a while (a temporary block): cool the account down",
        lambda f: is_temporary(f) and says(TEMPORARY_BLOCK)(f),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "a temporary refusal of the connection itself (deferred, refused, blocked for now) that names no "
        "blocklist: cool down",
        lambda f: (
            is_temporary(f)
            and f.stage in NO_RECIPIENT_YET
            and says(CONNECTION_HELD)(f)
            and not SENDER_LISTED.search(f.message)
        ),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a temporary reply about the recipient's address or mailbox (4.1.x, 4.2.x): that recipient, later",
        lambda f: (
            is_temporary(f)
            and f.stage not in NO_RECIPIENT_YET
            and bool(RECIPIENT_SUBJECT.search(f.message))
            and not SENDING.search(f.message)
            and not RATE_LIMITED.search(f.message)
        ),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a cap on one connection (messages, commands, recipients, connections at once): a new one goes on",
        says(CONNECTION_CAP),
    ),
    Rule(Outcome.PERMANENT, "the message is too large for the receiving server", says(TOO_LARGE)),
    Rule(
        Outcome.PERMANENT,
        "an attachment of this message is of a type the server refuses",
        lambda f: is_permanent(f) and f.stage in RECIPIENT_STAGES and says(ATTACHMENT_REFUSAL)(f),
    ),
    Rule(
        Outcome.PERMANENT,
        "the message carries what the server's scanner calls harmful (a virus, malware, unsafe content)",
        lambda f: (
            is_permanent(f)
            and f.stage in RECIPIENT_STAGES
            and says(HARMFUL_CONTENT)(f)
            and not SENDER_LISTED.search(f.message)
        ),
    ),
    Rule(
        Outcome.PERMANENT, "the message loops between servers", lambda f: is_permanent(f) and says(LOOPING)(f)
    ),
    Rule(Outcome.RATE_LIMIT, "a sending quota or count used up, whatever its class", says(SENDING_QUOTA)),
    Rule(
        Outcome.ACCOUNT,
        "rate-limited for want of authentication (SPF, DKIM, DMARC, TLS): the cure is the account's setup",
        lambda f: says(RATE_LIMITED)(f) and bool(AUTH_REASON.search(f.message)),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "a reply that says 'rate limited' outright, whatever the reason (unless it got the sender blocked)",
        lambda f: says(RATE_LIMITED)(f) and not (is_permanent(f) and BLOCKED.search(f.message)),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a DNS lookup that failed for now, even one about the sender's domain: retry soon",
        lambda f: (
            is_temporary(f)
            and f.stage is not Stage.CONNECT
            and says(DNS_TROUBLE)(f)
            and not SENDER_NAME.search(f.message)
        ),
    ),
    Rule(
        Outcome.ACCOUNT,
        "a DNS lookup failing on the connection itself is of the sending host's own name (its reverse DNS)",
        lambda f: f.stage is Stage.CONNECT and says(DNS_TROUBLE)(f),
    ),
    Rule(
        Outcome.PERMANENT,
        "a recipient whose own settings refuse this mail",
        lambda f: is_permanent(f) and f.stage in RECIPIENT_STAGES and says(RECIPIENT_RESTRICTED)(f),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a check the server could not finish for now (a temporary error): retry soon",
        lambda f: is_temporary(f) and says(TEMPORARY_ERROR)(f) and not SENDER_LISTED.search(f.message),
    ),
    Rule(
        Outcome.ACCOUNT,
        "the sender, its login, its address or its domain's authentication was refused, at any stage",
        says(SENDER_REFUSAL),
    ),
    Rule(
        Outcome.ACCOUNT,
        "the sending IP is on a blocklist or said to be listed, whatever the code looks like",
        says(SENDER_LISTED),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a permanent code asking to try later, for this recipient or a service down for now: retry soon",
        lambda f: (
            is_permanent(f)
            and bool(TRY_LATER.search(f.message))
            and bool(NAMES_RECIPIENT.search(f.message) or SERVICE_DOWN_FOR_NOW.search(f.message))
        ),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "a permanent code that asks to try again later: the server refuses for now, not for good",
        lambda f: is_permanent(f) and bool(TRY_LATER.search(f.message)),
    ),
    Rule(
        Outcome.TRANSIENT,
        "the receiving system is full, not accepting mail or misconfigured (x.3.1, x.3.2, x.3.5): retry soon",
        lambda f: is_permanent(f) and says(RECEIVING_SYSTEM_TROUBLE)(f),
    ),
    Rule(
        Outcome.PERMANENT,
        "the recipient's mailbox or address was refused for good",
        lambda f: is_permanent(f) and f.stage in RECIPIENT_STAGES and says(RECIPIENT_REFUSAL)(f),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "NetEase's and Coremail's HL: codes: a temporary one throttles the IP, a permanent one blocks it",
        lambda f: is_temporary(f) and says(HL_CODE)(f),
    ),
    Rule(Outcome.ACCOUNT, "the account or its IP is blocked, listed or suspended", says(ACCOUNT_BLOCKED)),
    Rule(Outcome.RATE_LIMIT, "a volume or rate limit, whatever its class", says(RATE_LIMIT_WORDING)),
    Rule(
        Outcome.PERMANENT,
        "the message's content or links are refused: sent again unchanged, it fails again",
        lambda f: f.stage in RECIPIENT_STAGES and says(CONTENT_REFUSAL)(f),
    ),
    Rule(
        Outcome.TRANSIENT,
        "a temporary reply that names the recipient: that recipient, later",
        lambda f: is_temporary(f) and bool(NAMES_RECIPIENT.search(f.message)),
    ),
    Rule(
        Outcome.TRANSIENT,
        "the server's passing trouble, or a delay on the recipient's route",
        lambda failure: is_temporary(failure) and says(TEMPORARY_TROUBLE)(failure),
    ),
    Rule(
        Outcome.RATE_LIMIT,
        "451 with nothing else said is how most providers say 'slow down'",
        lambda f: f.code == 451,
    ),
    Rule(
        Outcome.ACCOUNT,
        "anything else before the recipient concerns the whole account",
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
    return failure.code == 421 or failure.code is None or bool(CONNECTION_CAP.search(failure.message))


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
