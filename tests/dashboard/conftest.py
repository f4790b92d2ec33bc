"""The dashboard tests run at a fixed moment."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import clock

#: Thursday 26 Nov 2026, 15:30 in Asia/Kolkata (IST, UTC+05:30).
NOW = datetime(2026, 11, 26, 10, 0)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    return NOW
