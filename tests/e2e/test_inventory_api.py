"""Inventory over real HTTP: events, positions, history and reservations, and their bad input."""

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
DC = "dc-columbus"
T0 = datetime(2026, 11, 25, 6, tzinfo=UTC)


def event(key: str, kind: str, quantity: int, at: datetime = T0, **changes: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": key,
        "kind": kind,
        "sku": SKU,
        "node_id": DC,
        "quantity": quantity,
        "source": "wms",
        "source_time": at.isoformat(),
    }
    body.update(changes)
    return body


def later(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def stocked(admin: httpx.Client) -> Iterator[httpx.Client]:
    """A DC and a store, two products, and 10 units of SKU-1 counted at the DC."""
    network = {
        "nodes": [node_record(DC), store_record("store-a")],
        "products": [product_record(SKU), product_record("SKU-2")],
    }
    assert admin.post("/v1/master-data/import", json=network).status_code == 200
    assert (
        admin.post(
            "/v1/inventory/events", json={"events": [event("count-1", "snapshot", 10)]}
        ).status_code
        == 200
    )
    yield admin


def position(client: httpx.Client, sku: str = SKU, node: str = DC) -> dict[str, Any]:
    found = client.get("/v1/inventory/positions", params={"sku": sku, "node_id": node}).json()
    return dict(found[0]) if found else {}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["code"] == code
    return body


class TestEvents:
    def test_a_receipt_adds_and_the_history_says_who_what_and_when(
        self, stocked: httpx.Client
    ) -> None:
        done = stocked.post(
            "/v1/inventory/events",
            json={"events": [event("rcpt-1", "receipt", 5, T0 + timedelta(hours=1))]},
        )
        assert done.json()["outcomes"][0]["position"]["on_hand"] == 15
        history = stocked.get(f"/v1/inventory/positions/{SKU}/{DC}/history").json()
        assert [(h["kind"], h["quantity"], h["on_hand_after"]) for h in history] == [
            ("receipt", 5, 15),
            ("snapshot", 10, 10),
        ]
        assert history[0]["recorded_by"] == "test admin"

    def test_a_repeated_event_applies_once(self, stocked: httpx.Client) -> None:
        body = {"events": [event("rcpt-2", "receipt", 5, T0 + timedelta(hours=1))]}
        first = stocked.post("/v1/inventory/events", json=body).json()["outcomes"][0]
        again = stocked.post("/v1/inventory/events", json=body).json()["outcomes"][0]
        assert (first["replayed"], again["replayed"]) == (False, True)
        assert position(stocked)["on_hand"] == 15

    def test_a_key_reused_with_another_body_is_refused(self, stocked: httpx.Client) -> None:
        stocked.post(
            "/v1/inventory/events",
            json={"events": [event("k", "receipt", 5, T0 + timedelta(hours=1))]},
        )
        refused = stocked.post(
            "/v1/inventory/events",
            json={"events": [event("k", "receipt", 6, T0 + timedelta(hours=1))]},
        )
        problem(refused, 422, "idempotency_key_reused")
        assert position(stocked)["on_hand"] == 15

    def test_an_older_snapshot_is_recorded_but_does_not_move_the_position(
        self, stocked: httpx.Client
    ) -> None:
        old = stocked.post(
            "/v1/inventory/events",
            json={"events": [event("count-0", "snapshot", 99, T0 - timedelta(hours=1))]},
        )
        outcome = old.json()["outcomes"][0]
        assert outcome["applied"] is False and "older than the snapshot" in outcome["note"]
        assert position(stocked)["on_hand"] == 10

    def test_a_delta_below_commitments_is_refused_with_the_position_shown(
        self, stocked: httpx.Client
    ) -> None:
        stocked.post(
            "/v1/reservations",
            json={
                "reference": "cart",
                "lines": [{"sku": SKU, "node_id": DC, "quantity": 8}],
                "expires_at": later(),
            },
        )
        refused = stocked.post(
            "/v1/inventory/events",
            json={
                "events": [
                    event("adj", "adjustment", -5, T0 + timedelta(hours=1), reason="miscount")
                ]
            },
        )
        body = problem(refused, 422, "invalid_input")
        assert "would leave 5 on hand for 8 committed" in body["errors"][0]["reason"]
        assert position(stocked)["on_hand"] == 10

    def test_a_short_count_is_accepted_and_releases_the_newest_holds(
        self, stocked: httpx.Client
    ) -> None:
        for ref, qty in (("cart-old", 4), ("cart-new", 4)):
            stocked.post(
                "/v1/reservations",
                json={
                    "reference": ref,
                    "lines": [{"sku": SKU, "node_id": DC, "quantity": qty}],
                    "expires_at": later(),
                },
            )
        counted = stocked.post(
            "/v1/inventory/events",
            json={"events": [event("count-2", "snapshot", 5, T0 + timedelta(hours=2))]},
        )
        outcome = counted.json()["outcomes"][0]
        assert outcome["holds_released"] == 3
        assert (outcome["position"]["on_hand"], outcome["position"]["reserved"]) == (5, 5)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"sku": "NOPE"}, "events.sku"),
            ({"node_id": "nowhere"}, "events.node_id"),
            ({"kind": "receipt", "quantity": 0}, "events.1.quantity"),
            ({"kind": "adjustment", "quantity": 3}, "events.1.reason"),
            ({"kind": "snapshot", "quantity": -1}, "events.1.quantity"),
            ({"kind": "teleport"}, "events.1.kind"),
            ({"quantity": 1.5}, "events.1.quantity"),
            ({"source_time": "2026-11-25T06:00:00"}, "events.1.source_time"),
        ],
    )
    def test_bad_events_are_refused_and_change_nothing(
        self, stocked: httpx.Client, changes: dict[str, Any], field: str
    ) -> None:
        bad = {**event("bad", "receipt", 2, T0 + timedelta(hours=1)), **changes}
        good = event("good", "receipt", 2, T0 + timedelta(hours=1))
        body = problem(
            stocked.post("/v1/inventory/events", json={"events": [good, bad]}), 422, "invalid_input"
        )
        assert field in [e["field"] for e in body["errors"]]
        assert position(stocked)["on_hand"] == 10


class TestReservations:
    def test_a_reservation_holds_and_release_gives_back(self, stocked: httpx.Client) -> None:
        made = stocked.post(
            "/v1/reservations",
            json={
                "reference": "cart-1",
                "lines": [{"sku": SKU, "node_id": DC, "quantity": 3}],
                "expires_at": later(),
            },
        )
        assert made.status_code == 201
        assert position(stocked)["available"] == 7
        assert stocked.delete(f"/v1/reservations/{made.json()['id']}").status_code == 204
        assert position(stocked)["available"] == 10

    def test_every_short_line_is_reported_and_nothing_is_held(self, stocked: httpx.Client) -> None:
        lines = [
            {"sku": SKU, "node_id": DC, "quantity": 11},
            {"sku": "SKU-2", "node_id": DC, "quantity": 1},
        ]
        body = problem(
            stocked.post(
                "/v1/reservations", json={"reference": "c", "lines": lines, "expires_at": later()}
            ),
            409,
            "insufficient_stock",
        )
        assert [(e["sku"], e["requested"], e["available"]) for e in body["errors"]] == [
            (SKU, 11, 10),
            ("SKU-2", 1, 0),
        ]
        assert position(stocked)["reserved"] == 0

    def test_partial_holds_what_there_is(self, stocked: httpx.Client) -> None:
        lines = [{"sku": SKU, "node_id": DC, "quantity": 12}]
        made = stocked.post(
            "/v1/reservations",
            json={"reference": "c", "lines": lines, "expires_at": later(), "partial": True},
        )
        assert made.json()["lines"] == [{"sku": SKU, "node_id": DC, "requested": 12, "held": 10}]
        assert made.json()["shortages"][0]["available"] == 10

    def test_allocation_commits_and_extend_moves_the_expiry(self, stocked: httpx.Client) -> None:
        made = stocked.post(
            "/v1/reservations",
            json={
                "reference": "order-9",
                "lines": [{"sku": SKU, "node_id": DC, "quantity": 2}],
                "expires_at": later(),
            },
        ).json()
        assert (
            stocked.post(
                f"/v1/reservations/{made['id']}/extend", json={"expires_at": later(60)}
            ).status_code
            == 200
        )
        assert stocked.post(f"/v1/reservations/{made['id']}/allocate").status_code == 200
        assert (position(stocked)["reserved"], position(stocked)["allocated"]) == (0, 2)
        problem(stocked.post(f"/v1/reservations/{made['id']}/allocate"), 404, "not_found")

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
            ({"lines": [{"sku": SKU, "node_id": DC, "quantity": 0}]}, "lines.0.quantity"),
            ({"lines": [{"sku": SKU, "node_id": DC, "quantity": -2}]}, "lines.0.quantity"),
            ({"lines": [{"sku": "NOPE", "node_id": DC, "quantity": 1}]}, "lines.sku"),
            ({"lines": []}, "lines"),
            ({"reference": ""}, "reference"),
        ],
    )
    def test_bad_reservations_are_refused_and_hold_nothing(
        self, stocked: httpx.Client, changes: dict[str, Any], field: str
    ) -> None:
        body = {
            "reference": "c",
            "lines": [{"sku": SKU, "node_id": DC, "quantity": 1}],
            "expires_at": later(),
            **changes,
        }
        refused = problem(stocked.post("/v1/reservations", json=body), 422, "invalid_input")
        assert field in [e["field"] for e in refused["errors"]]
        assert position(stocked)["reserved"] == 0


class TestReservationsAtTheBestNode:
    """Lines without a node are held at as few nodes as can hold them, nearest the ZIP first."""

    @pytest.fixture
    def two_nodes(self, stocked: httpx.Client) -> httpx.Client:
        # The DC (Columbus, OH) has 10 of SKU-1; the store (Chicago) has 4 of SKU-1 and SKU-2.
        counts = [
            event("store-1", "snapshot", 4, node_id="store-a"),
            event("store-2", "snapshot", 4, node_id="store-a", sku="SKU-2"),
        ]
        assert stocked.post("/v1/inventory/events", json={"events": counts}).status_code == 200
        return stocked

    def hold(self, client: httpx.Client, lines: list[dict[str, Any]], **extra: Any) -> Any:
        body = {"reference": "cart-7", "lines": lines, "expires_at": later(), **extra}
        return client.post("/v1/reservations", json=body)

    @pytest.mark.parametrize(("zip_code", "node"), [("43215", DC), ("60601", "store-a")])
    def test_a_line_is_held_at_the_nearest_node_that_has_it_all(
        self, two_nodes: httpx.Client, zip_code: str, node: str
    ) -> None:
        made = self.hold(two_nodes, [{"sku": SKU, "quantity": 3}], zip=zip_code)
        assert made.status_code == 201, made.text
        assert made.json()["lines"] == [{"sku": SKU, "node_id": node, "requested": 3, "held": 3}]
        assert position(two_nodes, node=node)["reserved"] == 3

    def test_a_cart_stays_together_at_one_node_rather_than_the_nearest_per_line(
        self, two_nodes: httpx.Client
    ) -> None:
        lines = [{"sku": SKU, "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]
        made = self.hold(two_nodes, lines, zip="43215")  # next to the DC, which lacks SKU-2
        assert {line["node_id"] for line in made.json()["lines"]} == {"store-a"}

    def test_a_line_more_than_any_one_node_has_is_short_and_nothing_is_held(
        self, two_nodes: httpx.Client
    ) -> None:
        lines = [{"sku": SKU, "quantity": 11}, {"sku": "SKU-2", "quantity": 1}]
        body = problem(self.hold(two_nodes, lines), 409, "insufficient_stock")
        assert [(e["sku"], e["node_id"]) for e in body["errors"]] == [(SKU, DC)]
        assert position(two_nodes, sku="SKU-2", node="store-a")["reserved"] == 0

    def test_partial_holds_the_most_one_node_has(self, two_nodes: httpx.Client) -> None:
        made = self.hold(two_nodes, [{"sku": SKU, "quantity": 11}], partial=True)
        assert made.json()["lines"] == [{"sku": SKU, "node_id": DC, "requested": 11, "held": 10}]

    def test_a_partial_reservation_that_would_hold_nothing_is_refused(
        self, stocked: httpx.Client
    ) -> None:
        lines = [{"sku": "SKU-2", "quantity": 1}, {"sku": "SKU-2", "node_id": DC, "quantity": 1}]
        body = problem(self.hold(stocked, lines[1:], partial=True), 409, "insufficient_stock")
        assert body["errors"][0]["available"] == 0
        body = problem(self.hold(stocked, lines[:1], partial=True), 409, "insufficient_stock")
        assert body["errors"][0]["node_id"] is None

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"zip": "00000"}, "zip"),
            ({"zip": "4321"}, "zip"),
            ({"method": "pickup"}, "lines.0.node_id"),
            (
                {
                    "lines": [
                        {"sku": SKU, "quantity": 1},
                        {"sku": SKU, "node_id": DC, "quantity": 1},
                    ]
                },
                "lines.1",
            ),
            ({"lines": [{"sku": SKU, "quantity": 1}, {"sku": SKU, "quantity": 2}]}, "lines.1"),
        ],
    )
    def test_bad_best_node_reservations_are_refused_and_hold_nothing(
        self, two_nodes: httpx.Client, changes: dict[str, Any], field: str
    ) -> None:
        body = {"lines": [{"sku": SKU, "quantity": 1}], **changes}
        lines = body.pop("lines")
        refused = problem(self.hold(two_nodes, lines, **body), 422, "invalid_input")
        assert field in [e["field"] for e in refused["errors"]]
        assert position(two_nodes)["reserved"] == 0
        assert position(two_nodes, node="store-a")["reserved"] == 0


class TestWhoMayDoWhat:
    def test_a_node_key_records_only_its_own_stock_and_reads_only_its_own_positions(
        self, stocked: httpx.Client, server: str, engine: Engine
    ) -> None:
        token = create_key(engine, "store a", Role.NODE, node_id="store-a").token
        with client_for(server, token) as store:
            own = event("s-1", "receipt", 3, T0 + timedelta(hours=1), node_id="store-a")
            assert store.post("/v1/inventory/events", json={"events": [own]}).status_code == 200
            theirs = event("s-2", "receipt", 3, T0 + timedelta(hours=1))
            problem(store.post("/v1/inventory/events", json={"events": [theirs]}), 403, "forbidden")
            problem(store.get("/v1/inventory/positions", params={"node_id": DC}), 403, "forbidden")
            assert [p["node_id"] for p in store.get("/v1/inventory/positions").json()] == [
                "store-a"
            ]
        assert position(stocked)["on_hand"] == 10

    def test_a_viewer_reads_but_may_not_reserve_and_a_channel_may(
        self, stocked: httpx.Client, server: str, engine: Engine
    ) -> None:
        body = {
            "reference": "c",
            "lines": [{"sku": SKU, "node_id": DC, "quantity": 1}],
            "expires_at": later(),
        }
        with client_for(server, create_key(engine, "v", Role.VIEWER).token) as viewer:
            assert viewer.get("/v1/inventory/positions", params={"sku": SKU}).status_code == 200
            problem(viewer.post("/v1/reservations", json=body), 403, "forbidden")
        with client_for(
            server, create_key(engine, "web", Role.CHANNEL, channel="web").token
        ) as channel:
            assert channel.post("/v1/reservations", json=body).status_code == 201
            problem(
                channel.post("/v1/inventory/events", json={"events": [event("c-1", "receipt", 1)]}),
                403,
                "forbidden",
            )


class TestNodeSync:
    def sync(
        self,
        client: httpx.Client,
        counts: list[dict[str, Any]],
        key: str = "sync-1",
        hours: int = 1,
    ) -> httpx.Response:
        body = {
            "idempotency_key": key,
            "source": "wms",
            "source_time": (T0 + timedelta(hours=hours)).isoformat(),
            "counts": counts,
        }
        return client.post(f"/v1/inventory/nodes/{DC}/sync", json=body)

    def test_a_full_count_sets_listed_skus_and_zeroes_the_rest(self, stocked: httpx.Client) -> None:
        done = self.sync(stocked, [{"sku": "SKU-2", "quantity": 7}])
        assert done.json() == {
            "node_id": DC,
            "positions": 2,
            "applied": 2,
            "replayed": 0,
            "uncovered": 0,
        }
        assert (position(stocked)["on_hand"], position(stocked, "SKU-2")["on_hand"]) == (0, 7)

    def test_the_same_sync_sent_twice_applies_once(self, stocked: httpx.Client) -> None:
        self.sync(stocked, [{"sku": SKU, "quantity": 4}])
        stocked.post(
            "/v1/inventory/events",
            json={"events": [event("rcpt", "receipt", 1, T0 + timedelta(hours=2))]},
        )
        again = self.sync(stocked, [{"sku": SKU, "quantity": 4}])
        assert again.json()["replayed"] == 1
        assert position(stocked)["on_hand"] == 5

    def test_a_bad_count_changes_nothing(self, stocked: httpx.Client) -> None:
        problem(self.sync(stocked, [{"sku": SKU, "quantity": -1}]), 422, "invalid_input")
        problem(
            self.sync(stocked, [{"sku": SKU, "quantity": 1}, {"sku": SKU, "quantity": 2}]),
            422,
            "invalid_input",
        )
        problem(self.sync(stocked, [{"sku": "NOPE", "quantity": 1}]), 422, "invalid_input")
        assert position(stocked)["on_hand"] == 10

    def test_a_malformed_count_names_its_field_and_changes_nothing(
        self, stocked: httpx.Client
    ) -> None:
        for count, field in [
            ({"sku": SKU, "quantity": -1}, "counts.0.quantity"),
            ({"sku": SKU, "quantity": 1.5}, "counts.0.quantity"),
            ({"sku": "", "quantity": 1}, "counts.0.sku"),
            ({"sku": SKU, "quantity": 1, "bin": "A-1"}, "counts.0.bin"),
            ({"quantity": 1}, "counts.0.sku"),
        ]:
            body = problem(self.sync(stocked, [count]), 422, "invalid_input")
            assert field in [e["field"] for e in body["errors"]], count
        assert position(stocked)["on_hand"] == 10

    def test_a_full_count_in_compact_form_counts_the_same(self, stocked: httpx.Client) -> None:
        body = {
            "idempotency_key": "sync-compact",
            "source": "wms",
            "source_time": (T0 + timedelta(hours=1)).isoformat(),
            "quantities": {"SKU-2": 7},
        }
        done = stocked.post(f"/v1/inventory/nodes/{DC}/sync", json=body)
        assert done.status_code == 200, done.text
        assert (done.json()["positions"], done.json()["applied"]) == (2, 2)
        assert (position(stocked)["on_hand"], position(stocked, "SKU-2")["on_hand"]) == (0, 7)

    def test_a_malformed_compact_count_names_its_field_and_changes_nothing(
        self, stocked: httpx.Client
    ) -> None:
        for forms, field in [
            ({"quantities": {SKU: -1}}, f"quantities.{SKU}"),
            ({"quantities": {SKU: 1.5}}, f"quantities.{SKU}"),
            ({"quantities": {"": 1}}, "quantities."),
            ({"quantities": {SKU: 1}, "counts": [{"sku": SKU, "quantity": 1}]}, "quantities"),
            ({}, "counts"),
        ]:
            body = {"idempotency_key": "bad", "source": "wms", "source_time": T0.isoformat()}
            answer = stocked.post(f"/v1/inventory/nodes/{DC}/sync", json=body | forms)
            fields = [e["field"] for e in problem(answer, 422, "invalid_input")["errors"]]
            assert any(f.startswith(field) for f in fields), (forms, fields)
        assert position(stocked)["on_hand"] == 10

    def test_a_node_key_may_not_sync_another_node(
        self, stocked: httpx.Client, server: str, engine: Engine
    ) -> None:
        token = create_key(engine, "store a", Role.NODE, node_id="store-a").token
        with client_for(server, token) as store:
            problem(self.sync(store, [{"sku": SKU, "quantity": 0}]), 403, "forbidden")
        assert position(stocked)["on_hand"] == 10
