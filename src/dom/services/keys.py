"""API keys: created with a secret shown once, stored as a SHA-256 hash, revocable.

The secret is 32 random bytes, so a plain SHA-256 is enough: there is nothing to brute-force,
and verifying stays cheap on every request (unlike a password hash such as bcrypt).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from dom.adapters.database import reading, writing
from dom.adapters.repositories import get_node
from dom.adapters.tables import api_keys
from dom.domain.access import Principal, Role
from dom.domain.errors import InvalidField, NotFound, Unauthenticated

PREFIX = "dom"

#: How long a process trusts a key it has verified without asking the database again. A key
#: revoked through this process stops at once; one revoked by another process (a second
#: `dom serve` worker, `dom keys revoke`) stops within this many seconds.
TRUST_SECONDS = 2.0
_TRUSTED_MAX = 1_000


@dataclass(frozen=True)
class IssuedKey:
    principal: Principal
    token: str  # shown once, never stored


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    role: Role
    node_id: str | None
    channel: str | None
    created_at: datetime
    revoked_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    engine: Engine, name: str, role: Role, *, node_id: str | None = None, channel: str | None = None
) -> IssuedKey:
    """Issue a key; a node key names its node, a channel key its channel."""
    if not name.strip():
        raise InvalidField("name", "is required")
    if role is Role.NODE and not node_id:
        raise InvalidField("node_id", "a node key must name its node")
    if role is Role.CHANNEL and not channel:
        raise InvalidField("channel", "a channel key must name its channel")
    if role is not Role.NODE and node_id:
        raise InvalidField("node_id", "only node keys name a node")
    if role is not Role.CHANNEL and channel:
        raise InvalidField("channel", "only channel keys name a channel")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with writing(engine) as connection:
        if node_id is not None and get_node(connection, node_id) is None:
            raise NotFound("node", node_id)
        connection.execute(
            api_keys.insert().values(
                id=key_id,
                name=name.strip(),
                role=role.value,
                node_id=node_id,
                channel=channel,
                secret_hash=_hash(secret),
                created_at=datetime.now(UTC),
            )
        )
    principal = Principal(key_id, name.strip(), role, node_id, channel)
    return IssuedKey(principal, f"{PREFIX}_{key_id}_{secret}")


def authenticate(engine: Engine, token: str | None) -> Principal:
    """The principal behind a token, or Unauthenticated for a missing, unknown or revoked key."""
    if not token:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthenticated("the API key is malformed")
    _, key_id, secret = parts
    with reading(engine) as connection:
        row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        raise Unauthenticated("the API key is not valid")
    if row.revoked_at is not None:
        raise Unauthenticated("the API key was revoked")
    return Principal(row.id, row.name, Role(row.role), row.node_id, row.channel)


class _Trusted:
    """Keys this process verified lately, per engine: token hash → (principal, when to ask
    again). Forgetting bumps a generation, so a verification still in flight when a key is
    revoked is not remembered."""

    def __init__(self) -> None:
        self._found: weakref.WeakKeyDictionary[Engine, dict[str, tuple[Principal, float]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, engine: Engine, token_hash: str) -> Principal | None:
        found = self._found.get(engine, {}).get(token_hash)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def put(self, engine: Engine, token_hash: str, principal: Principal, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            found = self._found.setdefault(engine, {})
            if len(found) >= _TRUSTED_MAX:
                found.clear()
            found[token_hash] = (principal, time.monotonic() + TRUST_SECONDS)

    def forget_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._found.clear()


_trusted = _Trusted()


def recently_verified(engine: Engine, token: str | None) -> Principal | None:
    """The principal of a key this process verified in the last `TRUST_SECONDS`, else None
    (no database needed: the API checks the key on every request)."""
    return _trusted.get(engine, _hash(token)) if token else None


def authenticate_recent(engine: Engine, token: str | None) -> Principal:
    """`authenticate`, trusting a key this process verified in the last `TRUST_SECONDS`."""
    found = recently_verified(engine, token)
    if found is not None:
        return found
    generation = _trusted.generation
    principal = authenticate(engine, token)
    assert token is not None  # authenticate refuses a missing token
    _trusted.put(engine, _hash(token), principal, generation)
    return principal


def list_keys(engine: Engine) -> list[KeyInfo]:
    with reading(engine) as connection:
        rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
        return [
            KeyInfo(r.id, r.name, Role(r.role), r.node_id, r.channel, r.created_at, r.revoked_at)
            for r in rows
        ]


def revoke_key(engine: Engine, key_id: str) -> None:
    with writing(engine) as connection:
        done = connection.execute(
            update(api_keys)
            .where((api_keys.c.id == key_id) & api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        if done.rowcount == 0:
            exists = connection.execute(
                select(api_keys.c.id).where(api_keys.c.id == key_id)
            ).first()
            if exists is None:
                raise NotFound("API key", key_id)
    _trusted.forget_all()


def revoke_keys_named(engine: Engine, name: str) -> int:
    """Revoke every live key with this name (the demo key is re-issued on each start)."""
    with writing(engine) as connection:
        done = connection.execute(
            update(api_keys)
            .where((api_keys.c.name == name) & api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        count = int(done.rowcount)
    _trusted.forget_all()
    return count
