"""Monitoring: capacity per node today, orders at risk, routing errors; JSON and Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from dom.api.deps import EngineDep, PrincipalDep
from dom.services import monitoring
from dom.services.plan_records import plain

router = APIRouter(tags=["monitoring"])


@router.get(
    "/v1/monitoring",
    summary="Each node's capacity used and left today, orders at risk, routing errors",
)
def overview(engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    found = monitoring.overview(engine, principal)
    view: dict[str, Any] = plain(found)
    for load, row in zip(found.nodes, view["nodes"], strict=True):
        row["units_left"] = load.units_left
        row["orders_left"] = load.orders_left
    return view


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="The same, in Prometheus' text format (scrape with an API key as bearer token)",
)
def metrics(engine: EngineDep, principal: PrincipalDep) -> str:
    return monitoring.prometheus(monitoring.overview(engine, principal))
