"""The real-time sourcing engine: optimal against a brute-force reference, sound by an
independent validator, and able to say why it chose a plan and what would change it."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from dom.domain.geo import miles_between
from dom.domain.network import Handling, HandlingCost, NodeType
from dom.domain.promise import add_business_days, ship_date
from dom.domain.sourcing import search
from dom.domain.sourcing.engine import candidates, route
from dom.domain.sourcing.model import Offer, Order, OrderLine, Plan, SolveStatus, Unfilled
from dom.domain.sourcing.profiles import (
    FASTEST,
    LOWEST_COST,
    Constraints,
    OnShort,
    Profile,
    Weights,
)
from dom.domain.sourcing.rates import DateBook, RateBook
from dom.domain.sourcing.validate import plan_violations
from tests.support.sourcing import (
    NOW,
    SERVICES,
    brute_force,
    destination,
    node,
    product,
    random_world,
)

NEW_YORK, COLUMBUS, CHICAGO, ATLANTA, DALLAS, DENVER, SAN_FRANCISCO, SEATTLE, RENO, MIAMI = range(
    10
)
PRODUCTS = {sku: product(sku) for sku in ("A", "B", "C")}


def plan_for(
    order: Order, offers: list[Offer], profile: Profile = LOWEST_COST, products=PRODUCTS
) -> Plan:
    plan = route(order, offers, products, SERVICES, profile, NOW)
    assert plan_violations(plan, order, offers, products, SERVICES, profile, NOW) == []
    return plan


def order_of(*lines: tuple[str, int], to: int = NEW_YORK, **changes: object) -> Order:
    built = tuple(OrderLine(f"l{i}", sku, q) for i, (sku, q) in enumerate(lines))
    return replace(Order("o1", built, destination(to)), **changes)  # type: ignore[arg-type]


def test_the_engine_matches_a_brute_force_reference_on_a_thousand_random_orders() -> None:
    mismatches = []
    checked = 0
    for seed in range(1000):
        order, offers, products, profile = random_world(random.Random(seed))
        plan = route(order, offers, products, SERVICES, profile, NOW, RateBook(), DateBook())
        assert plan.explanation.pruned == 0, f"seed {seed}: small worlds are searched in full"
        problems = plan_violations(plan, order, offers, products, SERVICES, profile, NOW)
        assert problems == [], f"seed {seed}: {problems}"
        shipped = sum(len(s.lines) for s in plan.shipments)
        expected = brute_force(order, offers, products, SERVICES, profile, NOW)
        got = (shipped, plan.costs.objective if plan.shipments else 0.0)
        if got[0] != expected[0] or abs(got[1] - expected[1]) > 1e-6:
            mismatches.append((seed, got, expected))
        checked += bool(plan.shipments)
    assert mismatches == []
    assert checked > 600  # most random worlds can ship something


def random_table(rng: random.Random) -> tuple[search.ShipmentTable, int]:
    """A random shipment table where a node often cannot ship two lines together (as with two
    parts of a split line and too few units for both, or too little capacity left): the cheap
    search then wants two shipments from one node, which no plan may make."""
    lines, nodes = rng.randint(1, 6), rng.randint(1, 5)
    size = 1 << lines
    costs = np.full((nodes, size), np.inf)
    holds = []
    for n in range(nodes):
        held = rng.randrange(1, size)
        apart = [(i, j) for i, j in itertools.combinations(range(lines), 2) if rng.random() < 0.4]
        most = rng.choice([lines, 2, 3])
        fixed, per_line = rng.uniform(0, 5), [rng.uniform(1, 10) for _ in range(lines)]
        for group in range(1, size):
            if group & ~held or group.bit_count() > most:
                continue
            if any(group >> i & 1 and group >> j & 1 for i, j in apart):
                continue
            line_cost = sum(c for i, c in enumerate(per_line) if group >> i & 1)
            costs[n, group] = fixed + line_cost + rng.uniform(0, 3)
        holds.append(held)
    node_of = np.argmin(costs, axis=0)
    table = search.ShipmentTable(
        lines,
        tuple(f"n{n}" for n in range(nodes)),
        costs[node_of, np.arange(size)],
        node_of.astype(np.int64),
        rng.choice([0.0, 2.0]),
        costs,
        tuple(holds),
    )
    return table, rng.choice([lines, lines, 1, 2, 3])


def every_plan(table: search.ShipmentTable, limit: int) -> tuple[int, float]:
    """(lines, objective) of the best plan, by trying every group for every node in turn."""
    best = (0, 0.0)

    def extend(node: int, left: int, shipments: int, value: float) -> None:
        nonlocal best
        placed = ((1 << table.lines) - 1 ^ left).bit_count()
        if (placed, -value) > (best[0], -best[1]):
            best = (placed, value)
        if node == len(table.nodes):
            return
        extend(node + 1, left, shipments, value)
        if shipments == limit:
            return
        for group in range(1, 1 << table.lines):
            if group & left == group and math.isfinite(table.costs[node, group]):
                extend(node + 1, left ^ group, shipments + 1, value + table.costs[node, group])

    extend(0, (1 << table.lines) - 1, 0, 0.0)
    return best


def _through_always(self: search._Search, last: list[int]) -> tuple[int, int] | None:
    return None if len(last) < 2 or self.limited else (last[0], last[1])


@pytest.mark.parametrize(
    "force",
    [
        {},
        {"_through_order": _through_always},  # the last two once-nodes: `second`'s sets only
        {"_through_order": lambda self, last: None, "_pairs_cost": lambda self, nodes: 10**9},
    ],
    ids=["cheapest", "through", "full-steps"],
)
def test_the_search_ships_once_per_node_and_matches_trying_every_plan(
    force: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, method in force.items():
        monkeypatch.setattr(search._Search, name, method)
    for seed in range(600):
        table, limit = random_table(random.Random(seed))
        solved = search.best_partition(table, limit)
        nodes = [node for node, _ in solved.blocks]
        assert len(nodes) == len(set(nodes)) and len(nodes) <= limit, f"seed {seed}"
        lines = [i for _, group in solved.blocks for i in group]
        assert len(lines) == len(set(lines)), f"seed {seed}"
        index = {node: n for n, node in enumerate(table.nodes)}
        value = sum(
            table.costs[index[node], sum(1 << i for i in group)] for node, group in solved.blocks
        )
        expected = every_plan(table, limit)
        if solved.exact:
            assert (len(lines), value) == pytest.approx(expected), f"seed {seed}"
        else:
            assert solved.blocks == [] and solved.bound <= expected[1] - table.first_credit


@pytest.mark.parametrize("promise_days", [None, 2, 4])
def test_each_node_gets_the_dates_and_zones_of_its_own_distance(promise_days: int | None) -> None:
    # Nodes are costed once per (ship dates, distance band): nodes in one time zone near a
    # zone boundary, on either side of it, must still get their own zones and arrivals.
    offers = [
        Offer(node(f"n{place}-{kind.value}", place, kind), {"A": 5})
        for place in range(10)
        for kind in (NodeType.DISTRIBUTION_CENTRE, NodeType.STORE)
    ]
    for to in range(10):
        promise = None if promise_days is None else NOW.date() + timedelta(days=promise_days)
        order = order_of(("A", 1), to=to, promise_by=promise)
        found = candidates(order, offers, PRODUCTS, SERVICES, LOWEST_COST, NOW, DateBook())
        for offer in offers:
            model = found.models.get(offer.node.id)
            expected = []
            miles = miles_between(offer.node.location, order.destination)
            for service in SERVICES:
                leaves = ship_date(offer.node, NOW, frozenset(d.value for d in service.pickup_days))
                band = service.zone_for(miles)
                arrives = None if leaves is None else add_business_days(leaves, band.transit_days)
                if arrives is not None and (promise is None or arrives <= promise):
                    expected.append((service.key, band.zone, leaves, arrives))
            got = (
                []
                if model is None
                else [(o.service.key, o.zone, o.ship_on, o.deliver_on) for o in model.options]
            )
            assert got == expected, (to, offer.node.id)


class TestChoosingNodes:
    def test_a_cart_one_node_holds_ships_from_the_nearest_such_node(self) -> None:
        offers = [
            Offer(node("far", SEATTLE), {"A": 5, "B": 5}),
            Offer(node("near", COLUMBUS), {"A": 5, "B": 5}),
        ]
        plan = plan_for(order_of(("A", 1), ("B", 1)), offers)
        assert [s.node_id for s in plan.shipments] == ["near"]
        assert plan.status is SolveStatus.OPTIMAL

    def test_lines_split_over_nodes_when_no_node_holds_them_all(self) -> None:
        offers = [
            Offer(node("has-a", COLUMBUS), {"A": 5}),
            Offer(node("has-b", CHICAGO), {"B": 5}),
        ]
        plan = plan_for(order_of(("A", 1), ("B", 1)), offers)
        assert sorted(s.node_id for s in plan.shipments) == ["has-a", "has-b"]
        assert plan.costs.objective == pytest.approx(sum(s.costs.objective for s in plan.shipments))

    def test_a_line_no_node_has_in_full_is_split_by_quantity(self) -> None:
        offers = [Offer(node("a", COLUMBUS), {"A": 2}), Offer(node("b", CHICAGO), {"A": 3})]
        plan = plan_for(order_of(("A", 5)), offers)
        assert sorted(line.quantity for s in plan.shipments for line in s.lines) == [2, 3]

    def test_a_node_that_can_give_either_part_of_a_split_line_gives_only_one(self) -> None:
        offers = [
            Offer(node("near", NEW_YORK), {"A": 3}),  # either part, not both
            Offer(node("far", SEATTLE), {"A": 1}),
            Offer(node("farther", MIAMI), {"A": 1}),
        ]
        plan = plan_for(order_of(("A", 4)), offers)
        assert plan.status is SolveStatus.OPTIMAL
        assert sorted((s.lines[0].quantity, s.node_id) for s in plan.shipments)[-1] == (3, "near")
        assert sum(line.quantity for s in plan.shipments for line in s.lines) == 4

    def test_a_search_that_gives_up_says_so_and_still_ships_every_part(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(search, "ONCE_NODES", 0)
        offers = [
            Offer(node("near", NEW_YORK), {"A": 3}),
            Offer(node("far", SEATTLE), {"A": 1}),
        ]
        plan = plan_for(order_of(("A", 4)), offers)
        assert plan.status is SolveStatus.HEURISTIC
        assert sum(line.quantity for s in plan.shipments for line in s.lines) == 4

    def test_a_backorder_profile_holds_a_short_line_back_and_ships_the_rest(self) -> None:
        backorder = Profile("bo", constraints=Constraints(on_short=OnShort.BACKORDER))
        offers = [Offer(node("a", COLUMBUS), {"A": 2, "B": 1}), Offer(node("b", CHICAGO), {"A": 3})]
        plan = plan_for(order_of(("A", 5), ("B", 1)), offers, backorder)
        assert [(u.sku, u.reason) for u in plan.unfilled] == [("A", Unfilled.BACKORDERED)]
        assert [line.sku for s in plan.shipments for line in s.lines] == ["B"]

    def test_a_reject_profile_refuses_the_whole_order_when_a_line_is_short(self) -> None:
        strict = Profile(
            "strict", constraints=Constraints(ship_complete=True, on_short=OnShort.REJECT)
        )
        offers = [Offer(node("a", COLUMBUS), {"A": 5, "B": 0})]
        plan = plan_for(order_of(("A", 1), ("B", 1)), offers, strict)
        assert plan.shipments == ()
        assert {u.sku: u.reason for u in plan.unfilled} == {
            "A": Unfilled.REJECTED,
            "B": Unfilled.NO_STOCK,
        }

    def test_every_unfillable_line_gets_its_reason(self) -> None:
        hazmat = {**PRODUCTS, "H": product("H", handling=frozenset({Handling.HAZMAT}))}
        offers = [Offer(node("a", COLUMBUS), {"A": 1, "H": 4})]  # cannot handle hazmat
        plan = plan_for(order_of(("A", 3), ("B", 1), ("H", 1)), offers, products=hazmat)
        assert {u.sku: u.reason for u in plan.unfilled} == {
            "A": Unfilled.NOT_ENOUGH,
            "B": Unfilled.NO_STOCK,
            "H": Unfilled.NO_CAPABLE_NODE,
        }

    def test_a_promise_no_node_can_meet_is_named_as_the_reason(self) -> None:
        offers = [Offer(node("a", SEATTLE), {"A": 5})]
        plan = plan_for(order_of(("A", 1), promise_by=NOW.date()), offers)
        assert [u.reason for u in plan.unfilled] == [Unfilled.PROMISE_UNREACHABLE]
        assert "delivers by" in plan.explanation.excluded["a"]

    def test_the_fastest_profile_pays_for_an_earlier_arrival(self) -> None:
        offers = [
            Offer(node("cheap-far", SEATTLE, cost=HandlingCost(0.0, 0.0)), {"A": 5}),
            Offer(node("dear-near", COLUMBUS, cost=HandlingCost(12.0, 1.0)), {"A": 5}),
        ]
        cheap = plan_for(order_of(("A", 1)), offers, LOWEST_COST)
        fast = plan_for(order_of(("A", 1)), offers, FASTEST)
        assert fast.deliver_on is not None and cheap.deliver_on is not None
        assert fast.deliver_on < cheap.deliver_on
        assert fast.costs.money > cheap.costs.money

    def test_ship_complete_ships_everything_together_or_waits(self) -> None:
        complete = Profile(
            "complete", constraints=Constraints(ship_complete=True, on_short=OnShort.BACKORDER)
        )
        offers = [Offer(node("a", COLUMBUS), {"A": 5}), Offer(node("b", CHICAGO), {"B": 5})]
        plan = plan_for(order_of(("A", 1), ("B", 1)), offers, complete)
        assert plan.shipments == ()
        assert {u.reason for u in plan.unfilled} == {Unfilled.BACKORDERED}

    def test_a_store_keeps_its_minimum_and_only_gives_what_is_above_it(self) -> None:
        keep_two = Profile("keep", constraints=Constraints(min_store_stock_left=2))
        offers = [
            Offer(node("store", NEW_YORK, NodeType.STORE), {"A": 3}),
            Offer(node("dc", SEATTLE), {"A": 5}),
        ]
        assert [s.node_id for s in plan_for(order_of(("A", 1)), offers, keep_two).shipments] == [
            "store"
        ]
        assert [s.node_id for s in plan_for(order_of(("A", 2)), offers, keep_two).shipments] == [
            "dc"
        ]

    def test_a_heavy_shipment_goes_as_several_parcels(self) -> None:
        heavy = {"A": product("A", pounds=60.0)}
        offers = [Offer(node("a", COLUMBUS), {"A": 9})]
        plan = plan_for(order_of(("A", 4)), offers, products=heavy)
        assert plan.shipments[0].billable_lb == 240
        assert plan.shipments[0].packages == 2


class TestExplanations:
    def test_a_store_short_of_units_is_told_how_many_more_would_make_it_win(self) -> None:
        offers = [
            Offer(node("store-112", NEW_YORK, NodeType.STORE), {"A": 1, "B": 2}),
            Offer(node("dc-west", SEATTLE), {"A": 9, "B": 9}),
        ]
        plan = plan_for(order_of(("A", 3), ("B", 1)), offers)
        assert [s.node_id for s in plan.shipments] == ["dc-west"]
        [binding] = [b for b in plan.explanation.binding if b.node_id == "store-112"]
        assert binding.constraint == "stock"
        assert binding.change == "store-112 wins with 2 more of A"
        assert binding.saving > 0

    def test_a_node_out_of_capacity_is_named_with_what_it_would_save(self) -> None:
        offers = [
            Offer(node("dc-east", COLUMBUS), {"A": 5}, orders_left_today=0),
            Offer(node("dc-west", SEATTLE), {"A": 5}),
        ]
        plan = plan_for(order_of(("A", 1)), offers)
        assert plan.explanation.excluded["dc-east"] == "no capacity left today"
        [binding] = plan.explanation.binding
        assert (binding.constraint, binding.node_id) == ("capacity", "dc-east")
        assert "capacity" in binding.change

    def test_a_shipment_limit_that_costs_money_is_binding(self) -> None:
        one = Profile("one", constraints=Constraints(max_shipments=1))
        heavy = {sku: product(sku, pounds=10.0) for sku in ("A", "B")}
        offers = [
            Offer(node("a", NEW_YORK), {"A": 5}),
            Offer(node("b", NEW_YORK), {"B": 5}),
            Offer(node("far", SEATTLE), {"A": 5, "B": 5}),
        ]
        plan = plan_for(order_of(("A", 1), ("B", 1)), offers, one, heavy)
        assert [s.node_id for s in plan.shipments] == ["far"]
        assert any(b.constraint == "max_shipments" for b in plan.explanation.binding)
        two = [a for a in plan.explanation.alternatives if "2 shipment" in a.summary]
        assert two == []  # not allowed, so not offered as an alternative

    def test_alternatives_say_how_much_more_each_would_cost(self) -> None:
        offers = [
            Offer(node("near", COLUMBUS), {"A": 5}),
            Offer(node("mid", DALLAS), {"A": 5}),
            Offer(node("far", SEATTLE), {"A": 5}),
        ]
        plan = plan_for(order_of(("A", 1)), offers)
        costs = [a.extra_cost for a in plan.explanation.alternatives]
        assert [a.nodes for a in plan.explanation.alternatives] == [("mid",), ("far",)]
        assert costs == sorted(costs) and costs[0] > 0
        assert "near" in plan.explanation.why

    def test_no_alternative_costs_less_than_the_optimal_plan_it_is_compared_with(self) -> None:
        # The search's cost per number of shipments lets a node ship two of the groups (where
        # two parcels cost less than one): a bound, not a plan, when below the optimum.
        cheaper = []
        for seed in range(1000):
            order, offers, products, profile = random_world(random.Random(seed))
            plan = route(order, offers, products, SERVICES, profile, NOW, RateBook(), DateBook())
            cheaper += [(seed, a) for a in plan.explanation.alternatives if a.extra_cost < 0]
        assert cheaper == []

    def test_a_shipment_limit_is_binding_only_by_what_more_shipments_really_save(self) -> None:
        checked = []
        for seed in range(1000):
            order, offers, products, profile = random_world(random.Random(seed))
            plan = route(order, offers, products, SERVICES, profile, NOW, RateBook(), DateBook())
            for binding in plan.explanation.binding:
                if binding.constraint != "max_shipments":
                    continue
                free = replace(
                    profile, constraints=replace(profile.constraints, max_shipments=None)
                )
                _, best = brute_force(order, offers, products, SERVICES, free, NOW)
                checked.append(
                    (seed, round(binding.saving, 2), round(plan.costs.objective - best, 2))
                )
        assert len(checked) > 20
        assert [c for c in checked if abs(c[1] - c[2]) > 0.01] == []


class TestProfiles:
    def test_the_shipped_profiles_are_sound(self) -> None:
        from dom.domain.sourcing.profiles import SHIPPED_PROFILES

        assert {p.name: p.problems() for p in SHIPPED_PROFILES} == {
            p.name: [] for p in SHIPPED_PROFILES
        }

    @pytest.mark.parametrize(
        ("profile", "field"),
        [
            (Profile("p", weights=Weights(0, 0, 0, 0, 0, 0)), "weights"),
            (Profile("p", weights=Weights(shipping_cost=-1)), "weights.shipping_cost"),
            (Profile("p", constraints=Constraints(max_shipments=0)), "constraints.max_shipments"),
            (
                Profile("p", constraints=Constraints(ship_complete=True, max_shipments=2)),
                "constraints.max_shipments",
            ),
            (Profile("p", constraints=Constraints(ship_complete=True)), "constraints.on_short"),
            (
                Profile("p", constraints=Constraints(node_types=frozenset())),
                "constraints.node_types",
            ),
            (
                Profile(
                    "p",
                    constraints=Constraints(
                        carriers=frozenset({"ups"}), services=frozenset({"parcelco/ground"})
                    ),
                ),
                "constraints.services",
            ),
            (
                Profile(
                    "p",
                    constraints=Constraints(
                        min_store_stock_left=2,
                        node_types=frozenset({NodeType.DISTRIBUTION_CENTRE}),
                    ),
                ),
                "constraints.min_store_stock_left",
            ),
        ],
    )
    def test_a_contradictory_profile_names_the_field(self, profile: Profile, field: str) -> None:
        assert field in [p.field for p in profile.problems()]


def levels_step_by_step(single: np.ndarray, count: int, deepest: int) -> list[np.ndarray]:
    """best_k(S) the plain way: every (S, T) pair at every step, until a step changes nothing."""
    levels = [np.where(np.arange(1 << count) == 0, 0.0, np.inf), single.copy()]
    levels[1][0] = 0.0
    while len(levels) <= deepest:
        current = levels[-1].copy()
        for s in range(1, 1 << count):
            low = s & -s
            for t in range(1, 1 << count):
                if t & low and t & s == t:
                    current[s] = min(current[s], single[t] + levels[-1][s ^ t])
        if np.array_equal(current, levels[-1]):
            break
        levels.append(current)
    return levels


def test_the_levels_of_the_search_are_those_of_every_pair_at_every_step() -> None:
    # The search skips pairs that cannot lower a level: the levels must not change by a bit.
    for seed in range(40):
        rng = random.Random(seed)
        lines = rng.randint(1, 8)
        single = np.array([rng.choice([math.inf, rng.uniform(1, 20)]) for _ in range(1 << lines)])
        single = np.round(single, rng.choice([0, 2]))  # ties, as rounded rates make them
        expected = levels_step_by_step(single, lines, lines)
        got = search._levels(single, lines, lines)
        assert len(got) == len(expected), f"seed {seed}"
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True)), f"seed {seed}"


def test_leaving_nodes_out_picks_the_first_cheapest_of_the_others() -> None:
    for seed in range(300):
        rng = random.Random(seed)
        table, _ = random_table(rng)
        once = rng.sample(range(len(table.nodes)), rng.randint(1, len(table.nodes)))
        free = [n for n in range(len(table.nodes)) if n not in once]
        node_of, single = search._without(table, once)
        if not free:
            assert (node_of == -1).all() and np.isinf(single).all()
            continue
        finite = np.isfinite(single)
        picks = np.argmin(table.costs[free], axis=0)
        assert np.array_equal(single, table.costs[free].min(axis=0)), f"seed {seed}"
        assert np.array_equal(node_of[finite], np.array(free)[picks][finite]), f"seed {seed}"


@pytest.mark.parametrize("lines", [2, 9, 11])
def test_the_cheapest_node_of_a_subset_is_the_first_of_the_cheapest(lines: int) -> None:
    rng = np.random.default_rng(lines)
    costs = np.round(rng.uniform(1, 4, (7, 1 << lines)), 0)  # many ties
    costs[rng.random(costs.shape) < 0.3] = np.inf
    node_of, best = search._cheapest(costs)
    assert np.array_equal(node_of, np.argmin(costs, axis=0))
    assert np.array_equal(best, costs.min(axis=0))
