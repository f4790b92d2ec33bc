"""Secret keys the environment does not give, generated once into the instance folder.

The web processes, the worker and beat all start from the same instance folder, so the first of them to
start makes each key and every other reads it: each candidate is written whole to a private temporary
file, then hard-linked to its name, which succeeds for exactly one process (the others find the winner's
complete file). The files are readable by their owner only (0600).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask

from config import fernet_key

SECRET_KEY_FILE = "secret_key"
SMTP_ENCRYPTION_KEY_FILE = "smtp_encryption_key"


def instance_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret stored at `path`, made with `make` and stored there if there is none yet."""
    if not path.exists():
        descriptor, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(make() + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the key
        finally:
            os.unlink(candidate)
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"{path} is empty: delete it to have a new key made, or restore it from a backup.")
    return value


def fill_secret_keys(app: Flask) -> None:
    """Give SECRET_KEY and SMTP_ENCRYPTION_KEY their instance folder's values where they are blank."""
    folder = Path(app.instance_path)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret(
            folder / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48)
        )
    if not app.config["SMTP_ENCRYPTION_KEY"]:
        key = instance_secret(folder / SMTP_ENCRYPTION_KEY_FILE, fernet_key)
        try:
            Fernet(key)
        except ValueError as error:
            raise RuntimeError(f"{folder / SMTP_ENCRYPTION_KEY_FILE} does not hold a Fernet key.") from error
        app.config["SMTP_ENCRYPTION_KEY"] = key
