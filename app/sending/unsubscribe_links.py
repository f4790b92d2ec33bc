"""Signed unsubscribe links: the token names the user whose list it is and the address to suppress.

`URLSafeSerializer` (no timestamp): an unsubscribe link must work for as long as the email exists.
The token is signed with `SECRET_KEY`, so it cannot be guessed, and changing the user or the address in
it breaks the signature: a link can only ever unsubscribe its own address from its own user's list.

A test email carries a test link (`test_url`): its token is marked as a test, and the unsubscribe page
explains what it is instead of unsubscribing anyone, so clicking it in a test leaves everyone subscribed.

A link may also name the list the email came from (`list_id`): the preference page it leads to then
offers to leave that list alone. Without one the page offers "from everything" only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "unsubscribe"
#: Where the public blueprint answers; the engine builds links without a request, so it must agree.
PATH = "/unsubscribe/"
#: The page beside the unsubscribe page: `PATH + token + PREFERENCES`.
PREFERENCES = "/preferences"
#: The mark a test email's token carries after its user and address.
TEST_MARK = "test"
#: The mark before the list id of a token that names its list.
LIST_MARK = "list"


class Link(NamedTuple):
    """What a token names: whose list, which (lower-cased) address, whether it is a test's link, and
    the list (`ContactList`) the email came from when known."""

    user_id: int
    address: str
    test: bool = False
    list_id: int | None = None


class UnsubscribeLinks:
    """Makes and reads unsubscribe links; cheap enough to make one per email."""

    def __init__(self, secret_key: str, public_base_url: str) -> None:
        self.serializer = URLSafeSerializer(secret_key, salt=SALT)
        self.prefix = public_base_url.rstrip("/") + PATH

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UnsubscribeLinks:
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"])

    def token(self, user_id: int, address: str, test: bool = False, list_id: int | None = None) -> str:
        payload: list[Any] = [user_id, address.lower()]
        if test:
            payload.append(TEST_MARK)
        elif list_id is not None:
            payload += [LIST_MARK, list_id]
        return self.serializer.dumps(payload)

    def url(self, user_id: int, address: str, list_id: int | None = None) -> str:
        return self.prefix + self.token(user_id, address, list_id=list_id)

    def preferences_url(self, user_id: int, address: str, list_id: int | None = None) -> str:
        """The preference page: leave the list, unsubscribe from everything, or subscribe again."""
        return self.url(user_id, address, list_id) + PREFERENCES

    def test_url(self, user_id: int, address: str) -> str:
        """The link of a test email: it unsubscribes nobody."""
        return self.prefix + self.token(user_id, address, test=True)

    def read(self, token: str) -> Link | None:
        """What the token names, or None for a token this app did not sign."""
        try:
            payload = self.serializer.loads(token)
        except BadSignature:
            return None
        match payload:
            case [int() as user_id, str() as address] if address:
                return Link(user_id, address)
            case [int() as user_id, str() as address, str() as mark] if address and mark == TEST_MARK:
                return Link(user_id, address, test=True)
            case [int() as user_id, str() as address, str() as mark, int() as list_id] if (
                address and mark == LIST_MARK
            ):
                return Link(user_id, address, list_id=list_id)
        return None
