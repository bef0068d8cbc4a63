"""Requests made safe to retry with an `Idempotency-Key`.

The first request with a key claims it; a retry with the same key and body gets the first
response back, one with another body is refused (422), and one that arrives while the first is
still running is told so (409) instead of running twice. Keys belong to the API key that sent
them and are kept for a day. A request that fails gives its key back, so a retry runs it again
(a failed request has written nothing). A claim left by a process that died is taken over after
`ABANDONED_AFTER`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from dom.adapters.database import writing
from dom.adapters.tables import idempotent_requests as table
from dom.domain.access import Principal
from dom.domain.errors import Conflict, InvalidField

KEPT = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
HEADER = "Idempotency-Key"


class RequestInFlight(Conflict):
    code = "request_in_flight"
    title = "The first request with this idempotency key is still running"


class KeyReused(InvalidField):
    code = "idempotency_key_reused"
    title = "Idempotency key reused with another request"

    def __init__(self, key: str) -> None:
        super().__init__(HEADER, f"{key!r} was used for a different request")


@dataclass(frozen=True)
class Stored:
    """The response the first request with a key got."""

    status_code: int
    body: Any


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 200 or not key.isprintable() or not key.isascii():
        raise InvalidField(HEADER, "must be 1 to 200 printable ASCII characters")


def claim(
    engine: Engine, principal: Principal, key: str, print_: str, now: datetime | None = None
) -> Stored | None:
    """Claim `key` for a request with body fingerprint `print_`: None if the caller is to run it,
    or the response to replay."""
    check_key(key)
    moment = now or datetime.now(UTC)
    for attempt in range(2):
        try:
            return _claim_once(engine, principal, key, print_, moment)
        except IntegrityError:  # another request inserted the claim first: look again
            if attempt:
                raise
    raise AssertionError("unreachable")


def _claim_once(
    engine: Engine, principal: Principal, key: str, print_: str, now: datetime
) -> Stored | None:
    mine = (table.c.key_id == principal.key_id) & (table.c.idempotency_key == key)
    with writing(engine) as connection:
        connection.execute(delete(table).where(table.c.created_at <= now - KEPT))
        query = select(table).where(mine)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            connection.execute(
                insert(table).values(
                    key_id=principal.key_id,
                    idempotency_key=key,
                    fingerprint=print_,
                    claimed_at=now,
                    created_at=now,
                )
            )
            return None
        if row.fingerprint != print_:
            raise KeyReused(key)
        if row.status_code is not None:
            return Stored(row.status_code, row.response)
        if row.claimed_at > now - ABANDONED_AFTER:
            raise RequestInFlight(
                f"a request with idempotency key {key!r} is still running; retry after it ends"
            )
        connection.execute(update(table).where(mine).values(claimed_at=now))
        return None


def complete(engine: Engine, principal: Principal, key: str, status_code: int, body: Any) -> None:
    """Keep the response of a claimed request for its retries."""
    mine = (table.c.key_id == principal.key_id) & (table.c.idempotency_key == key)
    with writing(engine) as connection:
        connection.execute(update(table).where(mine).values(status_code=status_code, response=body))


def give_back(engine: Engine, principal: Principal, key: str) -> None:
    """The claimed request failed and wrote nothing: a retry may run it."""
    mine = (table.c.key_id == principal.key_id) & (table.c.idempotency_key == key)
    with writing(engine) as connection:
        connection.execute(delete(table).where(mine, table.c.status_code.is_(None)))
