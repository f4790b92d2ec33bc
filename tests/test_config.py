import importlib
from pathlib import Path

import pytest

import config
from app import create_app


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+psycopg2://u:p@db:5432/app"),
        ("postgresql://u@db/app", "postgresql+psycopg2://u@db/app"),
        ("sqlite:////tmp/app.db", "sqlite:////tmp/app.db"),
    ],
)
def test_database_url_from_the_environment_is_fixed_for_sqlalchemy(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config.database_url("sqlite://") == expected


def test_every_engine_setting_is_read_from_the_environment(monkeypatch):
    names = {
        "BATCH_SIZE": "7",
        "SEND_INTERVAL": "0.25",
        "DISPATCH_INTERVAL": "2",
        "DISPATCH_SPACING": "0",
        "RATE_LIMIT_RETRY": "5",
        "RECONNECT_EVERY": "3",
        "CONNECTION_SETTLE": "0",
        "MAX_ATTEMPTS": "2",
        "RETRY_BACKOFF": "1",
        "CLAIM_LEASE": "9",
        "SMTP_TIMEOUT": "4",
        "CELERY_CONCURRENCY": "2",
        "MAX_UPLOAD_MB": "3",
        "MAX_RECIPIENTS": "10",
    }
    for name, value in names.items():
        monkeypatch.setenv(name, value)
    try:
        reloaded = importlib.reload(config)
        for name, value in names.items():
            assert getattr(reloaded.Config, name) == type(getattr(reloaded.Config, name))(value), name
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def production_keys(monkeypatch):
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "a-long-random-value")
    monkeypatch.setattr(config.ProductionConfig, "SMTP_ENCRYPTION_KEY", config.fernet_key())


def test_production_refuses_to_start_without_its_keys_in_the_environment(monkeypatch):
    assert config.ProductionConfig.SECRET_KEY == ""
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        config.ProductionConfig.check()
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "a-long-random-value")
    with pytest.raises(RuntimeError, match="SMTP_ENCRYPTION_KEY must be set"):
        config.ProductionConfig.check()


def test_production_starts_with_a_real_secret_key(monkeypatch):
    production_keys(monkeypatch)
    monkeypatch.setattr(config.ProductionConfig, "PUBLIC_BASE_URL", "https://campaigns.example.org")
    config.ProductionConfig.check()
    assert config.ProductionConfig.SESSION_COOKIE_SECURE is True


def test_unknown_environment_name_is_a_clear_error():
    with pytest.raises(RuntimeError, match="APP_ENV must be one of"):
        config.config_for("staging")


def test_redis_broker_gets_a_visibility_timeout_longer_than_a_batch():
    settings = config.celery_settings("redis://127.0.0.1:6379/0", config.instance_path(), 420)
    assert settings["broker_transport_options"]["visibility_timeout"] > 420
    assert settings["result_backend_transport_options"] == settings["broker_transport_options"]
    assert settings["task_acks_late"]
    assert settings["task_reject_on_worker_lost"]
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["broker_transport"] is None, "Redis must not inherit the embedded broker's transport"


def test_production_refuses_an_unsubscribe_link_base_that_is_not_https(monkeypatch):
    production_keys(monkeypatch)
    assert config.ProductionConfig.PUBLIC_BASE_URL.startswith("http://")
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        config.ProductionConfig.check()


def test_importing_the_settings_creates_no_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    try:
        importlib.reload(config)
        assert list(tmp_path.iterdir()) == []
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_settings_derived_from_others_follow_the_overrides_given_to_create_app():
    overrides = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "BATCH_SIZE": 500,
        "SEND_INTERVAL": 60,
        "CLAIM_LEASE": 20,
        "MAX_UPLOAD_MB": 3,
    }
    app = create_app("testing", overrides)
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    celery = app.config["CELERY"]
    assert celery["broker_url"] == "redis://127.0.0.1:6379/0"
    assert celery["broker_transport_options"]["visibility_timeout"] == (20 + 500 * 60) * 3
    assert app.extensions["celery"].conf.broker_transport_options == celery["broker_transport_options"]


def test_the_embedded_broker_lives_in_the_apps_instance_folder():
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "CELERY_BROKER_URL": "filesystem://"}
    )
    options = app.config["CELERY"]["broker_transport_options"]
    assert options["data_folder_in"] == str(Path(app.instance_path) / "broker" / "queue")
    assert options["control_folder"] == str(Path(app.instance_path) / "broker" / "control")


def test_a_celery_dict_given_whole_is_kept_as_given(tmp_path):
    given = config.celery_settings("filesystem://", tmp_path, 60)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "CELERY": given, "BATCH_SIZE": 500})
    assert app.config["CELERY"] == given
