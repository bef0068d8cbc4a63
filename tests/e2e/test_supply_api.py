"""Inbound supply over HTTP: announce it, receive against it, promise from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.factories import node_record, product_record, store_record

SKU = "SKU-1"
TODAY = datetime.now(UTC).date()


def line(quantity: int, days: int, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "purchase_order",
        "reference": "PO-1",
        "sku": SKU,
        "node_id": "dc-1",
        "quantity": quantity,
        "expected_on": (TODAY + timedelta(days=days)).isoformat(),
        **changes,
    }


@pytest.fixture
def network(admin: httpx.Client) -> Iterator[httpx.Client]:
    bundle = {
        "nodes": [node_record("dc-1"), store_record("store-1")],
        "products": [product_record(SKU)],
    }
    assert admin.post("/v1/master-data/import", json=bundle).status_code == 200
    count = {
        "idempotency_key": "c",
        "kind": "snapshot",
        "sku": SKU,
        "node_id": "dc-1",
        "quantity": 2,
        "source": "wms",
        "source_time": datetime.now(UTC).isoformat(),
    }
    assert admin.post("/v1/inventory/events", json={"events": [count]}).status_code == 200
    yield admin


def test_a_quantity_is_promised_from_the_day_its_supply_arrives(network: httpx.Client) -> None:
    created = network.post("/v1/inbound-supply", json={"lines": [line(3, 5), line(10, 12)]})
    assert created.status_code == 201
    first = network.get("/v1/atp", params={"sku": SKU, "quantity": 4}).json()
    assert (first["available_now"], first["promise_date"]) == (
        2,
        (TODAY + timedelta(days=5)).isoformat(),
    )
    later = network.get("/v1/atp", params={"sku": SKU, "quantity": 6}).json()
    assert later["promise_date"] == (TODAY + timedelta(days=12)).isoformat()
    never = network.get("/v1/atp", params={"sku": SKU, "quantity": 100}).json()
    assert never["promise_date"] is None
    assert (
        network.get("/v1/atp", params={"sku": SKU, "quantity": 2}).json()["promise_date"]
        == TODAY.isoformat()
    )


def test_a_receipt_against_a_line_moves_it_from_inbound_to_on_hand(network: httpx.Client) -> None:
    supply_id = network.post("/v1/inbound-supply", json={"lines": [line(5, 3)]}).json()[0]["id"]
    receipt = {
        "idempotency_key": "r1",
        "kind": "receipt",
        "sku": SKU,
        "node_id": "dc-1",
        "quantity": 3,
        "source": "wms",
        "source_time": datetime.now(UTC).isoformat(),
        "supply_id": supply_id,
    }
    assert network.post("/v1/inventory/events", json={"events": [receipt]}).status_code == 200
    assert network.get("/v1/inbound-supply", params={"sku": SKU}).json()[0]["remaining"] == 2
    promise = network.get("/v1/atp", params={"sku": SKU, "quantity": 7}).json()
    assert (promise["available_now"], promise["promise_date"]) == (
        5,
        (TODAY + timedelta(days=3)).isoformat(),
    )
    too_many = {**receipt, "idempotency_key": "r2", "quantity": 3}
    refused = network.post("/v1/inventory/events", json={"events": [too_many]})
    assert refused.status_code == 422
    assert "2 units still to come" in refused.json()["errors"][0]["reason"]
    assert (
        network.get("/v1/inventory/positions", params={"sku": SKU, "node_id": "dc-1"}).json()[0][
            "on_hand"
        ]
        == 5
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "lines.1.quantity"),
        ({"kind": "gift"}, "lines.1.kind"),
        ({"sku": "NOPE"}, "lines.sku"),
        ({"kind": "transfer"}, "lines.1.from_node_id"),
        ({"expected_on": "soon"}, "lines.1.expected_on"),
    ],
)
def test_bad_supply_lines_are_refused_and_nothing_is_added(
    network: httpx.Client, changes: dict[str, Any], field: str
) -> None:
    refused = network.post(
        "/v1/inbound-supply", json={"lines": [line(5, 3), {**line(5, 3), **changes}]}
    )
    assert refused.status_code == 422
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert network.get("/v1/inbound-supply", params={"sku": SKU}).json() == []


def test_a_transfer_names_its_source_and_arrives_at_its_destination(network: httpx.Client) -> None:
    transfer = line(4, 2, kind="transfer", node_id="store-1", from_node_id="dc-1")
    created = network.post("/v1/inbound-supply", json={"lines": [transfer]}).json()[0]
    assert (created["kind"], created["node_id"]) == ("transfer", "store-1")
    promise = network.get(
        "/v1/atp", params={"sku": SKU, "quantity": 3, "node_id": "store-1"}
    ).json()
    assert promise["promise_date"] == (TODAY + timedelta(days=2)).isoformat()
    assert isinstance(date.fromisoformat(promise["promise_date"]), date)
