"""Settings for every environment.

Each setting's name is also the name of the environment variable that overrides it, so operators,
tests and worker processes tune the app through one vocabulary (see README's configuration table).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

BASE_DIR = Path(__file__).resolve().parent
#: The development key earlier versions shipped: published, so it signs nothing anywhere.
PUBLISHED_SECRET_KEY = "dev-secret-key-change-me"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def fernet_key() -> str:
    """A new random key in Fernet's format (what `Fernet.generate_key()` makes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def instance_path() -> Path:
    """Where the embedded database, broker folders and beat schedule live."""
    return Path(env_str("INSTANCE_PATH", str(BASE_DIR / "instance"))).resolve()


def normalise_database_url(url: str) -> str:
    """Heroku-style `postgres://` and plain `postgresql://` both mean our driver, psycopg2.

    (SQLAlchemy 2.1 would otherwise pick psycopg 3, which is not installed.)
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def database_url(default: str) -> str:
    return normalise_database_url(env_str("DATABASE_URL", default))


def celery_settings(broker_url: str, instance: Path, lease_seconds: float) -> dict[str, Any]:
    """Celery's own settings (Flask's Celery pattern keeps them in one `CELERY` dict).

    With no broker server the embedded filesystem transport is used (it makes its folders itself when a
    worker or producer connects: app.filesystem_broker). With Redis, the visibility timeout must outlast
    the longest batch, or Redis would hand an unfinished batch to a second worker.
    """
    settings: dict[str, Any] = {
        "broker_url": broker_url,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "worker_soft_shutdown_timeout": env_float("CELERY_SOFT_SHUTDOWN_TIMEOUT", 30.0),
        "worker_hijack_root_logger": False,
    }
    if broker_url.startswith("filesystem://"):
        queue = instance / "broker" / "queue"
        control = instance / "broker" / "control"
        settings["broker_transport"] = "app.filesystem_broker:Transport"
        settings["broker_transport_options"] = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
            "polling_interval": env_float("CELERY_POLLING_INTERVAL", 0.1),
        }
    else:
        settings["broker_transport"] = None  # the URL's own transport (Redis)
        visibility = {"visibility_timeout": int(lease_seconds * 3)}
        settings["broker_transport_options"] = visibility
        settings["result_backend_transport_options"] = visibility
    return settings


def derived_settings(settings: Mapping[str, Any], instance: Path) -> dict[str, Any]:
    """Settings computed from others, once every override is in (`create_app`), so none goes stale.

    A `CELERY` given explicitly is kept as it is: its caller chose Celery's settings whole.
    """
    derived: dict[str, Any] = {"MAX_CONTENT_LENGTH": settings["MAX_UPLOAD_MB"] * 1024 * 1024}
    if "CELERY" not in settings:
        longest_batch = settings["CLAIM_LEASE"] + settings["BATCH_SIZE"] * settings["SEND_INTERVAL"]
        derived["CELERY"] = celery_settings(settings["CELERY_BROKER_URL"], instance, longest_batch)
    return derived


class Config:
    """Development defaults: SQLite and the filesystem broker under `instance/`."""

    INSTANCE_PATH = instance_path()
    #: Blank: generated at random into instance/ on first start and shared by web, worker and beat
    #: (app.instance_secrets). Production requires both keys from the environment.
    SECRET_KEY = env_str("SECRET_KEY", "")
    SMTP_ENCRYPTION_KEY = env_str("SMTP_ENCRYPTION_KEY", "")
    SQLALCHEMY_DATABASE_URI = database_url(f"sqlite:///{INSTANCE_PATH / 'app.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
    REDIS_URL = env_str("REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
    #: Where log-in and sign-up budgets are counted: Redis when there is one, else the app's database,
    #: so every web process shares one count (app.throttle).
    RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", REDIS_URL)
    LOGIN_RATE_LIMIT = env_str("LOGIN_RATE_LIMIT", "5 per minute")
    LOGIN_RATE_LIMIT_PER_IP = env_str("LOGIN_RATE_LIMIT_PER_IP", "20 per minute")
    SIGNUP_RATE_LIMIT_PER_IP = env_str("SIGNUP_RATE_LIMIT_PER_IP", "10 per hour")
    #: A list's public sign-up form (app.signup): posts one client address, and one list, may make.
    LIST_SIGNUP_RATE_LIMIT_PER_IP = env_str("LIST_SIGNUP_RATE_LIMIT_PER_IP", "10 per hour")
    LIST_SIGNUP_RATE_LIMIT_PER_LIST = env_str("LIST_SIGNUP_RATE_LIMIT_PER_LIST", "200 per hour")
    #: One confirmation email per address per list per this many minutes, however often it signs up.
    SIGNUP_RESEND_MINUTES = env_int("SIGNUP_RESEND_MINUTES", 10)
    #: How long a confirmation link works.
    SIGNUP_CONFIRMATION_DAYS = env_int("SIGNUP_CONFIRMATION_DAYS", 7)
    #: Addresses or networks of the reverse proxies whose X-Forwarded-* headers are believed (app.proxies).
    TRUSTED_PROXIES = env_str("TRUSTED_PROXIES", "")
    SMTP_TLS_CA_FILE = env_str("SMTP_TLS_CA_FILE", "")
    #: Let users' SMTP hosts be loopback, link-local or private addresses (a relay on this machine or
    #: network); off, the app connects only to public addresses (app/sending/destinations.py).
    SMTP_ALLOW_PRIVATE_HOSTS = env_bool("SMTP_ALLOW_PRIVATE_HOSTS", False)
    PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    DEFAULT_TIMEZONE = env_str("DEFAULT_TIMEZONE", "Asia/Kolkata")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    #: "Remember me" keeps a log-in this many days after its last use; no session cookie is accepted
    #: longer than that after it was last issued (app.auth.sessions).
    REMEMBER_ME_DAYS = env_int("REMEMBER_ME_DAYS", 14)
    PERMANENT_SESSION_LIFETIME = timedelta(days=REMEMBER_ME_DAYS)
    PASSWORD_HASH_METHOD = env_str("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
    PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 10)
    WTF_CSRF_TIME_LIMIT = None
    #: Strict-Transport-Security's max-age on HTTPS responses (a year); 0 sends no such header.
    HSTS_MAX_AGE = env_int("HSTS_MAX_AGE", 31_536_000)

    #: Flask's MAX_CONTENT_LENGTH is derived from it (derived_settings).
    MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 20)
    MAX_RECIPIENTS = env_int("MAX_RECIPIENTS", 200_000)
    # What one upload or paste may hold, checked before it is parsed (app.address_import.limits).
    MAX_COLUMNS = env_int("MAX_COLUMNS", 1_000)
    MAX_ROW_CHARS = env_int("MAX_ROW_CHARS", 100_000)
    MAX_CELLS = env_int("MAX_CELLS", 2_000_000)
    MAX_UNPACKED_MB = env_int("MAX_UNPACKED_MB", 100)
    MAX_SHARED_STRINGS_MB = env_int("MAX_SHARED_STRINGS_MB", 50)
    #: A user's template (subject, HTML, text): CPU seconds one part may take to render, and characters it
    #: may make (docs/security.md, "Templates").
    RENDER_TIME_LIMIT = env_float("RENDER_TIME_LIMIT", 0.2)
    RENDER_SIZE_LIMIT = env_int("RENDER_SIZE_LIMIT", 2_000_000)
    #: An Excel export is built in the request; a bigger list is offered as (streamed) CSV instead.
    XLSX_EXPORT_MAX_ROWS = env_int("XLSX_EXPORT_MAX_ROWS", 100_000)

    # The delivery engine (docs/engine.md). Seconds unless said otherwise.
    BATCH_SIZE = env_int("BATCH_SIZE", 20)
    SEND_INTERVAL = env_float("SEND_INTERVAL", 15.0)
    DISPATCH_INTERVAL = env_float("DISPATCH_INTERVAL", 10.0)
    DISPATCH_SPACING = env_float("DISPATCH_SPACING", 1.0)
    RATE_LIMIT_RETRY = env_float("RATE_LIMIT_RETRY", 3600.0)
    RECONNECT_EVERY = env_int("RECONNECT_EVERY", 200)
    CONNECTION_SETTLE = env_float("CONNECTION_SETTLE", 0.5)
    MAX_ATTEMPTS = env_int("MAX_ATTEMPTS", 5)
    RETRY_BACKOFF = env_float("RETRY_BACKOFF", 60.0)
    #: A worker's heartbeat refreshes its claims every quarter lease; a claim older is a dead worker's.
    CLAIM_LEASE = env_float("CLAIM_LEASE", 20.0)
    SMTP_TIMEOUT = env_float("SMTP_TIMEOUT", 30.0)
    #: Threads of a worker that take tasks (beat's ticks, hand-offs of batches); not how many accounts it
    #: serves, which is every account handed to it (app.sending.service).
    CELERY_CONCURRENCY = env_int("CELERY_CONCURRENCY", 2)
    #: Database connections (and threads) of one worker process's sender, whatever the accounts served.
    SENDER_DB_CONNECTIONS = env_int("SENDER_DB_CONNECTIONS", 4)
    #: Threads that build messages (render templates) for one worker process's sender.
    SENDER_BUILD_THREADS = env_int("SENDER_BUILD_THREADS", 4)
    #: Emails of a campaign sent to lists and segments written per task, after it is scheduled: one
    #: transaction each, so a worker is never held long and other users' sends go on between chunks.
    EMAIL_CHUNK_SIZE = env_int("EMAIL_CHUNK_SIZE", 10_000)
    #: A campaign whose emails have not moved on for this long lost its writing task: beat restarts it.
    EMAIL_CHUNK_LEASE = env_float("EMAIL_CHUNK_LEASE", 60.0)

    # The mailbox reader (docs/mailbox.md). Seconds unless said otherwise.
    #: How often beat asks for every enabled mailbox to be read.
    MAILBOX_READ_INTERVAL = env_float("MAILBOX_READ_INTERVAL", 300.0)
    #: Messages (UIDs) whose headers one fetch takes; the folder's place commits after each.
    MAILBOX_CHUNK = env_int("MAILBOX_CHUNK", 500)
    MAILBOX_TIMEOUT = env_float("MAILBOX_TIMEOUT", 30.0)
    #: A read stops after this long and goes on from there in the next cycle.
    MAILBOX_READ_TIME_LIMIT = env_float("MAILBOX_READ_TIME_LIMIT", 240.0)
    #: Soft bounces (a full mailbox, a delay given up on) of one address before it is suppressed.
    MAILBOX_SOFT_BOUNCE_LIMIT = env_int("MAILBOX_SOFT_BOUNCE_LIMIT", 3)
    #: Threads of a worker process that read mailboxes (apart from those that take tasks and send).
    MAILBOX_READERS = env_int("MAILBOX_READERS", 2)

    @classmethod
    def check(cls) -> None:
        """Refuse settings that would be unsafe in this environment."""
        if cls.SECRET_KEY == PUBLISHED_SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is the development key earlier versions published: unset it (a random one is "
                "then kept in the instance folder) or set a long random value."
            )


class DevelopmentConfig(Config):
    DEBUG = env_bool("FLASK_DEBUG", False)


class TestingConfig(Config):
    """Keys of the test process's own, never written: the tests pass them to the processes they start."""

    TESTING = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    #: The tests' SMTP sinks listen on loopback; tests/security/test_outbound.py turns this off.
    SMTP_ALLOW_PRIVATE_HOSTS = True
    SECRET_KEY = env_str("SECRET_KEY", secrets.token_urlsafe(32))
    SMTP_ENCRYPTION_KEY = env_str("SMTP_ENCRYPTION_KEY", fernet_key())


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def check(cls) -> None:
        """Refuse to start production without its keys in the environment (its processes may run on
        several hosts, which share no instance folder), or with unsubscribe links that mailbox providers
        would not honour (Gmail and Yahoo require an HTTPS one-click link)."""
        super().check()
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set to a long random value in production "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if not cls.SMTP_ENCRYPTION_KEY:
            raise RuntimeError(
                "SMTP_ENCRYPTION_KEY must be set in production (python3 -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'), then run `flask rotate-smtp-key` once."
            )
        if not cls.PUBLIC_BASE_URL.startswith("https://"):
            raise RuntimeError("PUBLIC_BASE_URL must be the app's https:// address in production.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The settings class named by `name` or by `APP_ENV` (default development)."""
    key = (name or env_str("APP_ENV", "development")).lower()
    if key not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {key!r}.")
    return CONFIGS[key]
