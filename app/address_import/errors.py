"""The one exception a whole-file problem raises; its message is written for the user."""

from __future__ import annotations


class RecipientFileError(Exception):
    """The upload or paste cannot be imported at all: nothing from it may be saved.

    `message` is shown to the user as it is, so it says what is wrong and what to do about it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def too_many(cls, max_recipients: int) -> RecipientFileError:
        return cls(
            f"This list has more than {max_recipients:,} recipients, the most one import takes. "
            "Split it into smaller files."
        )
