"""Routing over HTTP: plan an order (dry run), commit a plan, read or release a decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.api.idempotency import IdempotencyKeyDep, run_once
from dom.domain.sourcing.model import OrderLine
from dom.domain.sourcing.profiles import OrderFacts
from dom.schemas.plans import (
    DecisionView,
    ReoptimizedView,
    ReoptimizeIn,
    RerouteIn,
    SourcingIn,
    WaveIn,
    WaveView,
)
from dom.services import sourcing, waves
from dom.services.plan_records import plain, plan_to_record

router = APIRouter(tags=["sourcing"])


def request_of(body: SourcingIn) -> sourcing.SourcingRequest:
    return sourcing.SourcingRequest(
        order_id=body.order_id,
        lines=tuple(
            OrderLine(line.line_id or str(index + 1), line.sku, line.quantity)
            for index, line in enumerate(body.lines)
        ),
        zip_code=body.zip,
        residential=body.residential,
        service_level=body.service_level,
        promise_by=body.promise_by,
        facts=OrderFacts(
            channel=body.channel,
            segment=body.segment,
            tags=frozenset(body.tags),
            free_shipping=body.free_shipping,
            value=body.value,
        ),
        profile=body.profile,
        profile_version=body.profile_version,
    )


def view(decision: sourcing.Decision) -> dict[str, Any]:
    found: dict[str, Any] = plain(decision)
    found["plan"] = plan_to_record(decision.plan)
    return found


@router.post(
    "/v1/sourcing/plan",
    response_model=DecisionView,
    summary="Route an order without holding anything: the plan, its costs and why",
)
def plan(
    body: SourcingIn, engine: EngineDep, principal: PrincipalDep, zips: ZipsDep
) -> dict[str, Any]:
    return view(sourcing.plan(engine, principal, zips, request_of(body)))


@router.post(
    "/v1/sourcing/decisions",
    response_model=DecisionView,
    status_code=201,
    summary="Route an order and allocate its plan atomically",
    responses={409: {"description": "the stock was taken by others on every try"}},
)
def commit(
    body: SourcingIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        return view(sourcing.commit(engine, principal, zips, request_of(body)))

    return run_once(engine, principal, idempotency_key, request, body, 201, produce, DecisionView)


@router.get(
    "/v1/sourcing/decisions/{decision_id}",
    response_model=DecisionView,
    summary="A routing decision: its plan and its explanation",
)
def decision(decision_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return view(sourcing.decision(engine, principal, decision_id))


@router.post(
    "/v1/sourcing/decisions/{decision_id}/release",
    response_model=DecisionView,
    summary="Give a committed decision's allocated units back",
)
def release(decision_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return view(sourcing.release(engine, principal, decision_id))


@router.post(
    "/v1/sourcing/decisions/{decision_id}/reroute",
    response_model=DecisionView,
    summary="A node gives lines back: route only them again, without that node",
)
def reroute(
    decision_id: str,
    body: RerouteIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
) -> dict[str, Any]:
    decided = sourcing.reroute(
        engine, principal, zips, decision_id, body.node_id, body.line_ids, body.reason
    )
    return view(decided)


@router.post(
    "/v1/sourcing/waves",
    response_model=WaveView,
    summary="Route many orders jointly (one MIP): as a dry run, or allocating every plan",
    description="The solver stops at `time_limit_seconds` with the best plans found and its "
    "proven gap; orders it could not settle are routed one by one.",
)
def wave(
    body: WaveIn,
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        outcome = waves.route_orders(
            engine,
            principal,
            zips,
            [request_of(order) for order in body.orders],
            time_limit=body.time_limit_seconds,
            commit=body.commit,
        )
        found: dict[str, Any] = plain(outcome)
        found["decisions"] = [view(d) for d in outcome.decisions]
        return found

    return run_once(engine, principal, idempotency_key, request, body, 200, produce, WaveView)


@router.post(
    "/v1/sourcing/reoptimize",
    response_model=ReoptimizedView,
    summary="Route committed, unreleased orders again jointly; keep the new plans if better",
)
def reoptimize(
    body: ReoptimizeIn, engine: EngineDep, principal: PrincipalDep, zips: ZipsDep
) -> dict[str, Any]:
    outcome = waves.reoptimize(
        engine, principal, zips, body.decision_ids, time_limit=body.time_limit_seconds
    )
    found: dict[str, Any] = plain(outcome)
    found["decisions"] = [view(d) for d in outcome.decisions]
    return found
