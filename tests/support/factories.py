"""Small valid master-data records for tests; override any field by keyword."""

from __future__ import annotations

from typing import Any


def node_record(node_id: str = "dc-columbus", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": node_id,
        "name": f"Node {node_id}",
        "type": "dc",
        "address_line1": "4000 Logistics Way",
        "city": "Columbus",
        "state": "OH",
        "zip": "43217",
        "capabilities": ["ship", "accept_returns"],
        "handling": ["hazmat"],
        "capacity_orders": 5000,
        "capacity_units": 12000,
        "capacity_labour_hours": 900,
        "operating_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "holidays": ["2026-12-25"],
        "cutoff": "16:00",
        "processing_days": 0,
        "cost_per_order": 3.25,
        "cost_per_unit": 0.35,
    }
    record.update(changes)
    return record


def store_record(node_id: str = "store-0001", **changes: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "type": "store",
        "name": f"Store {node_id}",
        "address_line1": "100 Main St",
        "city": "Chicago",
        "state": "IL",
        "zip": "60614",
        "capabilities": ["ship_from_store", "pickup_in_store", "curbside"],
        "handling": [],
        "capacity_orders": 150,
        "capacity_units": 400,
        "capacity_labour_hours": 40,
        "operating_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "cost_per_order": 6.5,
        "cost_per_unit": 0.8,
    }
    return node_record(node_id, **{**defaults, **changes})


def product_record(sku: str = "SKU-1", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sku": sku,
        "name": f"Product {sku}",
        "length": 12,
        "width": 8,
        "height": 4,
        "dimension_unit": "in",
        "weight": 2.5,
        "weight_unit": "lb",
        "handling": [],
        "ship_alone": False,
        "stock_tracked": True,
    }
    record.update(changes)
    return record


ZONE_LIMITS = [
    (2, 150.0, 2),
    (3, 300.0, 3),
    (4, 600.0, 3),
    (5, 1000.0, 4),
    (6, 1400.0, 4),
    (7, 1800.0, 5),
    (8, None, 5),
]


def service_record(
    carrier: str = "testco", service: str = "ground", max_lb: int = 5, **changes: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "carrier": carrier,
        "service": service,
        "name": f"{carrier} {service}",
        "service_level": "ground",
        "dim_divisor": 139,
        "residential_surcharge": 5.75,
        "fuel_surcharge_pct": 8,
        "pickup_days": ["mon", "tue", "wed", "thu", "fri"],
        "zones": [{"zone": z, "max_miles": m, "transit_days": d} for z, m, d in ZONE_LIMITS],
        "rates": [
            {"zone": z, "weight_lb": w, "price": round(9.5 + 0.6 * (z - 2) + 0.4 * w, 2)}
            for z, _, _ in ZONE_LIMITS
            for w in range(1, max_lb + 1)
        ],
    }
    record.update(changes)
    return record
