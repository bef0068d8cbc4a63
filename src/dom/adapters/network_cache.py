"""The network (nodes, carrier services with their rate tables, channels' excluded nodes), read
once per change.

Each process keeps the last network it read per database and checks one token on every use;
whoever writes a node, a service or a channel's exclusions changes the token in the same transaction (see
`repositories.network_changed`), so no process ever works from a stale network, and any number
of processes can share one database.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from dom.adapters import repositories as repo
from dom.adapters.database import database_key
from dom.domain.carriers import CarrierService
from dom.domain.network import Node
from dom.domain.sourcing.rates import DateBook, RateBook


@dataclass(frozen=True)
class Network:
    token: str | None
    nodes: tuple[Node, ...]
    by_id: Mapping[str, Node]
    services: tuple[CarrierService, ...]
    #: per selling channel, the nodes left out of its availability (distribution groups)
    exclusions: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    #: freight tables and ship dates for these very nodes and services, kept with them
    rates: RateBook = field(default_factory=RateBook, compare=False)
    dates: DateBook = field(default_factory=DateBook, compare=False)


_cache: dict[str, Network] = {}
_lock = threading.Lock()


def network(connection: Connection) -> Network:
    """The network as of this transaction (its token is read first, so a snapshot is never
    older than the token it is kept under); read once per transaction."""
    transaction = connection.get_transaction()
    memo = connection.info.get(repo.NETWORK_MEMO)
    if memo is not None and transaction is not None and memo[0] is transaction:
        found_here: Network = memo[1]
        return found_here
    fresh = _checked(connection)
    if transaction is not None:
        connection.info[repo.NETWORK_MEMO] = (transaction, fresh)
    return fresh


def _checked(connection: Connection) -> Network:
    token = repo.network_token(connection)
    key = database_key(connection)
    found = _cache.get(key)
    if found is not None and token is not None and found.token == token:
        return found
    nodes = tuple(repo.list_nodes(connection))
    fresh = Network(
        token,
        nodes,
        {n.id: n for n in nodes},
        tuple(repo.list_services(connection)),
        repo.channel_exclusions(connection),
    )
    with _lock:
        _cache[key] = fresh
    return fresh
