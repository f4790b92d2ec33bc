"""Checking addresses: email-validator's verdict and normal form, and the sorting of repeats."""

from __future__ import annotations

import pandas as pd
import pytest

from app.address_import.validate import check_address, screen


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("anna@example.com", "anna@example.com"),
        ("Anna.Smith@EXAMPLE.Com", "Anna.Smith@example.com"),
        ("zoë@example.com", "zoë@example.com"),
        ("jorg@MÜNCHEN.de", "jorg@münchen.de"),
    ],
)
def test_valid_address_is_normalised(value: str, normalised: str):
    assert check_address(value) == (normalised, "")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "There is no address in this row."),
        ("anna", "An email address must have an @-sign."),
        ("anna@example", "The part after the @-sign is not valid. It should have a period."),
        ("anna smith@example.com", "The email address contains invalid characters before the @-sign: SPACE."),
    ],
)
def test_invalid_address_gets_email_validators_reason(value: str, reason: str):
    assert check_address(value) == ("", reason)


def test_addresses_are_checked_without_dns():
    """A domain that cannot exist is still syntactically fine: no look-up is made."""
    assert check_address("anna@no-such-domain-for-sure.example.com")[1] == ""


@pytest.mark.parametrize("value", ["=1+2@example.com", "+x@example.com", "-x@example.com", "@example.com"])
def test_formula_like_address_is_invalid_even_if_rfc_allows_it(value: str):
    assert check_address(value) == (
        "",
        f"Starts with '{value[0]}', like a spreadsheet formula: not an email address.",
    )


def screened(values: list[str], suppressed: set[str] | None = None) -> pd.DataFrame:
    addresses = pd.Series(values, index=range(2, len(values) + 2), dtype=str)
    verdict = screen(addresses, suppressed or set())
    return pd.DataFrame(
        {
            "invalid": verdict.is_invalid,
            "duplicate": verdict.is_duplicate,
            "suppressed": verdict.is_suppressed,
            "accepted": verdict.is_accepted,
        },
        index=addresses.index,
    )


def test_repeats_differing_in_case_are_duplicates_of_the_first():
    addresses = pd.Series(
        ["Anna@Example.com", "bob@example.com", "ANNA@example.COM"], index=[2, 3, 4], dtype=str
    )
    verdict = screen(addresses, set())
    assert verdict.is_accepted.tolist() == [True, True, False]
    assert verdict.first_row[4] == 2


def test_suppressed_addresses_are_matched_in_any_case():
    result = screened(["anna@example.com", "BOB@example.com"], {"bob@EXAMPLE.com"})
    assert result["suppressed"].tolist() == [False, True]


def test_repeat_of_a_suppressed_address_counts_once_as_suppressed():
    result = screened(["bob@example.com", "Bob@example.com"], {"bob@example.com"})
    assert result[["suppressed", "duplicate"]].to_numpy().tolist() == [[True, False], [False, True]]


def test_invalid_repeats_are_each_invalid_not_duplicates():
    result = screened(["nope", "nope"])
    assert result[["invalid", "duplicate"]].to_numpy().tolist() == [[True, False], [True, False]]


def test_rows_sharing_a_number_are_screened_separately():
    """Pasted entries on one line share their row number."""
    addresses = pd.Series(["a@example.com", "A@example.com", "b@example.com"], index=[1, 1, 2], dtype=str)
    assert screen(addresses, set()).is_accepted.tolist() == [True, False, True]


EQUIVALENCE_CORPUS = [
    "anna@example.com",
    "Anna.Smith@EXAMPLE.COM",
    "a+tag@sub.example.co.uk",
    "x@localhost",
    "a@b",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@example..com",
    "a@example.com.",
    "a@123.123.123.123",
    "a@[127.0.0.1]",
    "a@example.invalid",
    "a@example.test",
    "a@example.local",
    "user@xn--bcher-kva.de",
    "user@bücher.de",
    "zoë@example.com",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a" * 60 + "@" + ".".join(["c" * 60] * 4) + ".com",
    '"quoted"@example.com',
    "Name <a@example.com>",
    "a@b@example.com",
    "a b@example.com",
    "a@exa mple.com",
    "a@example.com ",
    "a@_dmarc.example.com",
    "a!#$%&'*/=?^_`{|}~@example.com",
    "a@EXAMPLE.org",
    "postmaster@example.com",
    "a@example.onion",
    "a@com",
    "a@example.c",
    "a@münchen.de",
    "a@example.xn--p1ai",
]


@pytest.mark.parametrize("value", EQUIVALENCE_CORPUS)
def test_fast_path_agrees_with_email_validator(value):
    """Each distinct domain is checked once; the verdict and its wording must be email-validator's own."""
    from app.address_import.validate import email_validator_verdict

    assert check_address(value) == email_validator_verdict(value)
