"""Signed tokens that expire, timed by `app.clock` (so tests can move time): a resubscribe offer, a
sign-up's confirmation. Each use has its own salt, so no token passes for another kind."""

from __future__ import annotations

import calendar
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app import clock


class LinkExpired(Exception):
    """A genuine token, older than it may be."""


class ClockedSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return calendar.timegm(clock.utcnow().timetuple())


class TimedTokens:
    def __init__(self, secret_key: str, salt: str, valid_for: timedelta) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt=salt, signer=ClockedSigner)
        self.valid_for = valid_for

    def dumps(self, payload: Any) -> str:
        return self.serializer.dumps(payload)

    def loads(self, token: str) -> Any:
        """The payload, None for a token this app did not sign; raises `LinkExpired`."""
        try:
            return self.serializer.loads(token, max_age=int(self.valid_for.total_seconds()))
        except SignatureExpired:
            raise LinkExpired from None
        except BadSignature:
            return None
