"""/v1/nodes: the fulfilment network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.domain.errors import InvalidField
from dom.domain.network import Capability, Node, NodeType
from dom.schemas.api import NodePage, NodeView, PauseRequest
from dom.schemas.records import NodeRecord
from dom.services import network
from dom.services.masterdata import node_to_record

router = APIRouter(prefix="/v1/nodes", tags=["network"])


def view(node: Node) -> dict[str, Any]:
    return {**node_to_record(node), "status": node.status_at(datetime.now(UTC)).value}


@router.get("", response_model=NodePage, summary="List nodes (a node key sees only its own)")
def list_nodes(
    engine: EngineDep,
    principal: PrincipalDep,
    after: Annotated[
        str | None, Query(description="id of the last node of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: NodeType | None = None,
    state: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    capability: Capability | None = None,
) -> dict[str, Any]:
    found = network.list_nodes(
        engine,
        principal,
        after=after,
        limit=limit + 1,
        node_type=type,
        state=state,
        capability=capability,
    )
    page = found[:limit]
    return {
        "items": [view(n) for n in page],
        "next_after": page[-1].id if len(found) > limit else None,
    }


@router.get("/{node_id}", response_model=NodeView)
def get_node(node_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return view(network.get_node(engine, principal, node_id))


@router.post("", response_model=NodeView, status_code=201, summary="Create a node")
def create_node(
    record: NodeRecord,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    response: Response,
) -> dict[str, Any]:
    node = network.create_node(engine, principal, record, zips)
    response.headers["Location"] = f"/v1/nodes/{node.id}"
    return view(node)


@router.put("/{node_id}", response_model=NodeView, summary="Create or replace a node")
def put_node(
    node_id: str,
    record: NodeRecord,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    response: Response,
) -> dict[str, Any]:
    if record.id != node_id:
        raise InvalidField("id", f"the body's id {record.id!r} differs from the path's {node_id!r}")
    node, created = network.put_node(engine, principal, record, zips)
    if created:
        response.status_code = 201
    return view(node)


@router.post(
    "/{node_id}/pause", response_model=NodeView, summary="Pause a node for a reason and a window"
)
def pause_node(
    node_id: str, body: PauseRequest, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    node = network.pause_node(engine, principal, node_id, body.reason, body.starts_at, body.ends_at)
    return view(node)


@router.post("/{node_id}/resume", response_model=NodeView, summary="End a node's pause")
def resume_node(node_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return view(network.resume_node(engine, principal, node_id))
