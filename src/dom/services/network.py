"""Nodes: read them (a node key only its own), create or replace them, pause and resume them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import reading, writing
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.errors import AlreadyExists, NotFound
from dom.domain.network import Capability, Node, NodeType, Pause
from dom.schemas.records import NodeRecord
from dom.services.masterdata import node_from_record


def list_nodes(
    engine: Engine,
    principal: Principal,
    *,
    after: str | None = None,
    limit: int = 100,
    node_type: NodeType | None = None,
    state: str | None = None,
    capability: Capability | None = None,
) -> list[Node]:
    principal.require(Action.READ_NETWORK)
    with reading(engine) as connection:
        return repo.list_nodes(
            connection,
            after=after,
            limit=limit,
            node_type=node_type,
            state=state,
            capability=capability,
            only=principal.node_id,
        )


def get_node(engine: Engine, principal: Principal, node_id: str) -> Node:
    principal.require(Action.READ_NETWORK)
    principal.require_node(node_id)
    with reading(engine) as connection:
        node = repo.get_node(connection, node_id)
    if node is None:
        raise NotFound("node", node_id)
    return node


def create_node(
    engine: Engine, principal: Principal, record: NodeRecord, zips: ZipDirectory
) -> Node:
    """Create a node; refused if its id is taken."""
    principal.require(Action.WRITE_NETWORK)
    node = node_from_record(record, zips)
    with writing(engine) as connection:
        if repo.get_node(connection, node.id) is not None:
            raise AlreadyExists("node", node.id)
        repo.save_nodes(connection, [node])
    return node


def put_node(
    engine: Engine, principal: Principal, record: NodeRecord, zips: ZipDirectory
) -> tuple[Node, bool]:
    """Create or replace a node; returns it and whether it was new."""
    principal.require(Action.WRITE_NETWORK)
    node = node_from_record(record, zips)
    with writing(engine) as connection:
        created = repo.get_node(connection, node.id) is None
        repo.save_nodes(connection, [node])
    return node, created


def pause_node(
    engine: Engine,
    principal: Principal,
    node_id: str,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Node:
    """Take a node out of routing from `starts_at` (now by default) until `ends_at` (open)."""
    principal.require(Action.OPERATE_NODE)
    principal.require_node(node_id)
    pause = Pause(reason, starts_at or datetime.now(UTC), ends_at)
    return _change(engine, node_id, lambda node: replace(node, pause=pause))


def resume_node(engine: Engine, principal: Principal, node_id: str) -> Node:
    principal.require(Action.OPERATE_NODE)
    principal.require_node(node_id)
    return _change(engine, node_id, lambda node: replace(node, pause=None))


def _change(engine: Engine, node_id: str, change: Callable[[Node], Node]) -> Node:
    with writing(engine) as connection:
        node = repo.get_node(connection, node_id)
        if node is None:
            raise NotFound("node", node_id)
        changed = change(node)
        repo.save_nodes(connection, [changed])
    return changed
