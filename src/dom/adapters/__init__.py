"""Adapters to the outside world: the database, the ZIP code directory."""
