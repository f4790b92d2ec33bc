"""Which addresses the engine may connect to: public ones, unless the operator allows the others.

A user chooses the SMTP host, so without this rule the server connects wherever they say: to its own
loopback services, the cloud's metadata address (169.254.169.254), the machines of its private network
— and "Test connection" would tell them which ports answer. The rule is applied to every address the
host name resolves to, after the look-up, and the connection then goes to an address that was checked
(`app.sending.connection`), so a name that changes its answer between check and connect (DNS
rebinding) gains nothing. An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is
judged by the IPv4 address inside.

A relay on the same machine or the same network is a real set-up: `SMTP_ALLOW_PRIVATE_HOSTS` allows it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The setting that lifts the rule, named in the messages so the operator knows what to change.
ALLOW_SETTING = "SMTP_ALLOW_PRIVATE_HOSTS"
#: RFC 6052's well-known NAT64 prefix: the last 32 bits are an IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")

#: Checked in this order, so an address gets the most telling name (127.0.0.1 is private too).
KINDS = (
    ("unspecified", "is_unspecified"),
    ("loopback", "is_loopback"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("private", "is_private"),
    ("reserved", "is_reserved"),
)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for, if it stands for one."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def non_public_kind(address: IPAddress) -> str | None:
    """What makes `address` not a public one ("loopback", "private" …), or None if it is public."""
    address = embedded_ipv4(address) or address
    for kind, test in KINDS:
        if getattr(address, test):
            return kind
    return None if address.is_global else "non-public"


def parse_address(text: str) -> IPAddress:
    """An address as `getaddrinfo` writes it (an IPv6 one may end with its `%zone`)."""
    return ipaddress.ip_address(text.partition("%")[0])


def refusal(host: str, addresses: Iterable[str]) -> str | None:
    """Why connecting to `host` (resolved to `addresses`) is refused, or None if every address is public."""
    for text in addresses:
        kind = non_public_kind(parse_address(text))
        if kind is None:
            continue
        where = f"{host} is" if host == text else f"{host} resolves to {text}, which is"
        article = "an" if kind[0] in "aeiou" else "a"
        return (
            f"{where} {article} {kind} address, and this server connects only to public addresses "
            f"(its operator can allow local and private ones with {ALLOW_SETTING})"
        )
    return None


def literal_refusal(host: str) -> str | None:
    """Why `host` is refused if it is an IP address written out; None for a public one or a name."""
    try:
        parse_address(host)
    except ValueError:
        return None
    return refusal(host, [host])
