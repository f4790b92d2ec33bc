"""The engine's settings, read once from the app config under their environment-variable names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Paced(Protocol):
    """An SMTP account's own interval, if it set one (an `SMTPSettings` or a row of its columns)."""

    @property
    def send_interval(self) -> float | None: ...


@dataclass(frozen=True)
class EngineSettings:
    batch_size: int
    send_interval: float
    dispatch_interval: float
    dispatch_spacing: float
    rate_limit_retry: float
    reconnect_every: int
    connection_settle: float
    max_attempts: int
    retry_backoff: float
    claim_lease: float
    smtp_timeout: float
    smtp_ca_file: str = ""
    #: Connect to loopback, link-local and private addresses too (`app.sending.destinations`).
    smtp_allow_private_hosts: bool = False
    #: For each email's signed unsubscribe link (`app.sending.unsubscribe_links`).
    secret_key: str = field(default="", repr=False)
    public_base_url: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EngineSettings:
        return cls(
            batch_size=config["BATCH_SIZE"],
            send_interval=config["SEND_INTERVAL"],
            dispatch_interval=config["DISPATCH_INTERVAL"],
            dispatch_spacing=config["DISPATCH_SPACING"],
            rate_limit_retry=config["RATE_LIMIT_RETRY"],
            reconnect_every=config["RECONNECT_EVERY"],
            connection_settle=config["CONNECTION_SETTLE"],
            max_attempts=config["MAX_ATTEMPTS"],
            retry_backoff=config["RETRY_BACKOFF"],
            claim_lease=config["CLAIM_LEASE"],
            smtp_timeout=config["SMTP_TIMEOUT"],
            smtp_ca_file=config.get("SMTP_TLS_CA_FILE", ""),
            smtp_allow_private_hosts=config["SMTP_ALLOW_PRIVATE_HOSTS"],
            secret_key=config["SECRET_KEY"],
            public_base_url=config["PUBLIC_BASE_URL"],
        )

    def interval_for(self, account: Paced) -> float:
        """Seconds between two emails of this account: its own setting, else the global one."""
        return self.send_interval if account.send_interval is None else account.send_interval

    def backoff_after(self, attempts: int) -> float:
        """Seconds before the next try of an email that has failed `attempts` times (doubling)."""
        return self.retry_backoff * 2 ** max(attempts - 1, 0)
