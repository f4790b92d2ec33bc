"""Signed "subscribe again" links, offered right after someone unsubscribes, in case it was a mistake.

Unlike an unsubscribe link, this one expires (`VALID_FOR`): it undoes a click, it is not a standing
way onto a list. Its salt differs from the unsubscribe token's, so neither token passes for the other.
Its timestamps come from `app.clock`, so tests can move time.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app import clock
from app.sending.unsubscribe_links import Link

SALT = "resubscribe"
VALID_FOR = timedelta(days=7)


class LinkExpired(Exception):
    """A genuine link, older than `VALID_FOR`."""


class _ClockedSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return calendar.timegm(clock.utcnow().timetuple())


class ResubscribeLinks:
    def __init__(self, secret_key: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt=SALT, signer=_ClockedSigner)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResubscribeLinks:
        return cls(config["SECRET_KEY"])

    def token(self, user_id: int, address: str) -> str:
        return self.serializer.dumps([user_id, address.lower()])

    def read(self, token: str) -> Link | None:
        """What the token names, None for a token this app did not sign; raises `LinkExpired`."""
        try:
            payload = self.serializer.loads(token, max_age=int(VALID_FOR.total_seconds()))
        except SignatureExpired:
            raise LinkExpired from None
        except BadSignature:
            return None
        match payload:
            case [int() as user_id, str() as address] if address:
                return Link(user_id, address)
        return None
