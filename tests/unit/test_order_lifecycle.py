"""The order aggregate without a database: state machines, roll-up, holds, picks, rejects,
cancellation and capture rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from dom.domain.errors import Conflict, InvalidInput
from dom.domain.network import Capability, NodeType
from dom.domain.orders.capture import Known, problems_of
from dom.domain.orders.lifecycle import NEXT, HoldKind, IllegalTransition, Method, Status
from dom.domain.orders.model import Address, Customer, Fulfilment, Order, OrderLine, Package, Part
from tests.support.sourcing import node

T0 = datetime(2026, 12, 2, 9, tzinfo=UTC)
HOME = Address("Ada", "1 High St", "Columbus", "OH", "43215")


def an_order(*lines: OrderLine, **extra: object) -> Order:
    defaults: dict[str, object] = {"ship_to": HOME, "customer": Customer(email="ada@example.com")}
    defaults.update(extra)
    return Order(
        id="o1",
        channel="web",
        external_id="W-1",
        lines=lines or (OrderLine("1", "SKU-1", 3, 10.0),),
        created_at=T0,
        **defaults,  # type: ignore[arg-type]
    )


def sourced(order: Order, *requests: Fulfilment) -> Order:
    order.add_fulfilments(list(requests), {}, T0, "test", ["d1"])
    return order


def request(
    rid: str = "f1", node: str = "dc-1", *parts: Part, method: Method = Method.SHIP
) -> Fulfilment:
    return Fulfilment(rid, node, method, Status.SOURCED, list(parts) or [Part("1", "SKU-1", 3)], T0)


class TestStateMachine:
    def test_every_status_a_request_can_reach_is_itself_a_known_status(self) -> None:
        for source, targets in NEXT.items():
            assert source not in targets
            assert targets <= set(Status)

    def test_a_delivered_request_can_never_change_again(self) -> None:
        order = sourced(an_order(), request())
        for step in (
            Status.RELEASED,
            Status.ACKNOWLEDGED,
            Status.PICKING,
            Status.PACKED,
            Status.SHIPPED,
            Status.DELIVERED,
        ):
            order.move("f1", step, T0, "node")
        for wanted in Status:
            with pytest.raises(IllegalTransition):
                order.move("f1", wanted, T0, "node")

    def test_shipping_before_packing_is_refused_naming_what_is_allowed(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        with pytest.raises(IllegalTransition, match=r"released.*allowed: acknowledged"):
            order.ship("f1", "ups", "ground", ["1Z"], T0, "node")


class TestRollUp:
    def test_an_order_is_as_far_along_as_its_least_advanced_request(self) -> None:
        order = sourced(
            an_order(OrderLine("1", "SKU-1", 1, 5.0), OrderLine("2", "SKU-2", 1, 5.0)),
            request("f1", "dc-1", Part("1", "SKU-1", 1)),
            request("f2", "dc-2", Part("2", "SKU-2", 1)),
        )
        order.release(T0, "auto")
        for step in (Status.ACKNOWLEDGED, Status.PICKING, Status.PACKED):
            order.move("f1", step, T0, "node")
        assert order.status is Status.RELEASED
        assert order.line_status("1") is Status.PACKED

    def test_units_no_node_could_take_leave_the_order_backordered(self) -> None:
        order = an_order(OrderLine("1", "SKU-1", 5, 1.0))
        order.add_fulfilments(
            [request("f1", "dc-1", Part("1", "SKU-1", 2))], {"1": "no stock"}, T0, "t"
        )
        assert order.outstanding("1") == 3
        assert order.status is Status.BACKORDERED
        events = [e.event for e in order.new_entries]
        assert "order.backordered" in events

    def test_every_change_of_status_is_recorded_with_from_and_to(self) -> None:
        order = sourced(an_order(), request())
        changes = [e.detail for e in order.history if e.event == "order.status_changed"]
        assert changes[-1] == {"from": Status.CREATED, "to": Status.SOURCED}


class TestHolds:
    def test_an_order_on_hold_is_not_ready_to_source_until_every_hold_is_released(self) -> None:
        order = an_order()
        order.place_holds([HoldKind.PAYMENT, HoldKind.FRAUD], T0, "web")
        assert order.status is Status.ON_HOLD and not order.ready_to_source
        order.release_hold(HoldKind.PAYMENT, T0, "psp")
        assert not order.ready_to_source
        order.release_hold(HoldKind.FRAUD, T0, "risk")
        assert order.ready_to_source and order.status is Status.CREATED

    def test_releasing_a_hold_the_order_does_not_have_is_a_conflict(self) -> None:
        with pytest.raises(Conflict, match="no address hold"):
            an_order().release_hold(HoldKind.ADDRESS, T0, "web")


class TestPicksAndRejects:
    def test_a_short_pick_keeps_what_was_found_and_returns_the_rest(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        order.move("f1", Status.ACKNOWLEDGED, T0, "node")
        short = order.confirm_pick("f1", {"1": 1}, T0, "node")
        assert [(p.line_id, p.quantity) for p in short] == [("1", 2)]
        assert order.fulfilment("f1").parts[0].quantity == 1
        assert order.outstanding("1") == 2

    def test_picking_nothing_rejects_the_request(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        order.move("f1", Status.ACKNOWLEDGED, T0, "node")
        order.confirm_pick("f1", {"1": 0}, T0, "node")
        assert order.fulfilment("f1").status is Status.REJECTED
        assert order.outstanding("1") == 3

    def test_a_pick_of_more_than_asked_or_of_an_unknown_line_is_refused_whole(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        order.move("f1", Status.ACKNOWLEDGED, T0, "node")
        with pytest.raises(InvalidInput) as refused:
            order.confirm_pick("f1", {"1": 4, "9": 1}, T0, "node")
        assert {p.field for p in refused.value.problems} == {"picked.1", "picked.9"}
        assert order.fulfilment("f1").status is Status.ACKNOWLEDGED

    def test_rejecting_some_lines_keeps_the_others_at_the_node(self) -> None:
        order = sourced(
            an_order(OrderLine("1", "SKU-1", 1, 5.0), OrderLine("2", "SKU-2", 1, 5.0)),
            request("f1", "dc-1", Part("1", "SKU-1", 1), Part("2", "SKU-2", 1)),
        )
        order.release(T0, "auto")
        given = order.reject("f1", ["2"], "damaged", T0, "node")
        assert [p.line_id for p in given] == ["2"]
        assert order.fulfilment("f1").status is Status.RELEASED
        assert [p.line_id for p in order.fulfilment("f1").parts] == ["1"]

    def test_packing_must_hold_exactly_the_picked_units(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        order.move("f1", Status.ACKNOWLEDGED, T0, "node")
        order.confirm_pick("f1", {}, T0, "node")
        with pytest.raises(InvalidInput) as refused:
            order.pack("f1", [Package({"1": 2})], T0, "node")
        assert "pack exactly" in refused.value.problems[0].reason
        order.pack("f1", [Package({"1": 2}), Package({"1": 1})], T0, "node")
        with pytest.raises(InvalidInput) as untracked:
            order.ship("f1", "ups", "ground", ["1Z1"], T0, "node")
        assert untracked.value.problems[0].field == "tracking"


class TestCancelling:
    def test_cancelling_takes_back_what_nodes_hold_and_what_waits(self) -> None:
        order = an_order(OrderLine("1", "SKU-1", 5, 1.0))
        order.add_fulfilments(
            [request("f1", "dc-1", Part("1", "SKU-1", 2))], {"1": "no stock"}, T0, "t"
        )
        taken = order.cancel(None, "customer asked", T0, "web")
        assert [(f.id, p.quantity) for f, p in taken] == [("f1", 2)]
        assert order.cancelled == {"1": 5}
        assert order.status is Status.CANCELLED

    def test_a_shipped_line_is_too_late_to_cancel(self) -> None:
        order = sourced(an_order(), request())
        order.release(T0, "auto")
        for step in (Status.ACKNOWLEDGED, Status.PICKING, Status.PACKED, Status.SHIPPED):
            order.move("f1", step, T0, "node")
        with pytest.raises(Conflict, match="too late"):
            order.cancel(None, "changed mind", T0, "web")


class TestCaptureRules:
    def known(self) -> Known:
        store = replace(
            node("store-1", 0, NodeType.STORE),
            capabilities=frozenset({Capability.PICKUP_IN_STORE}),
        )
        return Known({"SKU-1"}, {"store-1": store}, lambda z: z == "43215", date(2026, 12, 2))

    def test_a_clean_order_has_no_problems(self) -> None:
        assert problems_of(an_order(), self.known()) == []

    def test_every_broken_rule_is_named_at_once(self) -> None:
        order = an_order(
            OrderLine("1", "SKU-9", 1, 1.0),
            OrderLine("1", "SKU-1", 0, -1.0),
            OrderLine("3", "SKU-1", 1, 1.0, Method.CURBSIDE),
            ship_to=Address("A", "1 St", "X", "OH", "99999"),
            pickup_node_id="store-1",
            promise_by=date(2026, 11, 1),
            customer=Customer(email="not-an-address"),
        )
        fields = {p.field for p in problems_of(order, self.known())}
        assert fields == {
            "lines.0.sku",
            "lines.1.line_id",
            "lines.1.quantity",
            "lines.1.unit_price",
            "lines.2.method",
            "ship_to.zip",
            "promise_by",
            "customer.email",
        }


def test_every_event_an_order_records_is_one_a_webhook_may_subscribe_to() -> None:
    from dom.domain.notifications import EVENT_TYPES

    order = an_order(OrderLine("1", "SKU-1", 3, 1.0), OrderLine("2", "SKU-2", 1, 1.0))
    order.place_holds([HoldKind.PAYMENT], T0, "web")
    order.release_hold(HoldKind.PAYMENT, T0, "psp")
    order.queue_for_wave("nightly", T0, "web")
    order.add_fulfilments(
        [request("f1", "dc-1", Part("1", "SKU-1", 2), Part("2", "SKU-2", 1))], {"1": "x"}, T0, "t"
    )
    order.release(T0, "auto")
    order.flag_at_risk("f1", None, T0, "late job")
    order.reject("f1", ["2"], "damaged", T0, "node")
    order.move("f1", Status.ACKNOWLEDGED, T0, "node")
    order.confirm_pick("f1", {"1": 1}, T0, "node")
    order.pack("f1", [], T0, "node")
    order.ship("f1", "ups", "ground", ["1Z"], T0, "node")
    order.add_fulfilments([request("f2", "dc-2", Part("2", "SKU-2", 1))], {}, T0, "t")
    order.withdraw("f2", "late", T0, "late job")
    order.cancel(["2"], "customer asked", T0, "web")
    recorded = {entry.event for entry in order.history}
    assert recorded - EVENT_TYPES == set()
    assert {"order.queued", "fulfilment.withdrawn", "lines.cancelled"} <= recorded


def test_a_digital_only_order_is_fulfilled_when_sourced() -> None:
    order = an_order(OrderLine("1", "GIFT-CARD", 1, 25.0, Method.DIGITAL), ship_to=None)
    assert order.ready_to_source
    order.add_fulfilments([], {}, T0, "t")
    assert order.status is Status.FULFILLED
    assert not order.ready_to_source
