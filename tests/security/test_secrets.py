"""The default run signs nothing with a published key: keys are made at random into the instance folder
(shared by web, worker and beat), the SMTP passwords get a key of their own, and passwords saved by
earlier versions under the key they derived from SECRET_KEY still open until rotated."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask_login.utils import encode_cookie

import config
from app import create_app
from app.extensions import db
from app.instance_secrets import SECRET_KEY_FILE, SMTP_ENCRYPTION_KEY_FILE, fill_secret_keys, instance_secret
from app.models import SMTPSettings
from app.smtp_crypto import decrypt_password, derived_key, encrypt_password
from config import PUBLISHED_SECRET_KEY
from tests.processes import ROOT

PROCESSES = 16


def fresh_app(folder: Path) -> Flask:
    folder.mkdir(exist_ok=True)
    app = Flask("instance-test", instance_path=str(folder))
    app.config.update(SECRET_KEY="", SMTP_ENCRYPTION_KEY="")
    fill_secret_keys(app)
    return app


def test_a_fresh_instance_gets_random_keys_readable_by_its_owner_only(tmp_path):
    first, second = fresh_app(tmp_path / "one"), fresh_app(tmp_path / "two")
    for app in (first, second):
        folder = Path(app.instance_path)
        for name in (SECRET_KEY_FILE, SMTP_ENCRYPTION_KEY_FILE):
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        assert len(app.config["SECRET_KEY"]) >= 48
        Fernet(app.config["SMTP_ENCRYPTION_KEY"])
        assert app.config["SECRET_KEY"] != PUBLISHED_SECRET_KEY
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert first.config["SMTP_ENCRYPTION_KEY"] != second.config["SMTP_ENCRYPTION_KEY"]
    again = fresh_app(tmp_path / "one").config
    assert [again["SECRET_KEY"], again["SMTP_ENCRYPTION_KEY"]] == [
        first.config["SECRET_KEY"],
        first.config["SMTP_ENCRYPTION_KEY"],
    ], "a restart reads the same keys"


def _race(path: str, start: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    start.wait()
    results.put(instance_secret(Path(path), lambda: os.urandom(16).hex()))


@pytest.mark.processes
def test_processes_starting_at_once_all_get_the_same_key(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(PROCESSES), context.Queue()
    racers = [
        context.Process(target=_race, args=(str(folder / "secret_key"), start, results))
        for _ in range(PROCESSES)
    ]
    for racer in racers:
        racer.start()
    keys = [results.get(timeout=30) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
    assert len(set(keys)) == 1
    assert keys[0]
    assert [path.name for path in folder.iterdir()] == ["secret_key"], "no temporary file is left behind"


KEYS_OF_A_PROCESS = """
import hashlib, json
from app import create_app
app = create_app()
print(json.dumps({name: hashlib.sha256(app.config[name].encode()).hexdigest()
                  for name in ("SECRET_KEY", "SMTP_ENCRYPTION_KEY")}))
"""


@pytest.mark.processes
def test_web_worker_and_beat_started_together_agree_on_the_keys(tmp_path):
    """Three real processes of the default run (development settings, no key in the environment)."""
    folder = tmp_path / "instance"
    env = {
        name: value for name, value in os.environ.items() if name not in ("SECRET_KEY", "SMTP_ENCRYPTION_KEY")
    }
    env.update(
        APP_ENV="development", INSTANCE_PATH=str(folder), DATABASE_URL=f"sqlite:///{folder / 'app.db'}"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", KEYS_OF_A_PROCESS], cwd=ROOT, env=env, stdout=subprocess.PIPE)
        for _ in ("web", "worker", "beat")
    ]
    answers = [json.loads(process.communicate(timeout=120)[0]) for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert answers[0] == answers[1] == answers[2]
    stored = (folder / SECRET_KEY_FILE).read_text().strip()
    assert answers[0]["SECRET_KEY"] == hashlib.sha256(stored.encode()).hexdigest()


@pytest.fixture
def default_run(monkeypatch, tmp_path, database_url) -> Flask:
    """The app as `make run` starts it: development settings, no key in the environment."""
    monkeypatch.setattr(config.DevelopmentConfig, "INSTANCE_PATH", tmp_path / "instance")
    monkeypatch.setattr(config.DevelopmentConfig, "SECRET_KEY", "")
    monkeypatch.setattr(config.DevelopmentConfig, "SMTP_ENCRYPTION_KEY", "")
    return create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CELERY": config.celery_settings("filesystem://", tmp_path, 60),
        },
    )


def test_a_cookie_signed_with_the_published_key_opens_nothing(default_run, make_user):
    user = make_user("asha")
    forger = Flask("forger")
    forger.secret_key = PUBLISHED_SECRET_KEY
    forged = forger.session_interface.get_signing_serializer(forger)
    client = default_run.test_client()
    for user_id in (str(user.id), user.get_id()):  # even knowing the user's session token
        client.set_cookie("session", forged.dumps({"_user_id": user_id, "_fresh": True}))
        assert client.get("/settings/").status_code == 302, user_id
    client = default_run.test_client()
    client.set_cookie("remember_token", encode_cookie(user.get_id(), key=PUBLISHED_SECRET_KEY))
    assert client.get("/settings/").status_code == 302


@pytest.mark.parametrize("config_class", list(config.CONFIGS.values()), ids=list(config.CONFIGS))
def test_no_settings_class_ships_the_published_key(config_class):
    assert config_class.SECRET_KEY != PUBLISHED_SECRET_KEY


def test_the_published_key_in_the_environment_refuses_to_start(monkeypatch):
    monkeypatch.setattr(config.DevelopmentConfig, "SECRET_KEY", PUBLISHED_SECRET_KEY)
    with pytest.raises(RuntimeError, match="published"):
        create_app("development")


def test_the_smtp_key_is_not_derived_from_the_secret_key(app):
    token = encrypt_password("pw-Plaintext-7731")
    with pytest.raises(InvalidToken):
        Fernet(derived_key(app.config["SECRET_KEY"])).decrypt(token)
    assert Fernet(app.config["SMTP_ENCRYPTION_KEY"]).decrypt(token) == b"pw-Plaintext-7731"


@pytest.mark.parametrize("old_secret_key", [PUBLISHED_SECRET_KEY, "an-operators-own-secret"])
def test_passwords_saved_by_an_earlier_version_still_open_and_rotate_to_the_new_key(
    app, make_user, old_secret_key
):
    """An instance upgraded from a version that derived the SMTP key from SECRET_KEY (the published
    default in a default run, the operator's own in production) keeps sending; `flask rotate-smtp-key`
    moves its passwords to the installation's own key."""
    app.config["SECRET_KEY"] = old_secret_key
    account = SMTPSettings(
        user_id=make_user().id,
        host="smtp.example.com",
        username="asha@example.com",
        from_address="asha@example.com",
        password_encrypted=Fernet(derived_key(old_secret_key)).encrypt(b"saved-long-ago"),
    )
    db.session.add(account)
    db.session.commit()
    assert decrypt_password(account.password_encrypted) == "saved-long-ago"

    result = app.test_cli_runner().invoke(args=["rotate-smtp-key"])
    assert result.exit_code == 0
    assert "Re-encrypted 1 SMTP password(s)" in result.output
    db.session.expire_all()
    rotated = db.session.get(SMTPSettings, account.id).password_encrypted
    assert Fernet(app.config["SMTP_ENCRYPTION_KEY"]).decrypt(rotated) == b"saved-long-ago"
