"""Signed unsubscribe links: the token names the user whose list it is and the address to suppress.

`URLSafeSerializer` (no timestamp): an unsubscribe link must work for as long as the email exists.
The token is signed with `SECRET_KEY`, so it cannot be guessed, and changing the user or the address in
it breaks the signature: a link can only ever unsubscribe its own address from its own user's list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "unsubscribe"
#: Where the public blueprint answers; the engine builds links without a request, so it must agree.
PATH = "/unsubscribe/"


class UnsubscribeLinks:
    """Makes and reads unsubscribe links; cheap enough to make one per email."""

    def __init__(self, secret_key: str, public_base_url: str) -> None:
        self.serializer = URLSafeSerializer(secret_key, salt=SALT)
        self.prefix = public_base_url.rstrip("/") + PATH

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UnsubscribeLinks:
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"])

    def token(self, user_id: int, address: str) -> str:
        return self.serializer.dumps([user_id, address.lower()])

    def url(self, user_id: int, address: str) -> str:
        return self.prefix + self.token(user_id, address)

    def read(self, token: str) -> tuple[int, str] | None:
        """(user id, lower-cased address), or None for a token this app did not sign."""
        try:
            payload = self.serializer.loads(token)
        except BadSignature:
            return None
        match payload:
            case [int() as user_id, str() as address] if address:
                return user_id, address
        return None
