"""Policies side by side: one row per metric, as a table, JSON or charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from dom.domain.network import NodeType
from dom.domain.sourcing.solver import Relaxer, Solver
from dom.simulation import charts
from dom.simulation.metrics import (
    Metrics,
    delivery_days,
    measure,
    order_costs,
    percentile,
    shipment_counts,
    utilization,
)
from dom.simulation.model import Scenario
from dom.simulation.replay import Policy, Run, replay


@dataclass(frozen=True)
class Result:
    run: Run
    metrics: Metrics


def compare(
    scenario: Scenario,
    policies: Sequence[Policy],
    solver: Solver | None = None,
    *,
    wave_time_limit: float = 20.0,
    progress: Callable[[Result], None] | None = None,
    relax: Relaxer | None = None,
) -> list[Result]:
    """Replay the scenario under each policy, each from the same starting stock; waves with
    `solver`, and from the LP relaxation when given `relax` (see `wave.route_wave`)."""
    results = []
    for policy in policies:
        run = replay(scenario, policy, solver, wave_time_limit=wave_time_limit, relax=relax)
        result = Result(run, measure(run, scenario))
        if progress is not None:
            progress(result)
        results.append(result)
    return results


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f} ms"


#: (label, metric, format) in the order of the table.
ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("total cost (shipping + handling)", "cost", _money),
    ("cost per order shipped", "cost_per_order", _money),
    ("cost per unit shipped", "cost_per_unit", _money),
    ("objective (the policy's own)", "objective", _number),
    ("orders shipped", "shipped_orders", _count),
    ("orders complete", "complete_orders", _count),
    ("shipments per order", "shipments_per_order", _number),
    ("shipments from stores", "store_share", _share),
    ("delivery days, mean", "delivery_days_mean", _number),
    ("delivery days, p95", "delivery_days_p95", _number),
    ("promise misses", "promise_misses", _count),
    ("node utilization, mean", "utilization_mean", _share),
    ("node utilization, max", "utilization_max", _share),
    ("units shipped", "units_shipped", _count),
    ("unfilled units", "unfilled_units", _count),
    ("decision latency, median", "latency_p50_ms", _ms),
    ("decision latency, p99", "latency_p99_ms", _ms),
    ("plan violations", "violations", _count),
    ("replay seconds", "seconds", _number),
)


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    """One row per metric: its label, then its value under each policy."""
    return [
        [label, *(shown(getattr(r.metrics, name)) for r in results)] for label, name, shown in ROWS
    ]


def as_json(scenario: Scenario, results: Sequence[Result]) -> dict[str, Any]:
    return {
        "scenario": {
            "name": scenario.name,
            "seed": scenario.seed,
            "start": scenario.start.isoformat(),
            "days": scenario.days,
            "nodes": len(scenario.nodes),
            "skus": len(scenario.products),
            "orders": len(scenario.arrivals),
        },
        "policies": [
            {
                "name": r.run.policy.name,
                "kind": r.run.policy.kind.value,
                "profile": r.run.policy.profile.name,
                "description": r.run.policy.description,
                "metrics": asdict(r.metrics),
            }
            for r in results
        ],
    }


def chart_files(scenario: Scenario, results: Sequence[Result]) -> dict[str, str]:
    """SVG charts by file name: cost per order, shipments per order, delivery days,
    utilization."""
    names = [r.run.policy.name for r in results]
    costs = {name: _spread(order_costs(r.run)) for name, r in zip(names, results, strict=True)}
    shipments = {
        name: _buckets(list(shipment_counts(r.run).elements()), 1, 4)
        for name, r in zip(names, results, strict=True)
    }
    days = [delivery_days(r.run) for r in results]
    every = [v for d in days for v in d]
    low = min(every, default=1)
    high = min(max(every, default=1), low + 7)
    day_labels = [str(k) for k in range(low, high)]
    day_labels.append(f"{high}+" if max(every, default=1) > high else str(high))
    day_shares = {name: _buckets(d, low, high) for name, d in zip(names, days, strict=True)}
    use = {name: _utilization(scenario, r.run) for name, r in zip(names, results, strict=True)}
    return {
        "cost.svg": charts.grouped_bars(
            "Cost per order shipped (shipping + handling)",
            ["mean", "median", "p95"],
            costs,
            y_label="dollars",
            label=lambda v: f"${v:,.2f}",
        ),
        "shipments.svg": charts.grouped_bars(
            "Orders shipped by number of shipments",
            ["1", "2", "3", "4+"],
            shipments,
            y_label="share of orders",
            label=lambda v: f"{v:.0%}",
        ),
        "delivery.svg": charts.grouped_bars(
            "Orders shipped by days from arrival to delivery",
            day_labels,
            day_shares,
            y_label="share of orders",
            label=lambda v: f"{v:.0%}",
        ),
        "utilization.svg": charts.grouped_bars(
            "Node utilization: units shipped ÷ capacity",
            ["DCs, mean", "stores, mean", "all, mean", "max"],
            use,
            y_label="share of capacity",
            label=lambda v: f"{v:.0%}",
        ),
    }


def _spread(values: Sequence[float]) -> list[float]:
    if not values:
        return [0.0, 0.0, 0.0]
    return [sum(values) / len(values), percentile(values, 50), percentile(values, 95)]


def _buckets(values: Sequence[int], low: int, high: int) -> list[float]:
    """Shares of the values equal to low, low + 1, … high - 1, and at least high."""
    if not values:
        return [0.0] * (high - low + 1)
    shares = [sum(1 for v in values if v == k) / len(values) for k in range(low, high)]
    return [*shares, sum(1 for v in values if v >= high) / len(values)]


def _utilization(scenario: Scenario, run: Run) -> list[float]:
    use = utilization(run, scenario)
    types = {node.id: node.type for node in scenario.nodes}

    def mean(kind: NodeType | None) -> float:
        values = [v for node, v in use.items() if kind is None or types[node] is kind]
        return sum(values) / len(values) if values else 0.0

    return [
        mean(NodeType.DISTRIBUTION_CENTRE),
        mean(NodeType.STORE),
        mean(None),
        max(use.values(), default=0.0),
    ]
