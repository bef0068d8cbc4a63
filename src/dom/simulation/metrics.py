"""What a replay shows, side by side for every policy.

- cost: shipping and handling dollars, in total, per order shipped and per unit shipped; and the
  policy's own objective (comparable only between runs of the same profile);
- shipments per order shipped, and the share of shipments that leave from stores;
- delivery days: calendar days from the order's arrival to its last parcel's delivery (mean, 95th
  percentile), over the orders shipped;
- promise misses: orders with a promised date that are not delivered in full by it — a late
  parcel or a unit left unfilled;
- node utilization: units shipped ÷ units of capacity over the days of the stream, for nodes
  whose capacity is limited (mean and max over nodes);
- unfilled units; decision latency per order (median, 99th percentile); and the violations
  `plan_violations` found, which must be 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dom.domain.network import NodeType
from dom.domain.sourcing.engine import SHIPPING_CAPABILITIES
from dom.simulation.model import Scenario
from dom.simulation.replay import Outcome, Run


@dataclass(frozen=True)
class Metrics:
    orders: int
    shipped_orders: int  # at least one shipment
    complete_orders: int  # every unit shipped
    units_ordered: int
    units_shipped: int
    unfilled_units: int
    cost: float  # shipping + handling, dollars
    shipping: float
    handling: float
    cost_per_order: float  # per order shipped
    cost_per_unit: float  # per unit shipped
    objective: float
    shipments: int
    shipments_per_order: float
    store_share: float  # of shipments
    delivery_days_mean: float | None
    delivery_days_p95: float | None
    promised_orders: int
    promise_misses: int
    utilization_mean: float
    utilization_max: float
    latency_p50_ms: float
    latency_p99_ms: float
    violations: int
    seconds: float  # the whole replay


def measure(run: Run, scenario: Scenario) -> Metrics:
    """The metrics of one replay."""
    outcomes = run.outcomes
    shipped = [o for o in outcomes if o.plan.shipments]
    units_ordered = sum(line.quantity for o in outcomes for line in o.arrival.order.lines)
    unfilled = sum(u.quantity for o in outcomes for u in o.plan.unfilled)
    units_shipped = sum(
        line.quantity for o in outcomes for s in o.plan.shipments for line in s.lines
    )
    shipping = sum(o.plan.costs.shipping for o in outcomes)
    handling = sum(o.plan.costs.handling for o in outcomes)
    cost = round(shipping + handling, 2)
    shipments = sum(len(o.plan.shipments) for o in outcomes)
    types = {node.id: node.type for node in scenario.nodes}
    from_stores = sum(
        1 for o in outcomes for s in o.plan.shipments if types[s.node_id] is NodeType.STORE
    )
    days = delivery_days(run)
    use = utilization(run, scenario)
    latencies = [o.seconds * 1000 for o in outcomes]
    promised = [o for o in outcomes if o.arrival.order.promise_by is not None]
    return Metrics(
        orders=len(outcomes),
        shipped_orders=len(shipped),
        complete_orders=sum(1 for o in outcomes if not o.plan.unfilled),
        units_ordered=units_ordered,
        units_shipped=units_shipped,
        unfilled_units=unfilled,
        cost=cost,
        shipping=round(shipping, 2),
        handling=round(handling, 2),
        cost_per_order=round(cost / len(shipped), 2) if shipped else 0.0,
        cost_per_unit=round(cost / units_shipped, 2) if units_shipped else 0.0,
        objective=round(sum(o.plan.costs.objective for o in outcomes), 2),
        shipments=shipments,
        shipments_per_order=round(shipments / len(shipped), 3) if shipped else 0.0,
        store_share=round(from_stores / shipments, 4) if shipments else 0.0,
        delivery_days_mean=round(sum(days) / len(days), 2) if days else None,
        delivery_days_p95=percentile(days, 95) if days else None,
        promised_orders=len(promised),
        promise_misses=sum(1 for o in promised if missed_promise(o)),
        utilization_mean=round(sum(use.values()) / len(use), 4) if use else 0.0,
        utilization_max=round(max(use.values()), 4) if use else 0.0,
        latency_p50_ms=round(percentile(latencies, 50), 3) if latencies else 0.0,
        latency_p99_ms=round(percentile(latencies, 99), 3) if latencies else 0.0,
        violations=run.violations,
        seconds=round(run.seconds, 2),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile, interpolated linearly between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 3)


def missed_promise(outcome: Outcome) -> bool:
    promise = outcome.arrival.order.promise_by
    if promise is None:
        return False
    late = outcome.plan.deliver_on is not None and outcome.plan.deliver_on > promise
    return late or bool(outcome.plan.unfilled)


def order_costs(run: Run) -> list[float]:
    """Dollars per order shipped."""
    return [o.plan.costs.money for o in run.outcomes if o.plan.shipments]


def shipment_counts(run: Run) -> Counter[int]:
    """Orders shipped by their number of shipments."""
    return Counter(len(o.plan.shipments) for o in run.outcomes if o.plan.shipments)


def delivery_days(run: Run) -> list[int]:
    """Per order shipped: days from its arrival to its last delivery."""
    return [
        (o.plan.deliver_on - o.arrival.arrives_at.date()).days
        for o in run.outcomes
        if o.plan.deliver_on is not None
    ]


def utilization(run: Run, scenario: Scenario) -> dict[str, float]:
    """Units shipped ÷ units of capacity over the stream's days, per node that ships parcels
    with limited capacity."""
    shipped: Counter[str] = Counter()
    for outcome in run.outcomes:
        for shipment in outcome.plan.shipments:
            shipped[shipment.node_id] += sum(line.quantity for line in shipment.lines)
    return {
        node.id: round(shipped[node.id] / (units * scenario.days), 4)
        for node in scenario.nodes
        if (units := scenario.capacity[node.id].units) and node.capabilities & SHIPPING_CAPABILITIES
    }
