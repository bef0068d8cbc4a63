"""What operations watch: each node's capacity today, orders at risk of missing their promise,
routing errors (orders no node could take, lines nodes gave back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from dom.adapters import order_store
from dom.adapters.database import reading
from dom.adapters.network_cache import network
from dom.domain.access import Action, Principal
from dom.domain.orders.lifecycle import HOLDING, Status
from dom.domain.orders.risk import NOT_YET_SHIPPED, expected_delivery, is_late
from dom.services.order_records import fulfilment_from_row
from dom.services.sourcing import local_day

OPEN = {s.value for s in HOLDING}


@dataclass(frozen=True)
class NodeLoad:
    node_id: str
    name: str
    type: str
    day: date  # the node's own calendar day
    units_per_day: int
    units_used: int
    orders_per_day: int
    orders_used: int
    open_requests: int
    rejects: int  # lines given back, all time

    @property
    def units_left(self) -> int:
        return max(0, self.units_per_day - self.units_used)

    @property
    def orders_left(self) -> int:
        return max(0, self.orders_per_day - self.orders_used)


@dataclass(frozen=True)
class Late:
    order_id: str
    fulfilment_id: str
    node_id: str
    status: Status
    ship_on: date | None
    deliver_on: date | None  # as planned
    expected_on: date | None  # pushed back by the days it slipped


@dataclass(frozen=True)
class Overview:
    nodes: list[NodeLoad]
    orders_by_status: dict[str, int]
    at_risk: list[Late]
    backordered: int  # orders waiting for stock no node has: routing could not place them


def overview(engine: Engine, principal: Principal, now: datetime | None = None) -> Overview:
    principal.require(Action.READ_ORDERS)
    moment = now or datetime.now(UTC)
    with reading(engine) as connection:
        current = network(connection)
        days = {node.id: local_day(node, moment) for node in current.nodes}
        used = order_store.capacity_on(connection, days)
        requests = order_store.fulfilments_by_node_and_status(connection)
        rejects = order_store.rejects_by_node(connection)
        statuses = order_store.orders_by_status(connection)
        # Only requests still to ship can be late.
        to_ship = order_store.open_fulfilments(
            connection, None, [s.value for s in NOT_YET_SHIPPED], 100_000
        )
    open_per_node: dict[str, int] = {}
    for (node_id, status), count in requests.items():
        if status in OPEN:
            open_per_node[node_id] = open_per_node.get(node_id, 0) + count
    loads = [
        NodeLoad(
            node.id,
            node.name,
            node.type.value,
            days[node.id],
            node.capacity.units_per_day,
            used.get(node.id, (0, 0))[0],
            node.capacity.orders_per_day,
            used.get(node.id, (0, 0))[1],
            open_per_node.get(node.id, 0),
            rejects.get(node.id, 0),
        )
        for node in current.nodes
        if principal.sees_node(node.id)
    ]
    late = []
    for row in to_ship:
        request = fulfilment_from_row(row)
        node = current.by_id.get(request.node_id)
        if node is not None and principal.sees_node(node.id) and is_late(request, node, moment):
            late.append(
                Late(
                    row.order_id,
                    request.id,
                    node.id,
                    request.status,
                    request.ship_on,
                    request.deliver_on,
                    expected_delivery(request, node, moment),
                )
            )
    return Overview(loads, statuses, late, statuses.get(Status.BACKORDERED.value, 0))


def prometheus(found: Overview) -> str:
    """The overview in Prometheus' text format."""
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")

    gauge(
        "dom_orders",
        "Orders by status.",
        [({"status": status}, n) for status, n in sorted(found.orders_by_status.items())],
    )
    gauge("dom_orders_at_risk", "Requests not shipped by their cutoff.", [({}, len(found.at_risk))])
    gauge("dom_orders_backordered", "Orders waiting for stock.", [({}, found.backordered)])
    for name, help_text, value_of in (
        ("dom_node_units_used", "Units taken on today (node-local day).", "units_used"),
        ("dom_node_units_left", "Units the node can still take on today.", "units_left"),
        ("dom_node_orders_used", "Requests taken on today.", "orders_used"),
        ("dom_node_orders_left", "Requests the node can still take on today.", "orders_left"),
        (
            "dom_node_open_requests",
            "Fulfilment requests not yet shipped or handed over.",
            "open_requests",
        ),
        ("dom_node_rejects", "Lines the node gave back (all time).", "rejects"),
    ):
        gauge(
            name,
            help_text,
            [({"node": load.node_id}, float(getattr(load, value_of))) for load in found.nodes],
        )
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
