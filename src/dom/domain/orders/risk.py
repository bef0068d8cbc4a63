"""When a fulfilment request is late: the node has not shipped by the cutoff of the day it was
planned to ship on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dom.domain.network import Node
from dom.domain.orders.lifecycle import Method, Status
from dom.domain.orders.model import Fulfilment

#: A request still at the node, before the carrier has it.
NOT_YET_SHIPPED = frozenset(
    {Status.SOURCED, Status.RELEASED, Status.ACKNOWLEDGED, Status.PICKING, Status.PACKED}
)


def is_late(request: Fulfilment, node: Node, now: datetime) -> bool:
    """It should have left already: its ship day is past, or today's cutoff has passed."""
    if request.method is not Method.SHIP or request.status not in NOT_YET_SHIPPED:
        return False
    if request.ship_on is None:
        return False
    local = now.astimezone(ZoneInfo(node.timezone))
    if request.ship_on < local.date():
        return True
    return request.ship_on == local.date() and local.time() >= node.calendar.cutoff


def expected_delivery(request: Fulfilment, node: Node, now: datetime) -> date | None:
    """The planned delivery, pushed back by the working days the shipment has slipped."""
    if request.deliver_on is None or request.ship_on is None:
        return None
    if not is_late(request, node, now):
        return request.deliver_on
    local = now.astimezone(ZoneInfo(node.timezone))
    next_ship = local.date()
    if local.time() >= node.calendar.cutoff or next_ship <= request.ship_on:
        next_ship += timedelta(days=1)
    while not node.calendar.is_working_day(next_ship):
        next_ship += timedelta(days=1)
    return request.deliver_on + (next_ship - request.ship_on)
