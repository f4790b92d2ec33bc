"""The Celery entry point: `celery -A celery_worker worker` / `celery -A celery_worker beat`."""

import sys
from pathlib import Path

# Celery puts the project folder on the import path only while it loads this module, and takes it off
# again; the worker's message-building processes (app.sending.builders) start later and must import
# the app too. Appended whether or not it is there: Celery removes its own entry, not this one.
sys.path.append(str(Path(__file__).resolve().parent))

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
