"""A worker process's mailbox readers: a few threads of their own, so that reading a slow or large
mailbox never takes a thread Celery needs for beat's ticks and the hand-off of batches, and so never
delays anyone's sending. A mailbox already waiting or being read in this process is not queued again;
across processes the lease in the database (`app.mailbox.reader.take_lease`) does the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from app.mailbox.reader import ReadSettings, read_mailbox

log = logging.getLogger(__name__)


class MailboxReaders:
    def __init__(self, app: Flask, threads: int, decrypt: Callable[[bytes], str]) -> None:
        self.app = app
        self.decrypt = decrypt
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mailbox-reader")
        self.lock = threading.Lock()
        self.queued: set[int] = set()

    def submit(self, mailbox_ids: Iterable[int]) -> int:
        """Queue each mailbox not already queued here; returns how many were."""
        with self.lock:
            new = [mailbox_id for mailbox_id in mailbox_ids if mailbox_id not in self.queued]
            self.queued.update(new)
        for mailbox_id in new:
            self.pool.submit(self._read, mailbox_id)
        return len(new)

    def _read(self, mailbox_id: int) -> None:
        try:
            with self.app.app_context():
                report = read_mailbox(mailbox_id, ReadSettings.from_config(self.app.config), self.decrypt)
            log.info("mailbox %s read: %s", mailbox_id, report)
        except Exception:
            log.exception("mailbox %s could not be read", mailbox_id)
        finally:
            with self.lock:
                self.queued.discard(mailbox_id)

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
