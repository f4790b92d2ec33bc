"""The application factory: wiring only; each area lives in its own blueprint package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from config import config_for, derived_settings


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    settings = config_for(config_name)
    settings.check()
    instance_path = (overrides or {}).get("INSTANCE_PATH", settings.INSTANCE_PATH)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.from_object(settings)
    app.config.update(overrides or {})
    app.config.update(derived_settings(app.config, Path(app.instance_path)))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from app.bounds import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added: every <int:id> is bounded

    from app.sending import sandbox

    sandbox.configure(sandbox.RenderLimits.from_config(app.config))

    from app.database import configure_sqlite
    from app.extensions import csrf, db, login_manager, migrate
    from app.instance_secrets import fill_secret_keys
    from app.proxies import trust_proxies
    from app.throttle import init_throttle

    fill_secret_keys(app)
    # Flask's documented way to add WSGI middleware; its types declare wsgi_app a method.
    app.wsgi_app = trust_proxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    init_throttle(app)

    from app import (
        audiences,
        auth,
        campaigns,
        dashboard,
        errors,
        favicon,
        security_headers,
        signup,
        suppressions,
        unsubscribe,
    )
    from app import settings as settings_area
    from app.celery_app import celery_init_app
    from app.templating import register_template_helpers

    areas = (auth, dashboard, campaigns, audiences, settings_area, suppressions, unsubscribe, signup, errors)
    for area in areas:
        app.register_blueprint(area.bp)
    register_template_helpers(app)
    security_headers.init_app(app)
    favicon.init_app(app)
    celery_init_app(app)
    return app
