"""Alembic migrations; run with `dom migrate`."""
