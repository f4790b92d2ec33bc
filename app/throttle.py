"""Budgets of attempts (log-ins, sign-ups) that hold under concurrency and across web processes.

An attempt is paid for before the work it guards (checking a password), with one atomic increment per
budget: of 16 simultaneous attempts against a budget of 5, exactly 5 get through, whichever processes
serve them. A successful log-in gets its attempt back, so only failures use a budget up.

The counts live in Redis when `RATELIMIT_STORAGE_URI` names one (any `limits` storage URI works), else in
the app's database (app.throttle_storage), never in one process's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.extensions import db
from app.throttle_storage import DatabaseStorage


@dataclass(frozen=True)
class Budget:
    """So many attempts per window (`limit`, e.g. "5 per minute") for one thing (`key`)."""

    limit: RateLimitItem
    key: str

    @classmethod
    def of(cls, setting: str, key: str) -> Budget:
        return cls(parse(current_app.config[setting]), key)


class Throttle:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)

    def spend(self, *budgets: Budget) -> bool:
        """Take one attempt from each budget; if any is used up, take none and answer False."""
        taken: list[Budget] = []
        for budget in budgets:
            taken.append(budget)
            if not self.limiter.hit(budget.limit, budget.key):
                self.refund(*taken)
                return False
        return True

    def refund(self, *budgets: Budget) -> None:
        """Give back an attempt taken by `spend`."""
        for budget in budgets:
            self.storage.incr(budget.limit.key_for(budget.key), budget.limit.get_expiry(), amount=-1)


def init_throttle(app: Flask) -> None:
    uri = app.config["RATELIMIT_STORAGE_URI"]
    storage = storage_from_string(uri) if uri else DatabaseStorage(db.session)
    assert isinstance(storage, Storage), "RATELIMIT_STORAGE_URI names a synchronous storage"
    app.extensions["throttle"] = Throttle(storage)


def throttle() -> Throttle:
    return current_app.extensions["throttle"]
