"""Sourcing plans as JSON-ready records (stored with each decision, sent by the API) and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from typing import Any

from dom.domain.sourcing.model import (
    Alternative,
    Binding,
    Costs,
    Explanation,
    Plan,
    PlannedShipment,
    ShipmentLine,
    SolveStatus,
    Unfilled,
    UnfilledLine,
)

#: Values already JSON types, by exact type (an enum that is also a str is not one of them).
_AS_IS = frozenset({str, int, float, bool, type(None)})
#: Each dataclass's field names, looked up once per class.
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """Dataclasses, enums, dates, tuples and mappings as JSON types."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.setdefault(kind, tuple(f.name for f in fields(value)))
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def plan_to_record(plan: Plan) -> dict[str, Any]:
    record: dict[str, Any] = plain(plan)
    record["money"] = plan.costs.money
    record["gap"] = plan.gap
    record["deliver_on"] = plain(plan.deliver_on)
    return record


def plan_from_record(record: Mapping[str, Any]) -> Plan:
    why = record["explanation"]
    return Plan(
        record["order_id"],
        record["profile"],
        tuple(_shipment(s) for s in record["shipments"]),
        tuple(
            UnfilledLine(u["line_id"], u["sku"], u["quantity"], Unfilled(u["reason"]), u["detail"])
            for u in record["unfilled"]
        ),
        Costs(**record["costs"]),
        SolveStatus(record["status"]),
        Explanation(
            why["why"],
            tuple(alternative_from_record(a) for a in why["alternatives"]),
            tuple(Binding(**b) for b in why["binding"]),
            dict(why["excluded"]),
            why["candidates"],
            why["pruned"],
        ),
        record["bound"],
    )


def alternative_from_record(record: Mapping[str, Any]) -> Alternative:
    return Alternative(**{**record, "nodes": tuple(record["nodes"])})


def _shipment(record: Mapping[str, Any]) -> PlannedShipment:
    return PlannedShipment(
        record["node_id"],
        tuple(ShipmentLine(**line) for line in record["lines"]),
        record["carrier"],
        record["service"],
        record["packages"],
        record["billable_lb"],
        record["miles"],
        date.fromisoformat(record["ship_on"]),
        date.fromisoformat(record["deliver_on"]),
        Costs(**record["costs"]),
    )
