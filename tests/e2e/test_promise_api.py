"""Cart delivery promises over HTTP: dates, costs and nodes per service level; nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.factories import node_record, product_record, service_record, store_record


def count(node: str, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "idempotency_key": f"{node}-{sku}",
        "kind": "snapshot",
        "sku": sku,
        "node_id": node,
        "quantity": quantity,
        "source": "wms",
        "source_time": datetime.now(UTC).isoformat(),
    }


@pytest.fixture
def network(admin: httpx.Client) -> Iterator[httpx.Client]:
    """A DC in Columbus with A and B, a Chicago store with only A; one ground service."""
    bundle = {
        "nodes": [node_record("dc-1"), store_record("store-1")],
        "products": [
            product_record("A"),
            product_record("B"),
            product_record("C", handling=["hazmat"]),
        ],
        "carrier_services": [service_record(max_lb=20)],
    }
    assert admin.post("/v1/master-data/import", json=bundle).status_code == 200
    events = [
        count("dc-1", "A", 5),
        count("dc-1", "B", 1),
        count("store-1", "A", 5),
        count("store-1", "C", 3),
    ]
    assert admin.post("/v1/inventory/events", json={"events": events}).status_code == 200
    yield admin


def promise(client: httpx.Client, lines: list[tuple[str, int]], **changes: Any) -> httpx.Response:
    body = {"lines": [{"sku": s, "quantity": q} for s, q in lines], "zip": "60601", **changes}
    return client.post("/v1/promise", json=body)


def test_a_cart_one_node_can_ship_whole_is_promised_from_it(network: httpx.Client) -> None:
    found = promise(network, [("A", 2), ("B", 1)]).json()
    ground = found["promises"][0]
    assert ground["service_level"] == "ground"
    assert [s["node_id"] for s in ground["shipments"]] == ["dc-1"]
    assert ground["cost"] > 0 and ground["deliver_on"] >= ground["shipments"][0]["ship_on"]


def test_the_nearer_node_wins_when_both_can_ship(network: httpx.Client) -> None:
    ground = promise(network, [("A", 1)]).json()["promises"][0]
    assert [s["node_id"] for s in ground["shipments"]] == ["store-1"]


def test_a_cart_no_node_holds_whole_is_split(network: httpx.Client) -> None:
    ground = promise(network, [("A", 8)]).json()["promises"][0]
    assert sorted((s["node_id"], s["lines"][0]["quantity"]) for s in ground["shipments"]) == [
        ("dc-1", 3),
        ("store-1", 5),
    ]


def test_handling_the_node_lacks_rules_it_out(network: httpx.Client) -> None:
    found = promise(network, [("C", 1)]).json()
    assert found["promises"] == [] and found["unavailable"] == ["ground"]


def test_pickup_says_when_the_store_has_it_ready_or_what_is_missing(network: httpx.Client) -> None:
    ready = promise(network, [("A", 2)], zip=None, pickup_store="store-1").json()["pickup"]
    assert ready["ready_on"] is not None and ready["missing"] == []
    short = promise(network, [("A", 9)], zip=None, pickup_store="store-1").json()["pickup"]
    assert short["ready_on"] is None and short["missing"] == [{"sku": "A", "quantity": 4}]


def test_a_promise_writes_nothing(network: httpx.Client) -> None:
    before = network.get("/v1/inventory/positions", params={"sku": "A"}).json()
    promise(network, [("A", 5)])
    assert network.get("/v1/inventory/positions", params={"sku": "A"}).json() == before


@pytest.mark.parametrize(
    ("lines", "changes", "field"),
    [
        ([("A", 1)], {"zip": "00000"}, "zip"),
        ([("A", 1)], {"zip": "123"}, "zip"),
        ([("A", 1)], {"pickup_store": "store-1"}, "zip"),
        ([("A", 0)], {}, "lines.0.quantity"),
        ([("NOPE", 1)], {}, "lines.sku"),
        ([("A", 1), ("A", 2)], {}, "lines"),
        ([("A", 1)], {"zip": None, "pickup_store": "dc-1"}, "pickup_store"),
    ],
)
def test_bad_promise_requests_are_refused(
    network: httpx.Client, lines: list[tuple[str, int]], changes: dict[str, Any], field: str
) -> None:
    refused = promise(network, lines, **changes)
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]
