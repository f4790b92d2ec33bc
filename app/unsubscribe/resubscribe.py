"""Signed "subscribe again" links, offered right after someone unsubscribes, in case it was a mistake.

Unlike an unsubscribe link, this one expires (`VALID_FOR`): it undoes a click, it is not a standing
way onto a list. Its salt differs from the unsubscribe token's, so neither token passes for the other.
Its timestamps come from `app.clock` (`app.timed_tokens`), so tests can move time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.sending.unsubscribe_links import Link
from app.timed_tokens import TimedTokens

SALT = "resubscribe"
VALID_FOR = timedelta(days=7)


class ResubscribeLinks:
    def __init__(self, secret_key: str) -> None:
        self.tokens = TimedTokens(secret_key, SALT, VALID_FOR)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResubscribeLinks:
        return cls(config["SECRET_KEY"])

    def token(self, user_id: int, address: str) -> str:
        return self.tokens.dumps([user_id, address.lower()])

    def read(self, token: str) -> Link | None:
        """What the token names, None for a token this app did not sign; raises `LinkExpired`
        (`app.timed_tokens`)."""
        match self.tokens.loads(token):
            case [int() as user_id, str() as address] if address:
                return Link(user_id, address)
        return None
