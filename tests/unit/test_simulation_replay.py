"""Replaying an order stream: stock carries over from order to order and day to day, capacity
starts afresh each day, waves never span two days, and no policy breaks a rule."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from dom.adapters.highs import relax_with_highs, solve_with_highs
from dom.domain.errors import InvalidField, InvalidInput
from dom.domain.network import Node, NodeType
from dom.domain.sourcing import wave
from dom.domain.sourcing.baselines import NEAREST
from dom.domain.sourcing.model import Order, OrderLine
from dom.domain.sourcing.profiles import FASTEST
from dom.domain.sourcing.solver import LinearProgram, Relaxation
from dom.domain.sourcing.validate import plan_violations
from dom.simulation.model import Arrival, DailyCapacity, Scenario
from dom.simulation.policies import Baseline, policies, profile_named
from dom.simulation.replay import (
    PolicyKind,
    Run,
    _batches,
    myopic_policy,
    nearest_policy,
    profile_policy,
    replay,
    wave_policy,
)
from tests.support.sourcing import NOW, SERVICES, destination, node, product

START = NOW.replace(hour=5)  # 2026-12-01 05:00 UTC, a Tuesday
NEW_YORK = node("new-york", 0, NodeType.STORE)
COLUMBUS = node("columbus", 1)


def world(
    stock: Sequence[tuple[Node, dict[str, int], DailyCapacity]], arrivals: Sequence[Arrival]
) -> Scenario:
    return Scenario(
        name="replay",
        seed=None,
        start=START,
        nodes=tuple(n for n, _, _ in stock),
        products={"A": product("A"), "B": product("B")},
        services=SERVICES,
        inventory={n.id: units for n, units, _ in stock},
        capacity={n.id: capacity for n, _, capacity in stock},
        arrivals=tuple(arrivals),
    )


def arrival(order_id: str, hours: float, sku: str = "A", quantity: int = 1) -> Arrival:
    order = Order(order_id, (OrderLine("1", sku, quantity),), destination(0))
    return Arrival(order, START + timedelta(hours=hours), "10001")


def shipped_from(run: Run) -> dict[str, list[str]]:
    return {o.arrival.order.id: [s.node_id for s in o.plan.shipments] for o in run.outcomes}


def test_a_unit_taken_by_one_order_is_gone_for_the_next() -> None:
    scenario = world(
        [
            (NEW_YORK, {"A": 1}, DailyCapacity(None, None)),
            (COLUMBUS, {"A": 5}, DailyCapacity(None, None)),
        ],
        [arrival("o1", 10), arrival("o2", 11), arrival("o3", 30)],
    )
    run = replay(scenario, nearest_policy())
    assert shipped_from(run) == {"o1": ["new-york"], "o2": ["columbus"], "o3": ["columbus"]}
    assert run.violations == 0
    myopic = replay(scenario, myopic_policy())
    assert sum(s.count("new-york") for s in shipped_from(myopic).values()) <= 1
    assert all(o.plan.shipments for o in myopic.outcomes)
    assert myopic.violations == 0


def test_capacity_starts_afresh_every_day_of_the_stream() -> None:
    scenario = world(
        [
            (NEW_YORK, {"A": 5}, DailyCapacity(orders=1, units=None)),
            (COLUMBUS, {"A": 5}, DailyCapacity(None, None)),
        ],
        [arrival("o1", 9), arrival("o2", 10), arrival("o3", 25)],
    )
    run = replay(scenario, nearest_policy())
    assert shipped_from(run) == {"o1": ["new-york"], "o2": ["columbus"], "o3": ["new-york"]}
    assert scenario.days == 2


def test_an_order_nobody_can_serve_is_unfilled_not_a_violation() -> None:
    scenario = world(
        [(NEW_YORK, {"A": 1}, DailyCapacity(orders=0, units=None))], [arrival("o1", 9)]
    )
    run = replay(scenario, profile_policy(FASTEST))
    [outcome] = run.outcomes
    assert outcome.plan.shipments == ()
    assert outcome.violations == ()


def test_waves_never_span_two_days_and_every_order_of_a_wave_waits_for_its_solve() -> None:
    arrivals = [arrival(f"o{i}", hours) for i, hours in enumerate([9, 10, 11, 12, 30])]
    scenario = world(
        [
            (NEW_YORK, {"A": 2}, DailyCapacity(orders=2, units=None)),
            (COLUMBUS, {"A": 5}, DailyCapacity(None, None)),
        ],
        arrivals,
    )
    batches = _batches(scenario, 3)
    assert [[a.order.id for a in b] for b in batches] == [["o0", "o1", "o2"], ["o3"], ["o4"]]
    run = replay(scenario, wave_policy(3), solve_with_highs, wave_time_limit=5)
    assert run.violations == 0
    assert len(run.outcomes) == 5
    assert len({o.seconds for o in run.outcomes[:3]}) == 1
    assert sum(len(o.plan.shipments) for o in run.outcomes) == 5
    with pytest.raises(ValueError, match="needs a solver"):
        replay(scenario, wave_policy(3))


def test_policies_by_name_baselines_first_and_a_default_pair() -> None:
    assert [(p.name, p.kind) for p in policies([], [], None)] == [
        ("nearest", PolicyKind.NEAREST),
        ("lowest-cost", PolicyKind.PROFILE),
    ]
    chosen = policies(["fastest"], [Baseline.MYOPIC, Baseline.NEAREST], 50)
    assert [p.name for p in chosen] == ["myopic", "nearest", "fastest", "wave-50"]
    with pytest.raises(InvalidField, match="named twice"):
        policies(["fastest", "fastest"], [], None)
    with pytest.raises(InvalidField, match="neither a shipped profile"):
        profile_named("quickest")


def test_a_profile_file_is_a_policy_and_a_contradictory_one_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "dc-only.json"
    good.write_text(json.dumps({"name": "dc-only", "constraints": {"node_types": ["dc"]}}))
    profile = profile_named(str(good))
    assert profile.name == "dc-only"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "constraints": {"max_shipments": 0}}))
    with pytest.raises(InvalidInput) as refused:
        profile_named(str(bad))
    assert [p.field for p in refused.value.problems] == ["constraints.max_shipments"]


def test_a_west_coast_node_shipping_the_same_evening_after_midnight_utc_breaks_no_rule() -> None:
    san_francisco = node("san-francisco", 6)
    late = Arrival(
        Order("o1", (OrderLine("1", "A", 1),), destination(6)),
        START.replace(day=2, hour=0, minute=30),  # 16:30 on 1 December in San Francisco
        "94105",
    )
    scenario = world([(san_francisco, {"A": 1}, DailyCapacity(None, None))], [late])
    run = replay(scenario, nearest_policy())
    [outcome] = run.outcomes
    assert [s.ship_on for s in outcome.plan.shipments] == [START.date()]
    assert outcome.violations == ()
    # …and the validator agrees: it compares the node's own local date.
    offers = scenario.day_offers({})
    found = plan_violations(
        outcome.plan, late.order, offers, scenario.products, SERVICES, NEAREST, late.arrives_at
    )
    assert found == []


def test_waves_of_a_replay_start_from_the_lp_relaxation_when_given_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wave, "START_ABOVE", 0)  # every wave, however small, is relaxed first
    relaxed: list[int] = []

    def relax(program: LinearProgram, *, time_limit: float) -> Relaxation:
        relaxed.append(len(program.costs))
        return relax_with_highs(program, time_limit=time_limit)

    arrivals = [arrival(f"o{i}", hours) for i, hours in enumerate([9, 10, 11, 12])]
    scenario = world(
        [
            (NEW_YORK, {"A": 2}, DailyCapacity(orders=2, units=None)),
            (COLUMBUS, {"A": 5}, DailyCapacity(None, None)),
        ],
        arrivals,
    )
    run = replay(scenario, wave_policy(2), solve_with_highs, wave_time_limit=5, relax=relax)
    assert run.violations == 0 and len(run.outcomes) == 4
    assert len(relaxed) == 2  # one relaxation per wave of two orders
