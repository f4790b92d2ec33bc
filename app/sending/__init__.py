"""The delivery engine: plain Python, testable without Celery or Flask routes (DESIGN.md)."""
