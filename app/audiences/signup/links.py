"""The signed link of a confirmation email: it names the sign-up request and its address, and expires
after `SIGNUP_CONFIRMATION_DAYS`. Opening it is the second opt-in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NamedTuple

from app.timed_tokens import TimedTokens

SALT = "signup-confirmation"
#: Where the public blueprint (app.signup) answers; the worker builds links without a request.
PATH = "/subscribe/confirm/"


class Confirmation(NamedTuple):
    request_id: int
    address: str


class ConfirmationLinks:
    def __init__(self, secret_key: str, public_base_url: str, valid_for: timedelta) -> None:
        self.tokens = TimedTokens(secret_key, SALT, valid_for)
        self.prefix = public_base_url.rstrip("/") + PATH

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ConfirmationLinks:
        days = timedelta(days=config["SIGNUP_CONFIRMATION_DAYS"])
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"], days)

    def url(self, request_id: int, address: str) -> str:
        return self.prefix + self.tokens.dumps([request_id, address.lower()])

    def read(self, token: str) -> Confirmation | None:
        """What the token names, None for a token this app did not sign; raises `LinkExpired`."""
        match self.tokens.loads(token):
            case [int() as request_id, str() as address] if address:
                return Confirmation(request_id, address)
        return None
