"""Orders end to end over real HTTP, on SQLite and PostgreSQL: capture, sourcing, the node's
steps for each fulfilment method, rejects and short picks routed again, cancellation, holds,
and bad input — with inventory conservation checked after every step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dom.domain.access import Role
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.e2e.test_inventory_api import event, position, problem
from tests.e2e.test_inventory_api import stocked as stocked
from tests.e2e.test_sourcing_api import network as network
from tests.support.factories import node_record, product_record

HOLDING = {
    "sourced",
    "released",
    "acknowledged",
    "picking",
    "packed",
    "ready_for_pickup",
    "customer_arrived",
}
GONE = {"shipped", "in_transit", "delivered", "picked_up"}
KEYS = [("SKU-1", "dc-columbus"), ("SKU-1", "store-a"), ("SKU-2", "store-a"), ("SKU-2", "dc-reno")]


def new_order(external_id: str, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "external_id": external_id,
        "customer": {"id": "c-1", "email": "ada@example.com", "name": "Ada"},
        "ship_to": {
            "name": "Ada",
            "line1": "1 High St",
            "city": "Columbus",
            "state": "OH",
            "zip": "43215",
        },
        "lines": list(lines),
    }
    body.update(extra)
    return body


def line(sku: str, quantity: int, method: str = "ship", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unit_price": 10.0, "method": method, **extra}


class Ledger:
    """What the positions must read: the starting counts, less what left the building and what
    was written off; allocated equals the units live requests hold at each node."""

    def __init__(self, admin: httpx.Client) -> None:
        self.admin = admin
        self.start = {key: position(admin, *key).get("on_hand", 0) for key in KEYS}
        self.written_off: dict[tuple[str, str], int] = {}
        self.order_ids: list[str] = []

    def check(self) -> None:
        held: dict[tuple[str, str], int] = {}
        left: dict[tuple[str, str], int] = {}
        arrived: dict[tuple[str, str], int] = {}
        for order_id in self.order_ids:
            found = self.admin.get(f"/v1/orders/{order_id}").json()
            for request in found["fulfilments"]:
                for part in request["parts"]:
                    key = (part["sku"], request["node_id"])
                    if request["status"] in HOLDING:
                        held[key] = held.get(key, 0) + part["quantity"]
                    elif request["status"] in GONE:
                        left[key] = left.get(key, 0) + part["quantity"]
                    if request["transfer_to"] and request["status"] == "delivered":
                        there = (part["sku"], request["transfer_to"])
                        arrived[there] = arrived.get(there, 0) + part["quantity"]
        for key in KEYS:
            now = position(self.admin, *key)
            expected = (
                self.start[key]
                + arrived.get(key, 0)
                - left.get(key, 0)
                - self.written_off.get(key, 0)
            )
            assert now.get("on_hand", 0) == expected, (key, now)
            assert now.get("allocated", 0) == held.get(key, 0), (key, now)

    def capture(self, body: dict[str, Any]) -> dict[str, Any]:
        made = self.admin.post("/v1/orders", json=body)
        assert made.status_code == 201, made.text
        found: dict[str, Any] = made.json()
        self.order_ids.append(found["id"])
        self.check()
        return found


@pytest.fixture
def shop(network: httpx.Client) -> httpx.Client:
    """dc-columbus: 10 × SKU-1; store-a (Chicago): 4 × SKU-1 and 4 × SKU-2; dc-reno: 8 × SKU-2."""
    return network


@pytest.fixture
def node_client(server: str, engine: Engine) -> Iterator[Any]:
    opened: list[httpx.Client] = []

    def open_for(node_id: str) -> httpx.Client:
        token = create_key(engine, f"{node_id} system", Role.NODE, node_id=node_id).token
        client = client_for(server, token)
        opened.append(client)
        return client

    yield open_for
    for client in opened:
        client.close()


def the_request(order: dict[str, Any], node_id: str | None = None) -> dict[str, Any]:
    live = [
        f
        for f in order["fulfilments"]
        if f["status"] in HOLDING and (node_id is None or f["node_id"] == node_id)
    ]
    assert len(live) == 1, order["fulfilments"]
    return dict(live[0])


def post(client: httpx.Client, path: str, body: Any = None) -> dict[str, Any]:
    done = client.post(path, json=body)
    assert done.status_code == 200, done.text
    return dict(done.json())


class TestShipping:
    def test_a_shipped_order_goes_from_capture_to_delivery_and_its_units_leave_the_dc(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-1", line("SKU-1", 2)))
        assert order["status"] == "released"
        request = the_request(order)
        assert request["node_id"] == "dc-columbus" and request["deliver_on"]
        dc = node_client("dc-columbus")
        listed = dc.get("/v1/fulfilments").json()
        assert [r["fulfilment"]["id"] for r in listed] == [request["id"]]
        assert listed[0]["ship_to"]["zip"] == "43215"
        path = f"/v1/fulfilments/{request['id']}"
        assert post(dc, f"{path}/acknowledge")["fulfilment"]["status"] == "acknowledged"
        assert post(dc, f"{path}/pick", {})["fulfilment"]["status"] == "picking"
        packed = post(dc, f"{path}/pack", {"packages": [{"lines": {"1": 2}, "weight_lb": 3}]})
        assert packed["fulfilment"]["status"] == "packed"
        ledger.check()
        shipped = post(
            dc, f"{path}/ship", {"carrier": "ups", "service": "ground", "tracking": ["1Z999"]}
        )
        assert shipped["fulfilment"]["packages"][0]["tracking"] == "1Z999"
        ledger.check()
        assert position(shop, "SKU-1", "dc-columbus")["on_hand"] == 8
        post(dc, f"{path}/in-transit")
        post(dc, f"{path}/delivered")
        final = shop.get(f"/v1/orders/{order['id']}").json()
        assert final["status"] == "delivered"
        assert final["lines"][0]["status"] == "delivered"
        events = [e["event"] for e in final["history"]]
        for expected in (
            "order.created",
            "order.sourced",
            "fulfilment.released",
            "fulfilment.shipped",
            "fulfilment.delivered",
        ):
            assert expected in events
        published = shop.get(f"/v1/orders/{order['id']}/events").json()
        assert [e["type"] for e in published] == events
        assert len({e["id"] for e in published}) == len(published)
        assert dc.get("/v1/fulfilments").json() == []
        ledger.check()

    def test_an_order_the_dc_cannot_cover_alone_ships_from_two_nodes(
        self, shop: httpx.Client
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-2", line("SKU-1", 2), line("SKU-2", 2)))
        nodes = {f["node_id"] for f in order["fulfilments"]}
        assert "dc-columbus" not in nodes or len(nodes) == 2
        carried = {}
        for request in order["fulfilments"]:
            for part in request["parts"]:
                carried[part["line_id"]] = carried.get(part["line_id"], 0) + part["quantity"]
        assert carried == {"1": 2, "2": 2}
        assert order["decisions"]
        explained = shop.get(f"/v1/sourcing/decisions/{order['decisions'][0]}").json()
        assert explained["plan"]["explanation"]["why"]

    def test_steps_out_of_order_are_refused_and_change_nothing(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-3", line("SKU-1", 1)))
        request = the_request(order)
        dc = node_client("dc-columbus")
        refused = dc.post(
            f"/v1/fulfilments/{request['id']}/ship",
            json={"carrier": "ups", "service": "ground", "tracking": ["1Z1"]},
        )
        body = problem(refused, 409, "illegal_transition")
        assert "released" in body["detail"]
        assert the_request(shop.get(f"/v1/orders/{order['id']}").json())["status"] == "released"
        ledger.check()


class TestNodesGivingBack:
    def test_a_store_reject_is_written_off_and_routed_to_another_node(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        chicago = {
            "name": "Bo",
            "line1": "2 Lake St",
            "city": "Chicago",
            "state": "IL",
            "zip": "60614",
        }
        order = ledger.capture(new_order("W-4", line("SKU-2", 2), ship_to=chicago))
        first = the_request(order)
        node = node_client(first["node_id"])
        other = "dc-reno" if first["node_id"] == "store-a" else "store-a"
        after = post(node, f"/v1/fulfilments/{first['id']}/reject", {"reason": "not_found"})
        assert after["fulfilment"]["status"] == "rejected"
        ledger.written_off[("SKU-2", first["node_id"])] = 2
        now = shop.get(f"/v1/orders/{order['id']}").json()
        again = the_request(now)
        assert again["node_id"] == other and again["status"] == "released"
        assert "fulfilment.rejected" in [e["event"] for e in now["history"]]
        ledger.check()

    def test_a_short_pick_keeps_what_was_found_and_routes_the_rest_elsewhere(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-5", line("SKU-1", 5)))
        request = the_request(order, "dc-columbus")
        dc = node_client("dc-columbus")
        post(dc, f"/v1/fulfilments/{request['id']}/acknowledge")
        picked = post(dc, f"/v1/fulfilments/{request['id']}/pick", {"picked": {"1": 3}})
        assert picked["fulfilment"]["parts"][0]["quantity"] == 3
        ledger.written_off[("SKU-1", "dc-columbus")] = 2
        now = shop.get(f"/v1/orders/{order['id']}").json()
        rest = the_request(now, "store-a")
        assert rest["parts"][0]["quantity"] == 2
        ledger.check()

    def test_a_node_key_sees_and_touches_only_its_own_requests(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        order = Ledger(shop).capture(new_order("W-6", line("SKU-1", 1)))
        request = the_request(order, "dc-columbus")
        store = node_client("store-a")
        assert store.get("/v1/fulfilments").json() == []
        problem(store.post(f"/v1/fulfilments/{request['id']}/acknowledge"), 404, "not_found")
        problem(store.get("/v1/fulfilments", params={"node_id": "dc-columbus"}), 403, "forbidden")
        problem(store.get(f"/v1/orders/{order['id']}"), 403, "forbidden")


class TestBadNodeInput:
    def test_bad_steps_are_refused_naming_the_field_and_change_nothing(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-60", line("SKU-1", 2)))
        request = the_request(order)
        dc = node_client("dc-columbus")
        path = f"/v1/fulfilments/{request['id']}"
        post(dc, f"{path}/acknowledge")
        before = shop.get(f"/v1/orders/{order['id']}").json()
        refused = problem(dc.post(f"{path}/reject", json={"reason": "bored"}), 422, "invalid_input")
        assert refused["errors"][0]["field"] == "reason"
        over = problem(
            dc.post(f"{path}/pick", json={"picked": {"1": 5, "9": 1}}), 422, "invalid_input"
        )
        assert {e["field"] for e in over["errors"]} == {"picked.1", "picked.9"}
        unknown = problem(
            shop.post(f"/v1/orders/{order['id']}/cancel", json={"line_ids": ["7"], "reason": "x"}),
            422,
            "invalid_input",
        )
        assert unknown["errors"][0]["field"] == "line_ids"
        after = shop.get(f"/v1/orders/{order['id']}").json()
        assert after["fulfilments"][0]["parts"] == before["fulfilments"][0]["parts"]
        assert after["fulfilments"][0]["status"] == "acknowledged"
        assert after["lines"] == before["lines"]
        ledger.check()


class TestCollection:
    def test_a_pickup_is_held_at_the_store_and_leaves_its_stock_when_collected(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(
            new_order("W-7", line("SKU-2", 1, "pickup"), ship_to=None, pickup_node_id="store-a")
        )
        request = the_request(order)
        assert (request["node_id"], request["method"]) == ("store-a", "pickup")
        store = node_client("store-a")
        path = f"/v1/fulfilments/{request['id']}"
        post(store, f"{path}/acknowledge")
        post(store, f"{path}/pick", {})
        post(store, f"{path}/pack", {})
        problem(
            store.post(f"{path}/ship", json={"carrier": "x", "service": "y", "tracking": ["1"]}),
            409,
            "conflict",
        )
        ready = post(store, f"{path}/ready-for-pickup")
        assert ready["fulfilment"]["ready_at"]
        assert shop.get(f"/v1/orders/{order['id']}").json()["status"] == "ready_for_pickup"
        ledger.check()
        post(store, f"{path}/hand-over")
        assert shop.get(f"/v1/orders/{order['id']}").json()["status"] == "picked_up"
        assert position(shop, "SKU-2", "store-a")["on_hand"] == 3
        ledger.check()

    def test_curbside_records_the_arrival_before_the_hand_over(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(
            new_order("W-8", line("SKU-1", 1, "curbside"), ship_to=None, pickup_node_id="store-a")
        )
        request = the_request(order)
        store = node_client("store-a")
        path = f"/v1/fulfilments/{request['id']}"
        for step in ("acknowledge", "pick", "pack", "ready-for-pickup", "customer-arrived"):
            post(store, f"{path}/{step}", {} if step in ("pick", "pack") else None)
        post(store, f"{path}/hand-over")
        final = shop.get(f"/v1/orders/{order['id']}").json()
        assert final["status"] == "picked_up"
        assert "fulfilment.customer_arrived" in [e["event"] for e in final["history"]]
        ledger.check()


class TestTransfers:
    def test_a_pickup_the_store_cannot_cover_is_shipped_there_and_collected_on_arrival(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        profile = {
            "name": "store-first",
            "weights": {"shipping_cost": 1.0},
            "constraints": {"transfers_to_pickup": True},
        }
        saved = shop.post("/v1/sourcing/profiles", json=profile).json()
        post(shop, f"/v1/sourcing/profiles/store-first/versions/{saved['version']}/activate")
        rules = shop.post("/v1/sourcing/rules", json={"rules": [], "fallback": "store-first"})
        post(shop, f"/v1/sourcing/rules/versions/{rules.json()['version']}/activate")
        ledger = Ledger(shop)
        order = ledger.capture(
            new_order("W-30", line("SKU-1", 6, "pickup"), ship_to=None, pickup_node_id="store-a")
        )
        transfer = the_request(order)
        assert (transfer["node_id"], transfer["transfer_to"]) == ("dc-columbus", "store-a")
        dc, store = node_client("dc-columbus"), node_client("store-a")
        path = f"/v1/fulfilments/{transfer['id']}"
        for step, body in (("acknowledge", None), ("pick", {}), ("pack", {})):
            post(dc, f"{path}/{step}", body)
        post(dc, f"{path}/ship", {"carrier": "ltl", "service": "ground", "tracking": ["T1"]})
        ledger.check()
        assert store.get("/v1/fulfilments").json() == []
        post(dc, f"{path}/delivered")
        ledger.check()
        assert position(shop, "SKU-1", "store-a")["allocated"] == 6
        now = shop.get(f"/v1/orders/{order['id']}").json()
        pickup = the_request(now, "store-a")
        assert pickup["method"] == "pickup" and pickup["status"] == "released"
        here = f"/v1/fulfilments/{pickup['id']}"
        for step, body in (("acknowledge", None), ("pick", {}), ("pack", {})):
            post(store, f"{here}/{step}", body)
        post(store, f"{here}/ready-for-pickup")
        post(store, f"{here}/hand-over")
        final = shop.get(f"/v1/orders/{order['id']}").json()
        assert final["status"] == "picked_up"
        assert "fulfilment.transfer_arrived" in [e["event"] for e in final["history"]]
        assert position(shop, "SKU-1", "store-a")["on_hand"] == 4
        ledger.check()

    def test_without_transfers_a_pickup_the_store_cannot_cover_waits_there(
        self, shop: httpx.Client
    ) -> None:
        order = Ledger(shop).capture(
            new_order("W-31", line("SKU-1", 6, "pickup"), ship_to=None, pickup_node_id="store-a")
        )
        assert order["status"] == "backordered" and order["fulfilments"] == []
        assert "store store-a has 4 of 6" in order["lines"][0]["waiting_because"]


class TestCancellingAndHolding:
    def test_cancelling_after_allocation_frees_the_units_and_stops_the_node(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-9", line("SKU-1", 3)))
        request = the_request(order)
        cancelled = post(shop, f"/v1/orders/{order['id']}/cancel", {"reason": "customer asked"})
        assert cancelled["status"] == "cancelled"
        assert cancelled["fulfilments"][0]["status"] == "cancelled"
        ledger.check()
        dc = node_client("dc-columbus")
        problem(dc.post(f"/v1/fulfilments/{request['id']}/acknowledge"), 409, "illegal_transition")
        assert dc.get("/v1/fulfilments").json() == []

    def test_a_held_order_waits_unsourced_until_its_last_hold_is_released(
        self, shop: httpx.Client
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-10", line("SKU-1", 1), holds=["payment", "fraud"]))
        assert order["status"] == "on_hold" and order["fulfilments"] == []
        one = post(shop, f"/v1/orders/{order['id']}/holds/payment/release")
        assert one["status"] == "on_hold" and one["holds"] == ["fraud"]
        two = post(shop, f"/v1/orders/{order['id']}/holds/fraud/release")
        assert two["status"] == "released"
        ledger.check()
        problem(shop.post(f"/v1/orders/{order['id']}/holds/fraud/release"), 409, "conflict")

    def test_a_backorder_is_sourced_when_stock_arrives(self, shop: httpx.Client) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-11", line("SKU-2", 20)))
        assert order["status"] in ("backordered", "released")
        assert order["lines"][0]["backordered"] > 0
        assert order["lines"][0]["waiting_because"]
        receipt = event("more-sku-2", "snapshot", 40, node_id="dc-columbus", sku="SKU-2")
        assert shop.post("/v1/inventory/events", json={"events": [receipt]}).status_code == 200
        ledger.start[("SKU-2", "dc-columbus")] = 40
        KEYS.append(("SKU-2", "dc-columbus"))
        try:
            again = post(shop, f"/v1/orders/{order['id']}/source")
            assert again["lines"][0]["backordered"] == 0
            assert again["status"] == "released"
            ledger.check()
        finally:
            KEYS.remove(("SKU-2", "dc-columbus"))


class TestCaptureInput:
    def test_every_bad_line_is_listed_at_once_and_nothing_is_written(
        self, shop: httpx.Client
    ) -> None:
        body = new_order(
            "W-bad",
            line("SKU-404", 1),
            line("SKU-1", 0),
            line("SKU-1", 1, "curbside"),
            pickup_node_id="dc-columbus",
        )
        body["ship_to"]["zip"] = "00000"
        refused = problem(shop.post("/v1/orders", json=body), 422, "invalid_input")
        fields = {e["field"] for e in refused["errors"]}
        assert {"lines.0.sku", "lines.1.quantity", "ship_to.zip", "pickup_node_id"} <= fields
        assert shop.get("/v1/orders").json()["orders"] == []

    def test_a_digital_only_order_is_fulfilled_at_once_without_touching_stock(
        self, shop: httpx.Client
    ) -> None:
        ledger = Ledger(shop)
        order = ledger.capture(new_order("W-50", line("SKU-1", 1, "digital"), ship_to=None))
        assert order["status"] == "fulfilled" and order["fulfilments"] == []
        ledger.check()

    def test_a_channel_sending_an_order_twice_gets_the_first_one_back(
        self, shop: httpx.Client
    ) -> None:
        first = shop.post("/v1/orders", json=new_order("W-12", line("SKU-1", 1)))
        again = shop.post("/v1/orders", json=new_order("W-12", line("SKU-1", 1)))
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert position(shop, "SKU-1", "dc-columbus")["allocated"] == 1

    def test_an_idempotency_key_replays_and_refuses_another_body(self, shop: httpx.Client) -> None:
        headers = {"Idempotency-Key": "cart-77"}
        body = new_order("W-13", line("SKU-1", 1))
        first = shop.post("/v1/orders", json=body, headers=headers)
        replay = shop.post("/v1/orders", json=body, headers=headers)
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json()["id"] == first.json()["id"]
        other = new_order("W-14", line("SKU-1", 1))
        problem(shop.post("/v1/orders", json=other, headers=headers), 422, "idempotency_key_reused")

    def test_a_channel_key_captures_and_reads_only_its_own_channel(
        self, shop: httpx.Client, server: str, engine: Engine
    ) -> None:
        token = create_key(engine, "web shop", Role.CHANNEL, channel="web").token
        with client_for(server, token) as web:
            mine = web.post("/v1/orders", json=new_order("W-15", line("SKU-1", 1)))
            assert mine.status_code == 201, mine.text
            theirs = new_order("M-1", line("SKU-1", 1), channel="marketplace")
            problem(web.post("/v1/orders", json=theirs), 403, "forbidden")
            other = shop.post("/v1/orders", json=theirs).json()
            problem(web.get(f"/v1/orders/{other['id']}"), 404, "not_found")
            assert [o["id"] for o in web.get("/v1/orders").json()["orders"]] == [mine.json()["id"]]


class TestDropshipAndMonitoring:
    def test_a_dropship_vendor_gets_a_purchase_order_and_ships_it_through_the_same_api(
        self, shop: httpx.Client, node_client: Any
    ) -> None:
        vendor = node_record(
            "vendor-acme", type="dropship_vendor", zip="30303", city="Atlanta", state="GA"
        )
        more = {"nodes": [vendor], "products": [product_record("SKU-3")]}
        assert shop.post("/v1/master-data/import", json=more).status_code == 200
        count = event("acme-1", "snapshot", 6, node_id="vendor-acme", sku="SKU-3")
        assert shop.post("/v1/inventory/events", json={"events": [count]}).status_code == 200
        order = Ledger(shop).capture(new_order("W-20", line("SKU-3", 2)))
        request = the_request(order, "vendor-acme")
        acme = node_client("vendor-acme")
        [listed] = acme.get("/v1/fulfilments").json()
        assert listed["kind"] == "purchase_order"
        path = f"/v1/fulfilments/{request['id']}"
        for step, body in (("acknowledge", None), ("pick", {}), ("pack", {})):
            post(acme, f"{path}/{step}", body)
        shipped = post(
            acme, f"{path}/ship", {"carrier": "fedex", "service": "ground", "tracking": ["7712"]}
        )
        assert shipped["kind"] == "purchase_order"
        assert position(shop, "SKU-3", "vendor-acme")["on_hand"] == 4

    def test_monitoring_shows_capacity_used_today_in_json_and_for_prometheus(
        self, shop: httpx.Client, server: str
    ) -> None:
        ledger = Ledger(shop)
        ledger.capture(new_order("W-21", line("SKU-1", 2)))
        ledger.capture(new_order("W-22", line("SKU-1", 1)))  # adds to the day's count
        overview = shop.get("/v1/monitoring").json()
        dc = {n["node_id"]: n for n in overview["nodes"]}["dc-columbus"]
        assert (dc["units_used"], dc["orders_used"], dc["open_requests"]) == (3, 2, 2)
        assert dc["units_left"] == dc["units_per_day"] - 3
        assert overview["orders_by_status"] == {"released": 2}
        text = shop.get("/metrics")
        assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
        assert 'dom_node_units_used{node="dc-columbus"} 3' in text.text
        assert 'dom_orders{status="released"} 2' in text.text
        with client_for(server, None) as anonymous:
            problem(anonymous.get("/metrics"), 401, "unauthenticated")


class TestTracking:
    def test_the_customer_follows_the_order_by_its_link_without_a_key(
        self, shop: httpx.Client, node_client: Any, server: str
    ) -> None:
        order = Ledger(shop).capture(new_order("W-40", line("SKU-1", 1)))
        link = order["tracking_url"]
        assert link.startswith(server + f"/v1/track/{order['id']}?token=")
        request = the_request(order)
        dc = node_client("dc-columbus")
        path = f"/v1/fulfilments/{request['id']}"
        for step, body in (("acknowledge", None), ("pick", {}), ("pack", {})):
            post(dc, f"{path}/{step}", body)
        post(dc, f"{path}/ship", {"carrier": "ups", "service": "ground", "tracking": ["1Z77"]})
        with client_for(server, None) as customer:
            seen = customer.get(link)
            assert seen.status_code == 200, seen.text
            found = seen.json()
            assert found["external_id"] == "W-40" and found["status"] == "shipped"
            [parcel] = found["parcels"]
            assert parcel["tracking"] == ["1Z77"]
            assert parcel["promised_on"] == parcel["expected_on"] == request["deliver_on"]
            told = [m["event"] for m in found["history"]]
            assert "fulfilment.shipped" in told and "fulfilment.acknowledged" not in told
            forged = link[:-1] + ("1" if link.endswith("0") else "0")
            problem(customer.get(forged), 404, "not_found")
            problem(customer.get(f"/v1/orders/{order['id']}"), 401, "unauthenticated")
