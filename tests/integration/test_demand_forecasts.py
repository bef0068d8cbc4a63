"""The demand forecast in production, on SQLite and PostgreSQL: learned from the orders dom
routed and fulfilled, stored in place of the last one atomically, and used by routing so that a
protecting profile leaves a store the units its pickup customers will want."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from dom.adapters import forecast_store
from dom.adapters.database import reading
from dom.adapters.tables import demand_forecasts, forecast_cells, forecast_nodes, forecast_skus
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.errors import InvalidInput
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Order, OrderLine
from dom.domain.sourcing.forecast import LOST_SALE, Forecast
from dom.domain.sourcing.model import OrderLine as RoutedLine
from dom.schemas.sourcing import ProfileDoc, RuleSetDoc
from dom.services import forecasts, fulfilment, masterdata, orders, profiles, sourcing, waves
from tests.integration.test_order_jobs import HOME, POLICY, capture, count, set_up
from tests.support.factories import node_record, product_record, service_record, store_record


def pickup(engine: Engine, zips: ZipDirectory, store: str, sku: str, units: int) -> Order:
    return capture(
        engine,
        zips,
        OrderLine("1", sku, units, 9.0, Method.PICKUP),
        ship_to=None,
        pickup_node_id=store,
    )


def hand_over(engine: Engine, zips: ZipDirectory, placed: Order) -> None:
    """Carry a pickup request through to the customer collecting it."""
    request = placed.fulfilments[0].id
    for act in (
        fulfilment.acknowledge("store"),
        fulfilment.confirm_pick(zips, POLICY, "store", {}),
        fulfilment.pack("store", []),
        fulfilment.step("store", Status.READY_FOR_PICKUP),
        fulfilment.hand_over("store"),
    ):
        fulfilment.operate(engine, LOCAL_OPERATOR, request, act)


def stored_counts(engine: Engine) -> dict[str, int]:
    with reading(engine) as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (demand_forecasts, forecast_cells, forecast_skus, forecast_nodes)
        }


def read_forecast(engine: Engine, *skus: str) -> Forecast | None:
    with reading(engine) as connection:
        return forecast_store.forecast_for(connection, list(skus))


# ---- learning and storing ---------------------------------------------------------------------


def test_a_refresh_learns_demand_where_captured_and_fulfilled_orders_were_served(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "store-a", 10)
    for dc in ("dc-columbus", "dc-reno"):
        count(engine, "SKU-2", dc, 5)
    collected = pickup(engine, zips, "store-a", "SKU-1", 2)
    hand_over(engine, zips, collected)
    pickup(engine, zips, "store-a", "SKU-1", 1)  # released, not collected yet: demand too
    cancelled = pickup(engine, zips, "store-a", "SKU-1", 4)
    orders.cancel(engine, LOCAL_OPERATOR, cancelled.id, None, "changed their mind")
    shipped = capture(engine, zips, OrderLine("1", "SKU-2", 2, 9.0))
    assert [f.node_id for f in shipped.fulfilments] == ["dc-columbus"]
    decided = sourcing.decision(engine, LOCAL_OPERATOR, shipped.decisions[0])
    reno = [a for a in decided.plan.explanation.alternatives if a.nodes == ("dc-reno",)]
    assert reno and reno[0].extra_cost > 0

    info = forecasts.refresh(engine, LOCAL_OPERATOR, days=28)

    assert info.forecast_id is not None and info.refreshed_at is not None
    assert (info.lines, info.units, info.cells, info.skus, info.nodes) == (3, 5, 2, 2, 2)
    assert forecasts.current(engine, LOCAL_OPERATOR) == info
    forecast = read_forecast(engine, "SKU-1", "SKU-2")
    assert forecast is not None
    store = forecast.cells[("store-a", "SKU-1")]
    assert store.weighted_units == pytest.approx(3.0)  # 2 collected + 1 waiting; none cancelled
    assert store.weighted_cost == pytest.approx(3 * LOST_SALE)
    shipped_cell = forecast.cells[("dc-columbus", "SKU-2")]
    assert shipped_cell.weighted_cost / shipped_cell.weighted_units == pytest.approx(
        reno[0].extra_cost / 2
    )
    assert forecast.rate("store-a", "SKU-1") > 0
    assert forecast.rate("dc-reno", "SKU-1") == 0  # it served nobody
    # Only the SKUs asked for are read.
    only = read_forecast(engine, "SKU-2")
    assert only is not None and set(only.cells) == {("dc-columbus", "SKU-2")}
    assert read_forecast(engine, "SKU-404") is None


def test_a_refresh_replaces_the_forecast_whole_even_when_two_run_at_once(
    engine: Engine, zips: ZipDirectory
) -> None:
    set_up(engine, zips)
    count(engine, "SKU-1", "store-a", 10)
    pickup(engine, zips, "store-a", "SKU-1", 2)
    first = forecasts.refresh(engine, LOCAL_OPERATOR)
    pickup(engine, zips, "store-a", "SKU-1", 1)
    second = forecasts.refresh(engine, LOCAL_OPERATOR)
    assert second.forecast_id != first.forecast_id
    assert (first.units, second.units) == (2, 3)
    assert stored_counts(engine) == {
        "demand_forecasts": 1,
        "forecast_cells": 1,
        "forecast_skus": 1,
        "forecast_nodes": 1,
    }

    failures: list[BaseException] = []
    done: list[forecasts.ForecastInfo] = []

    def refresh() -> None:
        try:
            done.append(forecasts.refresh(engine, LOCAL_OPERATOR))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    final = forecasts.current(engine, LOCAL_OPERATOR)
    assert final.forecast_id in {d.forecast_id for d in done}
    assert final.units == 3
    assert stored_counts(engine)["demand_forecasts"] == 1
    assert stored_counts(engine)["forecast_cells"] == 1


def test_an_empty_history_leaves_no_forecast_and_routing_protects_nothing(
    engine: Engine, zips: ZipDirectory
) -> None:
    never = forecasts.current(engine, LOCAL_OPERATOR)
    assert never.refreshed_at is None and never.forecast_id is None
    empty = forecasts.refresh(engine, LOCAL_OPERATOR)
    assert empty.refreshed_at is not None and empty.forecast_id is None
    assert (empty.lines, empty.cells) == (0, 0)

    set_up(engine, zips)
    count(engine, "SKU-1", "store-a", 10)
    pickup(engine, zips, "store-a", "SKU-1", 2)
    assert forecasts.refresh(engine, LOCAL_OPERATOR).forecast_id is not None
    # A month on, the order is out of the window: the old forecast goes, none takes its place.
    later = datetime.now(UTC) + timedelta(days=30)
    gone = forecasts.refresh(engine, LOCAL_OPERATOR, days=28, now=later)
    assert gone.forecast_id is None and gone.refreshed_at == later
    assert set(stored_counts(engine).values()) == {0}
    assert read_forecast(engine, "SKU-1") is None


def test_a_refresh_over_no_days_is_refused_naming_the_field(engine: Engine) -> None:
    for days in (0, -3):
        with pytest.raises(InvalidInput) as refused:
            forecasts.refresh(engine, LOCAL_OPERATOR, days=days)
        assert [p.field for p in refused.value.problems] == ["days"]
    assert forecasts.current(engine, LOCAL_OPERATOR).refreshed_at is None


# ---- routing ----------------------------------------------------------------------------------


def protection_network(engine: Engine, zips: ZipDirectory) -> None:
    """A store next to the customer, cheaper to ship from than a DC across the country."""
    bundle = masterdata.bundle_from_json(
        {
            "nodes": [
                node_record("dc-reno", zip="89502"),
                store_record(
                    "store-c",
                    city="Columbus",
                    state="OH",
                    zip="43215",
                    cost_per_order=4.0,
                    cost_per_unit=0.5,
                ),
            ],
            "products": [product_record("SKU-1")],
            "carrier_services": [service_record(max_lb=50)],
        }
    )
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)


def guard(protection: float) -> ProfileDoc:
    weights = {"shipping_cost": 1.0, "handling_cost": 1.0, "inventory_protection": protection}
    return ProfileDoc.model_validate({"name": "guard", "weights": weights})


def dry_run(engine: Engine, zips: ZipDirectory, version: int) -> sourcing.Decision:
    request = sourcing.SourcingRequest(
        "try-1",
        (RoutedLine("1", "SKU-1", 1),),
        HOME.zip_code,
        profile="guard",
        profile_version=version,
    )
    return sourcing.plan(engine, LOCAL_OPERATOR, zips, request)


def test_a_protecting_profile_leaves_the_store_the_units_its_pickup_customers_will_want(
    engine: Engine, zips: ZipDirectory
) -> None:
    protection_network(engine, zips)
    count(engine, "SKU-1", "store-c", 20)
    count(engine, "SKU-1", "dc-reno", 10)
    assert profiles.save_draft(engine, LOCAL_OPERATOR, guard(1.0)) == 1
    profiles.activate(engine, LOCAL_OPERATOR, "guard", 1)
    assert profiles.save_draft(engine, LOCAL_OPERATOR, guard(0.0)) == 2  # the same, unprotected
    rules = RuleSetDoc.model_validate({"rules": [], "fallback": "guard"})
    profiles.activate_rules(
        engine, LOCAL_OPERATOR, profiles.save_rules_draft(engine, LOCAL_OPERATOR, rules)
    )
    for _ in range(6):  # the store's pickup customers: 18 of its 20 units
        pickup(engine, zips, "store-c", "SKU-1", 3)
    # Without a forecast, protecting changes nothing: the store is cheaper.
    assert [s.node_id for s in dry_run(engine, zips, 1).plan.shipments] == ["store-c"]

    forecasts.refresh(engine, LOCAL_OPERATOR)

    shipped = capture(engine, zips, OrderLine("1", "SKU-1", 1, 9.0))
    assert [(f.node_id, f.method) for f in shipped.fulfilments] == [("dc-reno", Method.SHIP)]
    decided = sourcing.decision(engine, LOCAL_OPERATOR, shipped.decisions[0])
    assert decided.profile == "guard" and decided.profile_version == 1
    store = [a for a in decided.plan.explanation.alternatives if a.nodes == ("store-c",)]
    assert store and store[0].extra_cost > 0  # dearer once its units' future value counts
    # The same profile without protection takes the cheaper store; with it, the store's
    # plan carries the future value of the unit it would give up.
    unprotected = dry_run(engine, zips, 2).plan
    assert [s.node_id for s in unprotected.shipments] == ["store-c"]
    assert unprotected.costs.protection == 0
    assert unprotected.costs.money < decided.plan.costs.money


def test_a_batch_wave_under_a_protecting_profile_leaves_the_store_its_units_too(
    engine: Engine, zips: ZipDirectory
) -> None:
    protection_network(engine, zips)
    count(engine, "SKU-1", "store-c", 20)
    count(engine, "SKU-1", "dc-reno", 10)
    for version, weight in ((1, 1.0), (2, 0.0)):
        assert profiles.save_draft(engine, LOCAL_OPERATOR, guard(weight)) == version
    profiles.activate(engine, LOCAL_OPERATOR, "guard", 1)
    rules = RuleSetDoc.model_validate({"rules": [], "fallback": "guard"})
    profiles.activate_rules(
        engine, LOCAL_OPERATOR, profiles.save_rules_draft(engine, LOCAL_OPERATOR, rules)
    )
    for _ in range(6):
        pickup(engine, zips, "store-c", "SKU-1", 3)
    forecasts.refresh(engine, LOCAL_OPERATOR)

    def wave() -> list[str]:
        request = sourcing.SourcingRequest("wave-1", (RoutedLine("1", "SKU-1", 1),), HOME.zip_code)
        outcome = waves.route_orders(engine, LOCAL_OPERATOR, zips, [request], time_limit=10)
        return [s.node_id for s in outcome.decisions[0].plan.shipments]

    assert wave() == ["dc-reno"]  # version 1 protects the store's units
    profiles.activate(engine, LOCAL_OPERATOR, "guard", 2)
    assert wave() == ["store-c"]  # the same profile without protection takes the cheaper store
