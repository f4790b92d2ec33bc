"""Uploads and pastes kept on the server between the summary and the "Save" button.

The summary and the save both import the same stored bytes, so what is saved is what the user was
shown (give or take a suppression added meanwhile), and nothing the browser sends back is trusted: it
only names the upload by a random token, looked up in the current user's own folder
(`instance/uploads/<user_id>/`). An upload is deleted when it cannot be read at all, or a day later;
each user keeps at most a few, so repeated uploads cannot fill the disk. Once saved, its bytes are
deleted but its name stays, marked with the campaign it went to, so the back button or a resent "Save"
can be told what happened (until the same day's sweep removes the mark).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app

from app.address_import.limits import UploadLimits
from app.address_import.paste import parse_paste
from app.address_import.readers import read_table
from app.address_import.types import Table

MAX_AGE_SECONDS = 24 * 3600
MAX_PENDING_PER_USER = 5
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
FILE = "file"
PASTE = "paste"


@dataclass(frozen=True)
class PendingImport:
    """A stored upload (`kind` FILE) or paste (`kind` PASTE), named by `token`."""

    token: str
    filename: str
    kind: str
    path: Path
    saved_to: int | None = None
    """The campaign it was saved to: then its bytes are gone."""

    def table(self, limits: UploadLimits) -> Table:
        """The upload read as a table; raises `RecipientFileError` when it cannot be read or exceeds
        `limits`."""
        data = self.path.read_bytes()
        if self.kind == PASTE:
            return parse_paste(data.decode("utf-8"), limits)
        return read_table(data, self.filename, limits)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        _meta_path(self.path).unlink(missing_ok=True)

    def mark_saved(self, campaign_id: int) -> None:
        """Delete the bytes, keeping a note that they were saved to `campaign_id`."""
        self.path.write_bytes(b"")
        _write_meta(self.path, self.filename, self.kind, saved_to=campaign_id)


def user_folder(user_id: int) -> Path:
    return Path(current_app.instance_path) / "uploads" / str(user_id)


def keep(user_id: int, data: bytes, filename: str, kind: str) -> PendingImport:
    """Store an upload for this user, after clearing out their expired and surplus ones."""
    folder = user_folder(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    sweep(folder, keep_at_most=MAX_PENDING_PER_USER - 1)
    token = secrets.token_urlsafe(24)
    path = folder / token
    path.write_bytes(data)
    _write_meta(path, filename, kind)
    return PendingImport(token, filename, kind, path)


def find_or_404(user_id: int, token: str) -> PendingImport:
    """This user's upload named `token`; an expired, deleted, malformed or other user's token is a 404."""
    folder = user_folder(user_id)
    sweep(folder, keep_at_most=MAX_PENDING_PER_USER)
    path = folder / token
    if not TOKEN.fullmatch(token) or not path.is_file():
        abort(404)
    meta = json.loads(_meta_path(path).read_text())
    return PendingImport(token, meta["filename"], meta["kind"], path, meta.get("saved_to"))


def sweep(folder: Path, keep_at_most: int) -> None:
    """Delete uploads older than a day, then the oldest beyond `keep_at_most`."""
    if not folder.is_dir():
        return
    uploads = sorted(
        (path for path in folder.iterdir() if TOKEN.fullmatch(path.name)),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    expired = time.time() - MAX_AGE_SECONDS
    for rank, path in enumerate(uploads):
        if rank >= keep_at_most or path.stat().st_mtime < expired:
            path.unlink(missing_ok=True)
            _meta_path(path).unlink(missing_ok=True)


def _write_meta(path: Path, filename: str, kind: str, saved_to: int | None = None) -> None:
    _meta_path(path).write_text(json.dumps({"filename": filename, "kind": kind, "saved_to": saved_to}))


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")
