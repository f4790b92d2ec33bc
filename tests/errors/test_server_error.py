"""A bug in a view: its test fails with the bug itself, while a user in production gets a sentence in
the site's layout, never a stack trace, and nothing the failed request began is saved."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask

import config
from app import create_app
from app.extensions import db
from app.models import User


def add_a_buggy_view(app: Flask) -> None:
    """`/bug` writes a user, then fails before it can commit."""

    @app.get("/bug")
    def bug() -> str:
        user = User(username="half-made", email="half-made@example.com")
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.flush()
        raise RuntimeError("secret internals")


@pytest.mark.own_app
def test_a_views_bug_fails_its_test_with_the_bug_itself(app, client):
    add_a_buggy_view(app)
    with pytest.raises(RuntimeError, match="secret internals"):
        client.get("/bug")


def test_in_production_a_bug_gets_the_500_page_in_the_layout_without_a_trace(monkeypatch, tmp_path):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "a-long-random-value")
    monkeypatch.setattr(config.ProductionConfig, "SMTP_ENCRYPTION_KEY", config.fernet_key())
    monkeypatch.setattr(config.ProductionConfig, "PUBLIC_BASE_URL", "https://campaigns.example.org")
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}"})
    with app.app_context():
        db.create_all()
    add_a_buggy_view(app)

    response = app.test_client().get("/bug", base_url="https://campaigns.example.org")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "Nothing was saved" in page
    assert "navbar" in page
    assert "secret internals" not in page
    assert "Traceback" not in page


@pytest.mark.own_app
@pytest.mark.usefixtures("production_errors")
def test_what_the_failed_request_began_is_not_saved_and_the_bug_is_logged_once(app, client, caplog):
    add_a_buggy_view(app)

    with caplog.at_level(logging.ERROR):
        response = client.get("/bug")

    assert response.status_code == 500
    assert db.session.scalar(sa.select(User).where(User.username == "half-made")) is None
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert "secret internals" in str(logged[0].exc_info[1])
