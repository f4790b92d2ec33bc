"""Running one batch of the engine in the test's own thread, on the test's session."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.sending.batch import BatchSender
from app.sending.connection import run_sync
from app.sending.dispatcher import claim_batch
from app.sending.executors import Database, SessionDatabase
from app.sending.outcomes import BatchReport
from app.sending.settings import EngineSettings
from app.smtp_crypto import decrypt_password


def run_claimed(
    settings: EngineSettings,
    ticket: str,
    account_id: int,
    database: Database | None = None,
    **options: Any,
) -> BatchReport:
    """Send the batch claimed under `ticket` to its end, as a worker would (its transactions on the
    test's session unless `database` is given)."""
    sender = BatchSender(
        database or SessionDatabase(db.session), settings, ticket, account_id, decrypt_password, **options
    )
    return run_sync(sender.run)


def run_batch(settings: EngineSettings, account_id: int, **options: Any) -> BatchReport:
    """Claim the account's next batch and send it."""
    claim = claim_batch(db.session, settings, account_id)
    assert claim is not None
    return run_claimed(settings, claim.batch_id, account_id, **options)
