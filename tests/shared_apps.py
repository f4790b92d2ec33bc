"""One app per settings for the run's in-process tests, lent to each test as if it were new.

An app a test builds and drops cost the quick tests a third of their time: `create_app` itself,
SQLAlchemy compiling every statement again for each new engine, and the garbage collector walking every
dropped app's objects (tens of thousands each) until it could free them. A test that sends requests and
reads the database cannot tell a lent app from a new one once `lend` has put the app's settings and
extensions back as they were built, pointed its instance folder at the test's own, made its Celery app
the current one and set the render limits its settings name (`create_app` sets those for the process);
the `app` fixture empties its database. Tests that change the app itself (add a view) or start real
processes, which read the test's own broker folder, build an app of their own (`needs_own_app`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.sending import sandbox

#: Marks of tests that get an app of their own.
OWN_APP_MARKS = ("own_app", "processes", "browser")


def needs_own_app(request: pytest.FixtureRequest) -> bool:
    return any(request.node.get_closest_marker(mark) for mark in OWN_APP_MARKS)


@dataclass
class _Lendable:
    """An app with its settings and extensions as built (a test may change either: `init_throttle`)."""

    app: Flask
    settings: dict[str, Any]
    extensions: dict[str, Any]


class SharedApps:
    """The apps of this process, by database and settings; the least recently lent is dropped past `size`."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._apps: OrderedDict[str, _Lendable] = OrderedDict()

    def lend(self, key: str, build: Callable[[], Flask], instance: Path) -> Flask:
        lendable = self._apps.pop(key, None)
        if lendable is None:
            app = build()
            lendable = _Lendable(app, dict(app.config), dict(app.extensions))
        self._apps[key] = lendable
        if len(self._apps) > self.size:
            _, dropped = self._apps.popitem(last=False)
            with dropped.app.app_context():
                db.engine.dispose()
        app = lendable.app
        app.config.clear()
        app.config.update(lendable.settings)
        app.extensions.clear()
        app.extensions.update(lendable.extensions)
        app.instance_path = str(instance)
        instance.mkdir(parents=True, exist_ok=True)
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()
        sandbox.configure(sandbox.RenderLimits.from_config(app.config))
        return app


shared_apps = SharedApps()
