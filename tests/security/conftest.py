"""Fixtures for the security tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g, request_started


@pytest.fixture(autouse=True)
def fresh_g_per_request(app: Flask) -> Iterator[None]:
    """Each request starts with an empty `g`, as in production.

    The tests' app context is pushed once and every test-client request reuses it, so `g` would carry
    Flask-Login's loaded user and Flask-WTF's signed CSRF token from one request (one browser) to the
    next: a copied cookie would seem to work because the user was still cached.
    """

    def clear(sender: Flask, **extra: object) -> None:
        for name in list(g):
            g.pop(name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)
