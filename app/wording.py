"""How counts read in pages and messages: "1 contact", "2,500 contacts"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` with thousands separators and `noun`, made plural (`plural`, or `noun` + "s") unless one."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
