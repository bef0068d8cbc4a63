"""Pickup and curbside orders routed to the store, on SQLite and PostgreSQL: under a profile that
allows transfers, the store's shelf and transfers from other nodes in one recorded plan — the
shelf's units allocated for pickup, the transferred ones at their nodes — and, without it,
lines the store cannot cover waiting there as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Order, OrderLine
from dom.services import forecasts, fulfilment, profiles, sourcing
from dom.services.inventory import set_safety_stock
from dom.services.sourcing import local_day
from tests.integration.test_demand_forecasts import pickup, protection_network
from tests.integration.test_order_jobs import POLICY, allocated, capture, count, set_up


def use_profile(engine: Engine, **document: Any) -> None:
    """Route every order under this profile."""
    name = document["name"]
    version = profiles.save_draft(engine, LOCAL_OPERATOR, profiles.profile_document(document))
    profiles.activate(engine, LOCAL_OPERATOR, name, version)
    rules = profiles.rule_set_document({"rules": [], "fallback": name})
    profiles.activate_rules(
        engine, LOCAL_OPERATOR, profiles.save_rules_draft(engine, LOCAL_OPERATOR, rules)
    )


def transfers_allowed(engine: Engine, protection: float = 0.0) -> None:
    use_profile(
        engine,
        name="store-first",
        weights={
            "shipping_cost": 1.0,
            "handling_cost": 1.0,
            "inventory_protection": protection,
        },
        constraints={"transfers_to_pickup": True},
    )


def collected(engine: Engine, zips: ZipDirectory, *lines: OrderLine) -> Order:
    return capture(engine, zips, *lines, ship_to=None, pickup_node_id="store-a")


def requests(found: Order) -> list[tuple[str, Method, str | None, list[tuple[str, int]]]]:
    return sorted(
        (f.node_id, f.method, f.transfer_to, [(p.line_id, p.quantity) for p in f.parts])
        for f in found.fulfilments
    )


def capacity_taken(engine: Engine, *node_ids: str) -> dict[str, tuple[int, int]]:
    now = datetime.now(UTC)
    with reading(engine) as connection:
        nodes = network(connection).by_id
        days = {node_id: local_day(nodes[node_id], now) for node_id in node_ids}
        return order_store.capacity_on(connection, days)


def test_a_pickup_the_store_covers_in_part_is_picked_there_and_the_rest_transferred(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    transfers_allowed(engine)
    count(engine, "SKU-1", "store-a", 2)
    set_safety_stock(engine, LOCAL_OPERATOR, "SKU-1", "store-a", 2)  # kept for pickup customers
    count(engine, "SKU-1", "dc-columbus", 1)

    found = collected(engine, zips, OrderLine("1", "SKU-1", 3, 9.0, Method.PICKUP))

    assert found.status is Status.RELEASED and found.waiting == {}
    assert requests(found) == [
        ("dc-columbus", Method.SHIP, "store-a", [("1", 1)]),
        ("store-a", Method.PICKUP, None, [("1", 2)]),
    ]
    assert allocated(engine, "SKU-1", "store-a") == (2, 2)
    assert allocated(engine, "SKU-1", "dc-columbus") == (1, 1)
    (decision_id,) = found.decisions
    decided = sourcing.decision(engine, LOCAL_OPERATOR, decision_id)
    assert decided.committed and decided.profile == "store-first"
    assert sorted(s.node_id for s in decided.plan.shipments) == ["dc-columbus", "store-a"]
    assert "2 shipments from" in decided.plan.explanation.why
    taken = capacity_taken(engine, "store-a", "dc-columbus")
    assert (taken["store-a"], taken["dc-columbus"]) == ((2, 1), (1, 1))


def test_pickup_and_curbside_lines_from_the_shelf_keep_a_request_each_under_one_decision(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    transfers_allowed(engine)
    count(engine, "SKU-1", "store-a", 4)
    count(engine, "SKU-2", "store-a", 4)

    found = collected(
        engine,
        zips,
        OrderLine("1", "SKU-1", 1, 9.0, Method.PICKUP),
        OrderLine("2", "SKU-2", 2, 9.0, Method.CURBSIDE),
    )

    assert requests(found) == [
        ("store-a", Method.CURBSIDE, None, [("2", 2)]),
        ("store-a", Method.PICKUP, None, [("1", 1)]),
    ]
    assert len(found.decisions) == 1
    assert allocated(engine, "SKU-2", "store-a") == (4, 2)


def test_what_neither_the_shelf_nor_a_transfer_can_give_waits_with_a_reason_per_line(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    transfers_allowed(engine)
    count(engine, "SKU-1", "store-a", 1)

    found = collected(
        engine,
        zips,
        OrderLine("1", "SKU-1", 2, 9.0, Method.PICKUP),
        OrderLine("2", "SKU-2", 1, 9.0, Method.PICKUP),
    )

    assert requests(found) == [("store-a", Method.PICKUP, None, [("1", 1)])]
    assert found.waiting["1"].startswith("not_enough_stock")
    assert found.waiting["2"].startswith("no_stock")


def test_without_transfers_to_pickup_a_line_the_store_covers_in_part_still_waits_there(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "store-a", 2)
    count(engine, "SKU-1", "dc-columbus", 10)

    found = collected(engine, zips, OrderLine("1", "SKU-1", 3, 9.0, Method.PICKUP))

    assert found.status is Status.BACKORDERED
    assert found.fulfilments == [] and found.decisions == []
    assert found.waiting == {"1": "not_enough_stock: store store-a has 2 of 3"}
    assert allocated(engine, "SKU-1", "store-a") == (2, 0)
    assert allocated(engine, "SKU-1", "dc-columbus") == (10, 0)


def test_a_protecting_profile_transfers_a_pickup_to_keep_the_stores_last_units(
    engine: Engine, zips: ZipDirectory
) -> None:
    protection_network(engine, zips)
    count(engine, "SKU-1", "store-c", 20)
    count(engine, "SKU-1", "dc-reno", 10)
    transfers_allowed(engine, protection=1.0)
    for _ in range(6):  # the store's pickup customers: 18 of its 20 units
        assert pickup(engine, zips, "store-c", "SKU-1", 3).fulfilments[0].node_id == "store-c"
    forecasts.refresh(engine, LOCAL_OPERATOR)

    kept = pickup(engine, zips, "store-c", "SKU-1", 1)

    assert requests(kept) == [("dc-reno", Method.SHIP, "store-c", [("1", 1)])]
    decided = sourcing.decision(engine, LOCAL_OPERATOR, kept.decisions[0])
    shelf = [a for a in decided.plan.explanation.alternatives if a.nodes == ("store-c",)]
    assert shelf and shelf[0].extra_cost > 0  # dearer once its last units' future value counts

    transfers_allowed(engine, protection=0.0)
    taken = pickup(engine, zips, "store-c", "SKU-1", 1)
    assert requests(taken) == [("store-c", Method.PICKUP, None, [("1", 1)])]


def test_a_line_the_store_gives_back_is_transferred_to_it_from_another_node(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    transfers_allowed(engine)
    count(engine, "SKU-1", "store-a", 4)
    count(engine, "SKU-1", "dc-columbus", 10)
    placed = collected(engine, zips, OrderLine("1", "SKU-1", 2, 9.0, Method.PICKUP))
    (at_store,) = placed.fulfilments
    assert at_store.node_id == "store-a"

    rejecting = fulfilment.reject(zips, POLICY, "store", None, "damaged")
    found = fulfilment.operate(engine, LOCAL_OPERATOR, at_store.id, rejecting).order

    live = [f for f in found.fulfilments if f.status is not Status.REJECTED]
    assert requests(replace(found, fulfilments=live)) == [
        ("dc-columbus", Method.SHIP, "store-a", [("1", 2)])
    ]
    assert len(found.decisions) == 2
    assert allocated(engine, "SKU-1", "store-a") == (2, 0)  # 2 written off, none held
    assert allocated(engine, "SKU-1", "dc-columbus") == (10, 2)
