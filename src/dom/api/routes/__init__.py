"""Routers by bounded context."""
