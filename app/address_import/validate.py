"""Checking addresses, and sorting rows into accepted, invalid, duplicate and suppressed.

email-validator costs about 25 µs an address, nearly all of an import's time (DESIGN.md), so each
distinct value is checked once and the rest of the work is done on whole columns by pandas.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import EMAIL_MAX_LENGTH
from email_validator.syntax import validate_email_local_part

from app.address_import.export import FORMULA_PREFIXES

#: Characters that make email-validator's parsing more than "local@domain" (quotes, display names...).
_NOT_PLAIN = re.compile(r'[\s"(),:;<>\[\]\\]')


def check_address(value: str) -> tuple[str, str]:
    """(normalised address, "") when valid, ("", reason) when not. No DNS look-ups."""
    if not value:
        return "", "There is no address in this row."
    if value.startswith(FORMULA_PREFIXES):
        return "", f"Starts with '{value[0]}', like a spreadsheet formula: not an email address."
    return _plain_address(value) or email_validator_verdict(value)


def email_validator_verdict(value: str) -> tuple[str, str]:
    """email-validator's own verdict, the reference `check_address`'s fast path must agree with."""
    try:
        return validate_email(value, check_deliverability=False).normalized, ""
    except EmailNotValidError as exc:
        return "", str(exc)


def _plain_address(value: str) -> tuple[str, str] | None:
    """The same verdict as email-validator for a valid plain ASCII `local@domain`, checking each
    domain once: its domain check is 97% of its cost, and a list has few distinct domains. Anything
    unusual or invalid returns None, so email-validator itself decides and words the reason."""
    local, at, domain = value.rpartition("@")
    if not at or "@" in local or not value.isascii() or _NOT_PLAIN.search(value):
        return None
    normalised_domain = _normalised_domain(domain)
    if normalised_domain is None or len(local) + 1 + len(normalised_domain) > EMAIL_MAX_LENGTH:
        return None
    try:
        local_part = validate_email_local_part(local, allow_smtputf8=True, allow_empty_local=False)
    except EmailNotValidError:
        return None
    return f"{local_part['local_part']}@{normalised_domain}", ""


@lru_cache(maxsize=4096)
def _normalised_domain(domain: str) -> str | None:
    try:
        return validate_email(f"probe@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


@dataclass(frozen=True)
class Screening:
    """Per row (indexed like the addresses, by row number): the normalised address and the verdict.

    `reason` is "" for a valid address; `first_row` is set on duplicates only, `suppressed` is true on
    the first occurrence of a suppressed address only (its repeats are duplicates). The `is_…` masks
    are arrays, not Series, because pasted entries can share a row number.
    """

    normalised: pd.Series
    reason: pd.Series
    first_row: pd.Series
    suppressed: pd.Series

    @property
    def is_invalid(self) -> np.ndarray:
        return self.reason.ne("").to_numpy()

    @property
    def is_duplicate(self) -> np.ndarray:
        return self.first_row.notna().to_numpy()

    @property
    def is_suppressed(self) -> np.ndarray:
        return self.suppressed.to_numpy()

    @property
    def is_accepted(self) -> np.ndarray:
        return ~(self.is_invalid | self.is_duplicate | self.is_suppressed)


def screen(addresses: pd.Series, suppressed: Set[str]) -> Screening:
    """Validate, then drop repeats of an address (in any case) and the suppressed addresses.

    `suppressed` holds normalised addresses; they are compared case-insensitively, as repeats are.
    """
    rows = addresses.index.to_numpy()
    values = addresses.reset_index(drop=True)
    verdicts = {value: check_address(value) for value in values.unique().tolist()}
    normalised = values.map({value: verdict[0] for value, verdict in verdicts.items()})
    reason = values.map({value: verdict[1] for value, verdict in verdicts.items()})
    key = normalised[reason.eq("")].str.lower()
    repeat = key.duplicated()
    first = key[~repeat]
    first_row = key[repeat].map(pd.Series(rows[first.index], index=first.to_numpy())).reindex(values.index)
    lowered = {address.lower() for address in suppressed}
    is_suppressed = first.isin(lowered).reindex(values.index, fill_value=False)
    return Screening(
        *(column.set_axis(addresses.index) for column in (normalised, reason, first_row, is_suppressed))
    )
