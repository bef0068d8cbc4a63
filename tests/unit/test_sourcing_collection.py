"""Collected lines routed to the pickup store in one plan, when the profile allows transfers:
the store's own shelf (no freight, ready on the store's own day) weighed against transfers from
other nodes by the profile's objective, a line split between them when no one has it all, the
promise date kept, and the profile's rules on where units ship from applied to the transfers."""

from __future__ import annotations

from dataclasses import replace

from dom.domain.network import NodeType
from dom.domain.sourcing.collection import (
    SHELF_CARRIER,
    SHELF_SERVICE,
    route_collection,
    shelf_picks,
    transfers_in,
)
from dom.domain.sourcing.model import Offer, Order, OrderLine, Plan, Unfilled
from dom.domain.sourcing.profiles import Constraints, Profile, Weights
from tests.support.sourcing import NOW, SERVICES, destination, node, product

CHICAGO, COLUMBUS = 2, 1
STORE = node("store-a", CHICAGO, NodeType.STORE)
DC = node("dc-columbus", COLUMBUS)
PRODUCTS = {"SKU-1": product("SKU-1"), "SKU-2": product("SKU-2")}
TRANSFERS = Constraints(transfers_to_pickup=True)
COST = Profile("cost", constraints=TRANSFERS)
GUARD = Profile("guard", weights=Weights(inventory_protection=1.0), constraints=TRANSFERS)


def collect(
    *lines: tuple[str, int],
    shelf: dict[str, int],
    transfers: list[Offer],
    profile: Profile = COST,
    last_unit_worth: float = 0.0,
    **changes: object,
) -> Plan:
    order = Order(
        "o-1",
        tuple(OrderLine(str(i), sku, n) for i, (sku, n) in enumerate(lines, 1)),
        destination(CHICAGO),
        **changes,  # type: ignore[arg-type]
    )
    worth = {sku: last_unit_worth for sku in shelf} if last_unit_worth else {}
    on_shelf = Offer(STORE, shelf, future_value=worth)
    return route_collection(order, on_shelf, transfers, PRODUCTS, SERVICES, profile, NOW)


def picked(plan: Plan) -> list[tuple[str, int]]:
    return [(line.line_id, line.quantity) for s in shelf_picks(plan, STORE.id) for line in s.lines]


def transferred(plan: Plan) -> list[tuple[str, str, int]]:
    return [
        (s.node_id, line.line_id, line.quantity)
        for s in transfers_in(plan, STORE.id)
        for line in s.lines
    ]


class TestShelfOrTransfer:
    def test_a_line_the_store_covers_goes_from_its_shelf_without_freight_the_same_day(
        self,
    ) -> None:
        plan = collect(("SKU-1", 3), shelf={"SKU-1": 3}, transfers=[Offer(DC, {"SKU-1": 10})])
        assert picked(plan) == [("1", 3)] and transferred(plan) == []
        (pick,) = plan.shipments
        assert (pick.carrier, pick.service, pick.miles) == (SHELF_CARRIER, SHELF_SERVICE, 0.0)
        assert pick.costs.shipping == 0.0
        assert pick.costs.handling == STORE.cost.per_order + 3 * STORE.cost.per_unit
        assert pick.deliver_on == NOW.date()  # before the store's cutoff: ready today
        assert f"by {SHELF_CARRIER}/{SHELF_SERVICE}" in plan.explanation.why

    def test_a_line_the_store_covers_only_in_part_is_split_between_the_shelf_and_a_transfer(
        self,
    ) -> None:
        plan = collect(("SKU-1", 3), shelf={"SKU-1": 2}, transfers=[Offer(DC, {"SKU-1": 1})])
        assert picked(plan) == [("1", 2)]
        assert transferred(plan) == [("dc-columbus", "1", 1)]
        assert plan.unfilled == ()

    def test_a_line_the_store_cannot_cover_is_transferred_whole_from_a_node_that_has_it(
        self,
    ) -> None:
        plan = collect(("SKU-1", 3), shelf={"SKU-1": 2}, transfers=[Offer(DC, {"SKU-1": 10})])
        assert picked(plan) == []
        (transfer,) = transfers_in(plan, STORE.id)
        assert transfer.costs.shipping > 0 and transfer.deliver_on > NOW.date()
        assert transferred(plan) == [("dc-columbus", "1", 3)]

    def test_what_neither_the_shelf_nor_a_transfer_can_give_waits_with_its_reason(self) -> None:
        plan = collect(
            ("SKU-1", 4), ("SKU-2", 1), shelf={"SKU-1": 2}, transfers=[Offer(DC, {"SKU-1": 1})]
        )
        assert picked(plan) == [("1", 2)] and transferred(plan) == [("dc-columbus", "1", 1)]
        reasons = {(u.line_id, u.quantity): u.reason for u in plan.unfilled}
        assert reasons == {("1", 1): Unfilled.NOT_ENOUGH, ("2", 1): Unfilled.NO_STOCK}

    def test_no_other_node_hands_over_from_a_shelf_even_standing_at_the_stores_spot(
        self,
    ) -> None:
        next_door = replace(node("dc-next-door", CHICAGO), location=STORE.location)
        plan = collect(("SKU-1", 1), shelf={}, transfers=[Offer(next_door, {"SKU-1": 5})])
        (transfer,) = plan.shipments
        assert transfer.node_id == "dc-next-door"
        assert (transfer.carrier, transfer.service) != (SHELF_CARRIER, SHELF_SERVICE)
        assert transfer.costs.shipping > 0


class TestProtectionAndPromises:
    def test_a_protecting_profile_keeps_the_stores_last_unit_and_transfers_the_line(
        self,
    ) -> None:
        transfers = [Offer(DC, {"SKU-1": 10})]
        kept = collect(
            ("SKU-1", 1),
            shelf={"SKU-1": 1},
            transfers=transfers,
            profile=GUARD,
            last_unit_worth=40.0,
        )
        assert picked(kept) == [] and transferred(kept) == [("dc-columbus", "1", 1)]
        assert any(
            a.nodes == ("store-a",) and a.extra_cost > 0 for a in kept.explanation.alternatives
        )
        unprotected = replace(GUARD, weights=Weights(inventory_protection=0.0))
        taken = collect(
            ("SKU-1", 1),
            shelf={"SKU-1": 1},
            transfers=transfers,
            profile=unprotected,
            last_unit_worth=40.0,
        )
        assert picked(taken) == [("1", 1)]

    def test_a_promise_the_transfer_cannot_meet_keeps_the_shelf(self) -> None:
        plan = collect(
            ("SKU-1", 1),
            shelf={"SKU-1": 1},
            transfers=[Offer(DC, {"SKU-1": 10})],
            profile=GUARD,
            last_unit_worth=40.0,
            promise_by=NOW.date(),
        )
        assert picked(plan) == [("1", 1)]
        assert "delivers by" in plan.explanation.excluded["dc-columbus"]

    def test_a_promise_only_a_transfer_could_meet_leaves_nothing_on_the_shelf_past_it(
        self,
    ) -> None:
        late = replace(STORE, calendar=replace(STORE.calendar, processing_days=5))
        order = Order("o-1", (OrderLine("1", "SKU-1", 1),), destination(CHICAGO))
        plan = route_collection(
            replace(order, promise_by=NOW.date().replace(day=4)),
            Offer(late, {"SKU-1": 1}),
            [Offer(DC, {"SKU-1": 10})],
            PRODUCTS,
            SERVICES,
            COST,
            NOW,
        )
        assert [s.node_id for s in plan.shipments] == ["dc-columbus"]
        assert "delivers by" in plan.explanation.excluded["store-a"]


class TestProfileRules:
    def test_rules_on_where_units_ship_from_and_by_which_carrier_judge_transfers_not_the_shelf(
        self,
    ) -> None:
        other_store = node("store-b", CHICAGO, NodeType.STORE)
        strict = Profile(
            "strict",
            constraints=replace(
                TRANSFERS,
                node_types=frozenset({NodeType.DISTRIBUTION_CENTRE}),
                regions=frozenset({"OH"}),
                carriers=frozenset({SERVICES[0].carrier}),
            ),
        )
        plan = collect(
            ("SKU-1", 1),
            ("SKU-2", 1),
            shelf={"SKU-1": 1},
            transfers=[Offer(other_store, {"SKU-1": 5, "SKU-2": 5}), Offer(DC, {"SKU-2": 5})],
            profile=strict,
        )
        assert picked(plan) == [("1", 1)]
        assert transferred(plan) == [("dc-columbus", "2", 1)]
        assert (
            plan.explanation.excluded["store-b"] == "node type store is not allowed by the profile"
        )

    def test_the_units_a_profile_keeps_at_stores_do_not_hold_back_the_pickup_stores_shelf(
        self,
    ) -> None:
        keeping = replace(COST, constraints=replace(TRANSFERS, min_store_stock_left=2))
        plan = collect(("SKU-1", 1), shelf={"SKU-1": 1}, transfers=[], profile=keeping)
        assert picked(plan) == [("1", 1)]
