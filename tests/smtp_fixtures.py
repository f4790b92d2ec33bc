"""Fixtures for tests that talk SMTP: a scriptable aiosmtpd server on loopback (see tests/smtp_sink.py)."""
