"""Availability by channel and fulfilment method: store safety stock, distribution groups, pauses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dom.domain.access import Role
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.support.factories import node_record, product_record, store_record

SKU = "SKU-1"
T0 = datetime(2026, 11, 25, 6, tzinfo=UTC)


def count(node: str, quantity: int, key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "kind": "snapshot",
        "sku": SKU,
        "node_id": node,
        "quantity": quantity,
        "source": "wms",
        "source_time": T0.isoformat(),
    }


def hold(node: str, quantity: int, **changes: Any) -> dict[str, Any]:
    expires = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    return {
        "reference": "cart",
        "lines": [{"sku": SKU, "node_id": node, "quantity": quantity}],
        "expires_at": expires,
        **changes,
    }


@pytest.fixture
def network(admin: httpx.Client) -> Iterator[httpx.Client]:
    """A DC with 20 units and a store with 6, of which 4 are safety stock."""
    bundle = {
        "nodes": [node_record("dc-1"), store_record("store-1")],
        "products": [product_record(SKU)],
    }
    assert admin.post("/v1/master-data/import", json=bundle).status_code == 200
    events = [count("dc-1", 20, "c1"), count("store-1", 6, "c2")]
    assert admin.post("/v1/inventory/events", json={"events": events}).status_code == 200
    assert (
        admin.put(
            f"/v1/inventory/positions/{SKU}/store-1/safety-stock", json={"quantity": 4}
        ).status_code
        == 200
    )
    yield admin


def available(client: httpx.Client, **params: str) -> dict[str, Any]:
    response = client.get("/v1/availability", params={"sku": SKU, **params})
    assert response.status_code == 200, response.text
    found = response.json()[0]
    return {"total": found["available"], **{n["node_id"]: n["available"] for n in found["nodes"]}}


def test_safety_stock_is_kept_from_shipping_but_not_from_pickup(network: httpx.Client) -> None:
    assert available(network) == {"total": 22, "dc-1": 20, "store-1": 2}
    assert available(network, method="pickup") == {"total": 6, "store-1": 6}


def test_a_ship_hold_cannot_take_safety_stock_but_a_pickup_hold_can(network: httpx.Client) -> None:
    refused = network.post("/v1/reservations", json=hold("store-1", 3))
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["available"] == 2
    assert (
        network.post("/v1/reservations", json=hold("store-1", 5, method="pickup")).status_code
        == 201
    )
    assert available(network, method="pickup") == {"total": 1, "store-1": 1}


def test_a_node_left_out_of_a_channel_is_not_available_to_it(
    network: httpx.Client, server: str, engine: Engine
) -> None:
    everyone = {"total": 22, "dc-1": 20, "store-1": 2}
    assert available(network, channel="marketplace") == everyone  # the network is cached now
    done = network.put("/v1/channels/marketplace/excluded-nodes", json={"node_ids": ["store-1"]})
    assert done.json() == {"channel": "marketplace", "node_ids": ["store-1"]}
    assert available(network, channel="marketplace") == {"total": 20, "dc-1": 20}
    token = create_key(engine, "marketplace", Role.CHANNEL, channel="marketplace").token
    with client_for(server, token) as channel:
        assert available(channel) == {"total": 20, "dc-1": 20}
        refused = channel.post("/v1/reservations", json=hold("store-1", 1))
        assert refused.status_code == 422
        assert "distribution group" in refused.json()["errors"][0]["reason"]
        assert channel.post("/v1/reservations", json=hold("dc-1", 1)).status_code == 201
    network.put("/v1/channels/marketplace/excluded-nodes", json={"node_ids": []})
    assert available(network, channel="marketplace") == {"total": 21, "dc-1": 19, "store-1": 2}


def test_a_paused_node_is_not_available(network: httpx.Client) -> None:
    assert network.post("/v1/nodes/dc-1/pause", json={"reason": "stocktake"}).status_code == 200
    assert available(network) == {"total": 2, "store-1": 2}


def test_bad_availability_and_safety_stock_inputs_are_refused(network: httpx.Client) -> None:
    assert network.get("/v1/availability").status_code == 422
    assert (
        network.get("/v1/availability", params={"sku": SKU, "method": "drone"}).status_code == 422
    )
    negative = network.put(
        f"/v1/inventory/positions/{SKU}/store-1/safety-stock", json={"quantity": -1}
    )
    assert negative.status_code == 422
    unknown = network.put("/v1/inventory/positions/NOPE/store-1/safety-stock", json={"quantity": 1})
    assert unknown.status_code == 422
    ghost = network.put("/v1/channels/web/excluded-nodes", json={"node_ids": ["ghost"]})
    assert ghost.status_code == 422
    assert network.get("/v1/channels/web/excluded-nodes").json()["node_ids"] == []
    assert available(network) == {"total": 22, "dc-1": 20, "store-1": 2}


def test_only_admins_change_distribution_groups(
    network: httpx.Client, server: str, engine: Engine
) -> None:
    token = create_key(engine, "web", Role.CHANNEL, channel="web").token
    with client_for(server, token) as channel:
        assert (
            channel.put("/v1/channels/web/excluded-nodes", json={"node_ids": []}).status_code == 403
        )


def test_network_totals_sum_every_node(network: httpx.Client) -> None:
    totals = network.get("/v1/inventory/totals", params={"sku": SKU}).json()
    assert totals == [
        {"sku": SKU, "nodes": 2, "on_hand": 26, "reserved": 0, "allocated": 0, "available": 22}
    ]


def test_low_stock_lists_positions_at_or_under_the_threshold(network: httpx.Client) -> None:
    low = network.get("/v1/inventory/low-stock", params={"threshold": 5}).json()
    assert [(p["node_id"], p["available"]) for p in low] == [("store-1", 2)]
    assert network.get("/v1/inventory/low-stock", params={"threshold": -1}).status_code == 422
