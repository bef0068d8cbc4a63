"""Routing over real HTTP: a dry run holds nothing, a commit allocates its plan atomically and a
release gives it back; bad orders are refused whole, naming each field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e import test_inventory_api
from tests.e2e.test_inventory_api import event, position, problem
from tests.support.factories import node_record, product_record, service_record, store_record

stocked = test_inventory_api.stocked  # the fixture: dc-columbus with 10 units of SKU-1


@pytest.fixture
def network(stocked: httpx.Client) -> httpx.Client:
    """dc-columbus (OH) and a Chicago store with SKU-1 and SKU-2, and a far DC in Reno."""
    more = {
        "nodes": [node_record("dc-reno", zip="89502"), store_record("store-a")],
        "products": [product_record("SKU-2")],
        "carrier_services": [service_record(max_lb=50)],
    }
    assert stocked.post("/v1/master-data/import", json=more).status_code == 200
    counts = [
        event("s1", "snapshot", 4, node_id="store-a"),
        event("s2", "snapshot", 4, node_id="store-a", sku="SKU-2"),
        event("r1", "snapshot", 8, node_id="dc-reno", sku="SKU-2"),
    ]
    assert stocked.post("/v1/inventory/events", json={"events": counts}).status_code == 200
    return stocked


def order(*lines: tuple[str, int], zip_code: str = "43215", **extra: Any) -> dict[str, Any]:
    return {
        "order_id": "web-1",
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        "zip": zip_code,
        **extra,
    }


def nodes_of(decision: dict[str, Any]) -> list[str]:
    return sorted(s["node_id"] for s in decision["plan"]["shipments"])


class TestPlanning:
    def test_a_dry_run_explains_its_plan_and_holds_nothing(self, network: httpx.Client) -> None:
        made = network.post("/v1/sourcing/plan", json=order(("SKU-1", 2)))
        assert made.status_code == 200, made.text
        decision = made.json()
        assert decision["id"] is None and decision["committed"] is False
        assert nodes_of(decision) == ["dc-columbus"]
        plan = decision["plan"]
        assert plan["status"] == "optimal" and plan["gap"] == 0
        assert plan["money"] == pytest.approx(
            plan["costs"]["shipping"] + plan["costs"]["handling"], abs=0.01
        )
        assert "dc-columbus" in plan["explanation"]["why"]
        assert decision["profile"] == "lowest-cost"
        assert position(network)["allocated"] == 0

    def test_a_cart_no_node_holds_whole_is_split_and_each_line_says_where(
        self, network: httpx.Client
    ) -> None:
        decision = network.post("/v1/sourcing/plan", json=order(("SKU-1", 6), ("SKU-2", 1))).json()
        shipped = {
            (line["sku"], s["node_id"])
            for s in decision["plan"]["shipments"]
            for line in s["lines"]
        }
        assert ("SKU-1", "dc-columbus") in shipped
        assert decision["plan"]["unfilled"] == []

    def test_a_line_nobody_stocks_is_unfilled_with_its_reason(self, network: httpx.Client) -> None:
        nothing = {"products": [product_record("SKU-9")]}
        assert network.post("/v1/master-data/import", json=nothing).status_code == 200
        decision = network.post("/v1/sourcing/plan", json=order(("SKU-1", 1), ("SKU-9", 2))).json()
        [unfilled] = decision["plan"]["unfilled"]
        assert (unfilled["sku"], unfilled["reason"]) == ("SKU-9", "no_stock")


class TestDraftProfiles:
    def test_a_draft_profile_can_be_tried_on_an_order_before_it_is_activated(
        self, network: httpx.Client
    ) -> None:
        stores_only = {
            "name": "lowest-cost",
            "constraints": {"node_types": ["store"]},
        }
        saved = network.post("/v1/sourcing/profiles", json=stores_only)
        assert saved.status_code == 201, saved.text
        version = saved.json()["version"]
        body = order(("SKU-1", 1), profile="lowest-cost", profile_version=version)

        tried = network.post("/v1/sourcing/plan", json=body).json()
        active = network.post("/v1/sourcing/plan", json=order(("SKU-1", 1))).json()

        assert (tried["profile_version"], nodes_of(tried)) == (version, ["store-a"])
        assert (active["profile_version"], nodes_of(active)) == (1, ["dc-columbus"])
        assert tried["plan"]["explanation"]["excluded"]["dc-columbus"].startswith("node type")

    def test_a_draft_cannot_allocate_and_an_unknown_version_is_named(
        self, network: httpx.Client
    ) -> None:
        body = order(("SKU-1", 1), profile="lowest-cost", profile_version=9)
        problem(network.post("/v1/sourcing/plan", json=body), 422, "invalid_input")
        refused = problem(network.post("/v1/sourcing/decisions", json=body), 422, "invalid_input")
        assert refused["errors"][0]["field"] == "profile_version"
        assert position(network)["allocated"] == 0


class TestCommitting:
    def test_a_commit_allocates_the_plan_and_a_release_gives_it_back(
        self, network: httpx.Client
    ) -> None:
        made = network.post("/v1/sourcing/decisions", json=order(("SKU-1", 3)))
        assert made.status_code == 201, made.text
        decision = made.json()
        assert decision["committed"] is True and decision["id"]
        assert position(network)["allocated"] == 3
        read = network.get(f"/v1/sourcing/decisions/{decision['id']}").json()
        assert read["plan"] == decision["plan"]

        released = network.post(f"/v1/sourcing/decisions/{decision['id']}/release")
        assert released.status_code == 200
        assert position(network)["allocated"] == 0
        problem(network.post(f"/v1/sourcing/decisions/{decision['id']}/release"), 404, "not_found")

    def test_commits_never_allocate_more_than_there_is(self, network: httpx.Client) -> None:
        for _ in range(3):
            assert (
                network.post("/v1/sourcing/decisions", json=order(("SKU-1", 4))).status_code == 201
            )
        after = [position(network, node=n) for n in ("dc-columbus", "store-a")]
        assert sum(p["allocated"] for p in after) == 12
        assert all(p["allocated"] <= p["on_hand"] for p in after)

    def test_a_retried_commit_with_its_idempotency_key_allocates_once(
        self, network: httpx.Client
    ) -> None:
        headers = {"Idempotency-Key": "order-web-1"}
        first = network.post("/v1/sourcing/decisions", json=order(("SKU-1", 2)), headers=headers)
        again = network.post("/v1/sourcing/decisions", json=order(("SKU-1", 2)), headers=headers)
        assert again.json()["id"] == first.json()["id"]
        assert position(network)["allocated"] == 2


class TestRerouting:
    def commit(self, client: httpx.Client, *lines: tuple[str, int], zip_code: str) -> Any:
        # Fastest: the nearby store wins over the cheaper far DC, which takes what it gives back.
        body = order(*lines, zip_code=zip_code, profile="fastest")
        made = client.post("/v1/sourcing/decisions", json=body)
        assert made.status_code == 201, made.text
        return made.json()

    def test_lines_a_store_cannot_find_go_elsewhere_and_its_units_come_back(
        self, network: httpx.Client
    ) -> None:
        decision = self.commit(network, ("SKU-2", 1), zip_code="60601")  # Chicago: the store
        assert nodes_of(decision) == ["store-a"]

        moved = network.post(
            f"/v1/sourcing/decisions/{decision['id']}/reroute",
            json={"node_id": "store-a", "reason": "not_found"},
        )

        assert moved.status_code == 200, moved.text
        assert nodes_of(moved.json()) == ["dc-reno"]
        [entry] = moved.json()["history"]
        assert (entry["node_id"], entry["reason"], entry["to"]) == (
            "store-a",
            "not_found",
            ["dc-reno"],
        )
        assert position(network, sku="SKU-2", node="store-a")["allocated"] == 0
        assert position(network, sku="SKU-2", node="dc-reno")["allocated"] == 1
        again = network.get(f"/v1/sourcing/decisions/{decision['id']}").json()
        assert again["plan"] == moved.json()["plan"]

    def test_only_the_lines_given_back_move_and_the_rest_stays(self, network: httpx.Client) -> None:
        decision = self.commit(network, ("SKU-1", 1), ("SKU-2", 1), zip_code="60601")
        assert nodes_of(decision) == ["store-a"]
        line_of = {
            line["sku"]: line["line_id"]
            for s in decision["plan"]["shipments"]
            for line in s["lines"]
        }
        moved = network.post(
            f"/v1/sourcing/decisions/{decision['id']}/reroute",
            json={"node_id": "store-a", "line_ids": [line_of["SKU-2"]], "reason": "damaged"},
        ).json()
        shipped = {
            (line["sku"], s["node_id"]) for s in moved["plan"]["shipments"] for line in s["lines"]
        }
        assert shipped == {("SKU-1", "store-a"), ("SKU-2", "dc-reno")}
        assert position(network, sku="SKU-1", node="store-a")["allocated"] == 1
        assert position(network, sku="SKU-2", node="store-a")["allocated"] == 0
        assert moved["plan"]["costs"]["objective"] == pytest.approx(
            sum(s["costs"]["objective"] for s in moved["plan"]["shipments"])
            - moved["plan"]["shipments"][0]["costs"]["split_penalty"],
            abs=0.01,
        )

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"node_id": "dc-reno", "reason": "not_found"}, "node_id"),
            ({"node_id": "store-a", "line_ids": ["nope"], "reason": "x"}, "line_ids"),
            ({"node_id": "store-a", "reason": ""}, "reason"),
        ],
    )
    def test_a_bad_reroute_is_refused_and_changes_nothing(
        self, network: httpx.Client, body: dict[str, Any], field: str
    ) -> None:
        decision = self.commit(network, ("SKU-2", 1), zip_code="60601")
        path = f"/v1/sourcing/decisions/{decision['id']}/reroute"
        refused = problem(network.post(path, json=body), 422, "invalid_input")
        assert field in [e["field"] for e in refused["errors"]]
        assert position(network, sku="SKU-2", node="store-a")["allocated"] == 1

    def test_a_released_decision_cannot_be_rerouted(self, network: httpx.Client) -> None:
        decision = self.commit(network, ("SKU-2", 1), zip_code="60601")
        network.post(f"/v1/sourcing/decisions/{decision['id']}/release")
        problem(
            network.post(
                f"/v1/sourcing/decisions/{decision['id']}/reroute",
                json={"node_id": "store-a", "reason": "not_found"},
            ),
            404,
            "not_found",
        )


class TestWaves:
    def wave(self, client: httpx.Client, *orders: dict[str, Any], **extra: Any) -> Any:
        return client.post("/v1/sourcing/waves", json={"orders": list(orders), **extra})

    def test_a_dry_run_wave_routes_every_order_and_holds_nothing(
        self, network: httpx.Client
    ) -> None:
        first = order(("SKU-1", 2), zip_code="43215") | {"order_id": "w-1"}
        second = order(("SKU-2", 1), zip_code="60601") | {"order_id": "w-2"}
        made = self.wave(network, first, second)
        assert made.status_code == 200, made.text
        body = made.json()
        assert body["solver_status"] == "optimal" and body["committed"] is False
        assert [d["order_id"] for d in body["decisions"]] == ["w-1", "w-2"]
        assert all(d["id"] is None and d["plan"]["shipments"] for d in body["decisions"])
        assert body["objective"] <= body["baseline_objective"] + 1e-6
        assert position(network)["allocated"] == 0

    def test_a_committed_wave_allocates_every_plan(self, network: httpx.Client) -> None:
        orders = [order(("SKU-1", 3), zip_code="43215") | {"order_id": f"w-{i}"} for i in range(3)]
        body = self.wave(network, *orders, commit=True).json()
        assert body["committed"] is True
        assert all(d["id"] and d["committed"] for d in body["decisions"])
        allocated = sum(position(network, node=n)["allocated"] for n in ("dc-columbus", "store-a"))
        assert allocated == 9
        one = body["decisions"][0]
        assert network.get(f"/v1/sourcing/decisions/{one['id']}").json()["plan"] == one["plan"]

    def test_an_order_of_a_channel_keeps_out_of_nodes_its_group_leaves_out(
        self, network: httpx.Client
    ) -> None:
        assert (
            network.put(
                "/v1/channels/marketplace/excluded-nodes", json={"node_ids": ["store-a"]}
            ).status_code
            == 200
        )
        body = order(("SKU-2", 1), zip_code="60601") | {"channel": "marketplace"}
        decision = self.wave(network, body).json()["decisions"][0]
        assert nodes_of(decision) == ["dc-reno"]

    @pytest.mark.parametrize(
        ("second", "extra", "field"),
        [
            ({"order_id": "web-1"}, {}, "orders.1.order_id"),
            ({"zip": "00000"}, {}, "orders.1.zip"),
            ({"lines": [{"sku": "NOPE", "quantity": 1}]}, {}, "orders.lines.sku"),
            ({}, {"time_limit_seconds": 0}, "time_limit_seconds"),
            ({"profile": "lowest-cost", "profile_version": 1}, {}, "orders.1.profile_version"),
        ],
    )
    def test_a_bad_wave_is_refused_whole_naming_the_order_and_field(
        self, network: httpx.Client, second: dict[str, Any], extra: dict[str, Any], field: str
    ) -> None:
        first = order(("SKU-1", 1))
        other = order(("SKU-1", 1)) | {"order_id": "web-2"} | second
        refused = problem(
            self.wave(network, first, other, commit=True, **extra), 422, "invalid_input"
        )
        assert field in [e["field"] for e in refused["errors"]]
        assert position(network)["allocated"] == 0


class TestReoptimizing:
    def test_orders_committed_one_by_one_are_improved_together(self, network: httpx.Client) -> None:
        # Four SKU-2 for Columbus take Reno's stock first; then eight for Reno cannot all come
        # from Reno. Together, the Columbus order goes from the Chicago store instead.
        first = network.post(
            "/v1/sourcing/decisions", json=order(("SKU-2", 4), zip_code="43215")
        ).json()
        second = network.post(
            "/v1/sourcing/decisions",
            json=order(("SKU-2", 8), zip_code="89502") | {"order_id": "web-2"},
        ).json()
        before = [nodes_of(first), nodes_of(second)]

        done = network.post(
            "/v1/sourcing/reoptimize", json={"decision_ids": [first["id"], second["id"]]}
        )

        assert done.status_code == 200, done.text
        body = done.json()
        assert body["objective_after"] <= body["objective_before"]
        after = {d["id"]: d for d in body["decisions"]}
        assert before == [["dc-reno"], ["dc-reno", "store-a"]], before
        assert nodes_of(after[first["id"]]) == ["store-a"]
        assert nodes_of(after[second["id"]]) == ["dc-reno"]
        assert body["shipments_after"] < body["shipments_before"]
        assert position(network, sku="SKU-2", node="dc-reno")["allocated"] == 8
        assert position(network, sku="SKU-2", node="store-a")["allocated"] == 4

    def test_only_committed_decisions_can_be_reoptimized(self, network: httpx.Client) -> None:
        refused = problem(
            network.post("/v1/sourcing/reoptimize", json={"decision_ids": ["nope"]}),
            422,
            "invalid_input",
        )
        assert refused["errors"][0]["field"] == "decision_ids.0"


class TestBadOrders:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"zip": "00000"}, "zip"),
            ({"zip": "1234"}, "zip"),
            ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.sku"),
            ({"lines": [{"sku": "SKU-1", "quantity": 0}]}, "lines.0.quantity"),
            ({"lines": []}, "lines"),
            (
                {
                    "lines": [
                        {"line_id": "a", "sku": "SKU-1", "quantity": 1},
                        {"line_id": "a", "sku": "SKU-2", "quantity": 1},
                    ]
                },
                "lines.1.line_id",
            ),
            ({"profile": "no-such-profile"}, "profile"),
            ({"order_id": ""}, "order_id"),
            ({"service_level": "Warp Speed"}, "service_level"),
        ],
    )
    @pytest.mark.parametrize("path", ["/v1/sourcing/plan", "/v1/sourcing/decisions"])
    def test_a_bad_order_is_refused_naming_the_field_and_allocates_nothing(
        self, network: httpx.Client, changes: dict[str, Any], field: str, path: str
    ) -> None:
        body = {**order(("SKU-1", 1)), **changes}
        refused = problem(network.post(path, json=body), 422, "invalid_input")
        assert field in [e["field"] for e in refused["errors"]]
        assert position(network)["allocated"] == 0
