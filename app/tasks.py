"""Celery tasks: thin adapters from the broker to plain functions."""

from celery import shared_task


@shared_task(name="campaigns.ping")
def ping() -> str:
    """A health check a worker answers: `ping.delay().get()` or `celery call campaigns.ping`."""
    return "pong"


@shared_task(name="campaigns.dispatch")
def dispatch() -> None:
    """Beat's tick; the delivery engine fills it in."""
