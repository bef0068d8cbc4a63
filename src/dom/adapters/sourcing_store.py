"""Routing decisions in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dom.adapters.tables import sourcing_decisions

_INSERT_DECISION = insert(sourcing_decisions)  # built once: every routed order runs it


def insert_decision(connection: Connection, row: dict[str, Any]) -> None:
    connection.execute(_INSERT_DECISION, row)


def get_decision(connection: Connection, decision_id: str) -> Any:
    query = select(sourcing_decisions).where(sourcing_decisions.c.id == decision_id)
    return connection.execute(query).first()


def lock_decision(connection: Connection, decision_id: str) -> Any:
    query = select(sourcing_decisions).where(sourcing_decisions.c.id == decision_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return connection.execute(query).first()


def mark_released(connection: Connection, decision_id: str, now: datetime) -> None:
    connection.execute(
        update(sourcing_decisions)
        .where(sourcing_decisions.c.id == decision_id)
        .values(committed=False, released_at=now)
    )


def update_decision(connection: Connection, decision_id: str, values: dict[str, Any]) -> None:
    connection.execute(
        update(sourcing_decisions).where(sourcing_decisions.c.id == decision_id).values(**values)
    )
