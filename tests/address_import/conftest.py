"""Fixtures for the address-list import: the small real files under tests/fixtures/recipients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.address_import import ImportResult, import_upload
from tests.upload_bombs import upload_limits

FIXTURES = Path(__file__).parent.parent / "fixtures" / "recipients"
MAX_RECIPIENTS = 200_000


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return read


@pytest.fixture
def import_fixture(fixture_bytes: Callable[[str], bytes]) -> Callable[..., ImportResult]:
    """Imports a fixture file by name, with the production row limit unless told otherwise."""

    def run(name: str, **options: object) -> ImportResult:
        options.setdefault("limits", upload_limits(MAX_RECIPIENTS))
        return import_upload(fixture_bytes(name), name, **options)

    return run
