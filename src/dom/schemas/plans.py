"""Routing shapes for the API: an order to route in; a decision with its plan and why, out."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)
CODE = r"^[a-z][a-z0-9_-]*$"


class OrderLineIn(BaseModel):
    model_config = Strict

    line_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="defaults to the line's number"
    )
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=100_000)


class SourcingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "order_id": "web-100234",
                    "lines": [
                        {"sku": "SKU-000042", "quantity": 2},
                        {"sku": "SKU-000117", "quantity": 1},
                    ],
                    "zip": "10001",
                    "service_level": "ground",
                    "channel": "web",
                    "free_shipping": True,
                    "value": 89.5,
                }
            ]
        },
    )

    order_id: str = Field(min_length=1, max_length=100)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)
    zip: str = Field(pattern=r"^\d{5}$", description="ship-to ZIP code")
    residential: bool = True
    service_level: str = Field(default="ground", pattern=CODE, max_length=32)
    promise_by: date | None = Field(default=None, description="latest acceptable delivery date")
    channel: str | None = Field(default=None, max_length=64)
    segment: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, max_length=50)
    free_shipping: bool = False
    value: float = Field(default=0.0, ge=0)
    profile: str | None = Field(
        default=None, max_length=64, description="route under this profile, not the rules' choice"
    )
    profile_version: int | None = Field(
        default=None, ge=1, description="dry runs: this version of `profile`, a draft included"
    )


class CostsView(BaseModel):
    shipping: float
    handling: float
    delivery_days: float
    split_penalty: float
    capacity: float
    protection: float
    objective: float


class ShipmentLineView(BaseModel):
    line_id: str
    sku: str
    quantity: int


class ShipmentView(BaseModel):
    node_id: str
    lines: list[ShipmentLineView]
    carrier: str
    service: str
    packages: int
    billable_lb: int
    miles: float
    ship_on: date
    deliver_on: date
    costs: CostsView


class UnfilledView(BaseModel):
    line_id: str
    sku: str
    quantity: int
    reason: str = Field(description="no_stock, not_enough_stock, no_capable_node, …")
    detail: str


class AlternativeView(BaseModel):
    summary: str
    nodes: list[str]
    objective: float
    extra_cost: float
    days_later: int


class BindingView(BaseModel):
    constraint: str
    node_id: str
    saving: float
    change: str


class ExplanationView(BaseModel):
    why: str
    alternatives: list[AlternativeView]
    binding: list[BindingView]
    excluded: dict[str, str]
    candidates: int
    pruned: int


class PlanView(BaseModel):
    order_id: str
    profile: str
    shipments: list[ShipmentView]
    unfilled: list[UnfilledView]
    costs: CostsView
    money: float = Field(description="what the retailer pays: shipping plus handling")
    status: str = Field(description="optimal, heuristic or nothing_to_ship")
    bound: float
    gap: float = Field(description="share by which the objective may exceed the best possible")
    deliver_on: date | None
    explanation: ExplanationView


class ReroutedView(BaseModel):
    at: datetime
    node_id: str
    line_ids: list[str]
    reason: str
    to: list[str] = Field(description="nodes the lines went to; empty: left unfilled")


class RerouteIn(BaseModel):
    model_config = Strict

    node_id: str = Field(min_length=1, max_length=64, description="the node giving lines back")
    line_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=100, description="default: all it ships"
    )
    reason: str = Field(
        min_length=1, max_length=100, description="not_found, damaged, short_pick, paused…"
    )


class DecisionView(BaseModel):
    id: str | None = Field(description="null for a dry run")
    order_id: str
    profile: str
    profile_version: int
    rule: str | None
    committed: bool
    decided_at: datetime
    plan: PlanView
    history: list[ReroutedView] = Field(default_factory=list)


class WaveIn(BaseModel):
    model_config = Strict

    orders: list[SourcingIn] = Field(min_length=1, max_length=3_000)
    time_limit_seconds: float = Field(default=30.0, gt=0, le=300)
    commit: bool = Field(default=False, description="allocate every plan and record decisions")


class WaveView(BaseModel):
    decisions: list[DecisionView]
    committed: bool
    solver_status: str = Field(description="optimal, feasible, infeasible, no_solution, failed")
    gap: float | None = Field(description="the solver's proven gap on the wave's model")
    seconds: float
    objective: float
    money: float
    baseline_objective: float = Field(description="the same orders routed one by one")
    baseline_money: float
    fallback: list[str] = Field(description="orders routed one by one after the solver")


class ReoptimizeIn(BaseModel):
    model_config = Strict

    decision_ids: list[str] = Field(min_length=1, max_length=10_000)
    time_limit_seconds: float = Field(default=30.0, gt=0, le=300)


class ReoptimizedView(BaseModel):
    decisions: list[DecisionView]
    changed: list[str] = Field(description="decisions whose plan changed")
    objective_before: float
    objective_after: float
    shipments_before: int
    shipments_after: int
    solver_status: str
    gap: float | None
