"""Scenario files: a valid file loads; every bad one is refused with each problem's JSON path and
line; the shipped schema uses only what the checker understands and matches the master-data
records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.errors import InvalidInput, Problem
from dom.schemas.records import NodeRecord, ProductRecord, RateRecord, ServiceRecord, ZoneRecord
from dom.simulation.model import DailyCapacity
from dom.simulation.positions import lines_of
from dom.simulation.scenario import MAX_PROBLEMS, dump_scenario, load_scenario, scenario_schema
from dom.simulation.schema_check import ANNOTATIONS, SUPPORTED, Checker, json_path, keywords_used
from tests.support.factories import node_record, product_record, service_record, store_record


def scenario_document(**changes: Any) -> dict[str, Any]:
    """Two nodes, two SKUs, three orders: the smallest scenario worth replaying."""
    document: dict[str, Any] = {
        "format": "dom-scenario",
        "version": 1,
        "name": "tiny",
        "seed": None,
        "start": "2026-12-01T05:00:00+00:00",
        "network": {
            "nodes": [node_record("dc-columbus"), store_record("store-0001")],
            "products": [product_record("A"), product_record("B")],
            "carrier_services": [service_record()],
        },
        "inventory": [
            {"node_id": "dc-columbus", "sku": "A", "quantity": 5},
            {"node_id": "store-0001", "sku": "B", "quantity": 2},
        ],
        "capacity": [{"node_id": "store-0001", "orders_per_day": 1, "units_per_day": None}],
        "orders": [
            {
                "id": "o2",
                "arrives_at": "2026-12-01T16:00:00+00:00",
                "zip": "60614",
                "lines": [{"sku": "B", "quantity": 1}],
            },
            {
                "id": "o1",
                "arrives_at": "2026-12-01T15:00:00+00:00",
                "zip": "10001",
                "service_level": "ground",
                "promise_by": "2026-12-10",
                "residential": False,
                "channel": "web",
                "tags": ["vip"],
                "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
            },
            {
                "id": "o3",
                "arrives_at": "2026-12-02T06:00:00+00:00",
                "zip": "43219",
                "lines": [{"sku": "A", "quantity": 1}],
            },
        ],
    }
    document.update(changes)
    return document


def problems_of(document: Any, zips: ZipDirectory) -> list[Problem]:
    text = document if isinstance(document, str) else dump_scenario(document)
    with pytest.raises(InvalidInput) as refused:
        load_scenario(text, "scenario.json", zips)
    return refused.value.problems


def line_with(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_a_valid_scenario_loads_its_network_stock_capacity_and_orders_in_arrival_order(
    zips: ZipDirectory,
) -> None:
    scenario = load_scenario(dump_scenario(scenario_document()), "tiny.json", zips)
    assert [a.order.id for a in scenario.arrivals] == ["o1", "o2", "o3"]
    first = scenario.arrivals[0]
    assert first.order.promise_by == date(2026, 12, 10)
    assert not first.order.residential
    assert first.channel == "web" and first.tags == frozenset({"vip"})
    assert [(line.line_id, line.sku, line.quantity) for line in first.order.lines] == [
        ("1", "A", 2),
        ("2", "B", 1),
    ]
    assert scenario.inventory == {"dc-columbus": {"A": 5}, "store-0001": {"B": 2}}
    assert scenario.capacity["store-0001"] == DailyCapacity(orders=1, units=None)
    assert scenario.capacity["dc-columbus"] == DailyCapacity(orders=5000, units=12000)
    assert scenario.days == 2
    assert scenario.day_of(datetime(2026, 12, 2, 4, 59, tzinfo=UTC)) == 0


def test_a_wrong_type_deep_inside_names_its_path_and_its_line(zips: ZipDirectory) -> None:
    document = scenario_document()
    document["orders"][1]["lines"][1]["quantity"] = "1"
    text = dump_scenario(document)
    [problem] = problems_of(text, zips)
    assert problem.field == "orders[1].lines[1].quantity"
    assert "must be an integer, not a string" in problem.reason
    assert problem.line == line_with(text, '"quantity": "1"')
    assert problem.source == "scenario.json"


def test_every_shape_problem_is_reported_at_once(zips: ZipDirectory) -> None:
    document = scenario_document()
    document["inventory"][0]["quantity"] = -3
    document["orders"][0]["lines"][0]["quantity"] = 0
    del document["orders"][2]["zip"]
    document["orders"][2]["colour"] = "red"
    document["orders"][1]["arrives_at"] = "2026-12-01 15:00"
    document["network"]["nodes"][0]["capacity_units"] = 1.5
    found = {p.field: p.reason for p in problems_of(document, zips)}
    assert found == {
        "network.nodes[0].capacity_units": "must be an integer, not a number (1.5)",
        "inventory[0].quantity": "must be at least 0, not -3",
        "orders[0].lines[0].quantity": "must be at least 1, not 0",
        "orders[1].arrives_at": "'2026-12-01 15:00' is not a date-time with a time zone "
        "(2026-12-01T09:30:00Z)",
        "orders[2].zip": "is required",
        "orders[2].colour": "unknown property",
    }


def test_a_missing_property_points_at_the_line_of_its_object(zips: ZipDirectory) -> None:
    document = scenario_document()
    del document["orders"][2]["zip"]
    text = dump_scenario(document)
    [problem] = problems_of(text, zips)
    assert (problem.field, problem.line) == ("orders[2].zip", line_with(text, '"id": "o3"'))


def test_an_unknown_sku_node_zip_or_service_level_is_refused_with_its_path(
    zips: ZipDirectory,
) -> None:
    document = scenario_document()
    document["orders"][0]["lines"][0]["sku"] = "NOPE"
    document["orders"][1]["zip"] = "00000"
    document["orders"][2]["service_level"] = "teleport"
    document["inventory"][1]["node_id"] = "store-9999"
    document["capacity"][0]["node_id"] = "dc-nowhere"
    found = {p.field: p.reason for p in problems_of(document, zips)}
    assert found == {
        "inventory[1].node_id": "unknown node 'store-9999': not in the network",
        "capacity[0].node_id": "unknown node 'dc-nowhere': not in the network",
        "orders[0].lines[0].sku": "unknown SKU 'NOPE': not in the network",
        "orders[1].zip": "00000: unknown ZIP code",
        "orders[2].service_level": "no carrier service has level 'teleport' (there are: ground)",
    }


def test_repeats_and_impossible_dates_are_refused(zips: ZipDirectory) -> None:
    document = scenario_document()
    document["orders"][2]["id"] = "o2"
    document["orders"][1]["promise_by"] = "2026-11-30"
    document["orders"][0]["arrives_at"] = "2026-11-30T16:00:00+00:00"
    document["inventory"].append({"node_id": "dc-columbus", "sku": "A", "quantity": 1})
    found = {p.field: p.reason for p in problems_of(document, zips)}
    assert found == {
        "inventory[2]": "A at dc-columbus is listed twice, first at inventory[0]",
        "orders[0].arrives_at": "arrives at 2026-11-30T16:00:00+00:00, before the scenario "
        "starts (2026-12-01T05:00:00+00:00)",
        "orders[1].promise_by": "2026-11-30 is before the order arrives",
        "orders[2].id": "order o2 is listed twice, first at orders[0]",
    }


def test_the_network_gets_the_master_data_validation_of_an_import(zips: ZipDirectory) -> None:
    document = scenario_document()
    document["network"]["nodes"][1]["zip"] = "00000"
    document["network"]["products"][1].pop("weight")
    text = dump_scenario(document)
    found = {p.field: (p.reason, p.line) for p in problems_of(text, zips)}
    assert found == {
        "network.nodes[1].zip": ("unknown ZIP code 00000", line_with(text, '"zip": "00000"')),
        "network.products[1].weight": (
            "is required for a stock-tracked product",
            line_with(text, '"sku": "B"'),
        ),
    }


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"version": 2},
            "version",
            "version 2 is not supported: this dom reads scenario version 1",
        ),
        ({"version": "1"}, "version", "version '1' is not supported"),
        ({"format": "other"}, "format", "must be 'dom-scenario': this is not a dom scenario file"),
    ],
)
def test_another_format_or_version_is_refused_before_anything_else(
    zips: ZipDirectory, changes: dict[str, Any], field: str, reason: str
) -> None:
    document = scenario_document(**changes, orders="not checked")
    [problem] = problems_of(document, zips)
    assert problem.field == field
    assert problem.reason.startswith(reason)


def test_text_that_is_not_json_is_refused_with_its_line(zips: ZipDirectory) -> None:
    [problem] = problems_of('{\n  "format": "dom-scenario",\n  "version": 1,,\n}', zips)
    assert problem.line == 3
    assert problem.reason.startswith("not valid JSON")


def test_checking_stops_after_the_first_problems(zips: ZipDirectory) -> None:
    document = scenario_document()
    document["inventory"] = [{"node_id": "?", "sku": "A", "quantity": 1}] * (MAX_PROBLEMS + 50)
    assert len(problems_of(document, zips)) == MAX_PROBLEMS


def test_the_schema_uses_only_keywords_the_checker_understands() -> None:
    assert keywords_used(scenario_schema()) - SUPPORTED - ANNOTATIONS == set()


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("node", NodeRecord),
        ("product", ProductRecord),
        ("service", ServiceRecord),
        ("zone", ZoneRecord),
        ("rate", RateRecord),
    ],
)
def test_the_network_records_of_the_schema_are_the_master_data_records(
    name: str, model: type[Any]
) -> None:
    schema = scenario_schema()["$defs"][name]
    expected = model.model_json_schema()
    assert set(schema["properties"]) == set(expected["properties"])
    assert set(schema["required"]) == set(expected.get("required", []))
    assert schema["additionalProperties"] is False


def test_a_generated_style_document_and_its_schema_agree_on_a_pretty_printed_file() -> None:
    document = scenario_document()
    assert list(Checker(scenario_schema()).errors(document)) == []
    text = json.dumps(document, indent=2)
    paths = [("orders", 1, "lines", 1, "sku"), ("network", "nodes", 1), ("inventory", 9)]
    lines = lines_of(text, paths)
    rows = text.splitlines()
    assert rows[lines[paths[0]] - 1].strip() == '"sku": "B",'
    assert rows[lines[paths[1]] - 1].strip() == "{"
    assert rows[lines[paths[1]]].strip() == '"id": "store-0001",'
    # No such item: the line of the deepest value that exists, the inventory array.
    assert rows[lines[paths[2]] - 1].strip() == '"inventory": ['


def test_json_paths_read_like_the_file() -> None:
    assert json_path(("orders", 12, "lines", 0, "quantity")) == "orders[12].lines[0].quantity"
    assert json_path(()) == "(the document)"


def past(order_id: str, arrives_at: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "arrives_at": arrives_at,
        "zip": "60614",
        "lines": [{"sku": "B", "quantity": 1}],
    }


def test_past_orders_load_as_history_before_the_start_and_are_not_replayed(
    zips: ZipDirectory,
) -> None:
    history = [past("h2", "2026-11-30T15:00:00+00:00"), past("h1", "2026-11-29T15:00:00+00:00")]
    scenario = load_scenario(dump_scenario(scenario_document(history=history)), "h.json", zips)
    assert [a.order.id for a in scenario.history] == ["h1", "h2"]
    assert [a.order.id for a in scenario.arrivals] == ["o1", "o2", "o3"]
    assert scenario.days == 2
    assert load_scenario(dump_scenario(scenario_document()), "x.json", zips).history == ()


def test_a_past_order_after_the_start_or_sharing_an_id_is_refused(zips: ZipDirectory) -> None:
    history = [past("h1", "2026-12-01T05:00:00+00:00"), past("o2", "2026-11-30T15:00:00+00:00")]
    history.append({**past("h3", "2026-11-30T16:00:00+00:00"), "zip": "00000"})
    found = {p.field: p.reason for p in problems_of(scenario_document(history=history), zips)}
    assert found == {
        "history[0].arrives_at": "arrives at 2026-12-01T05:00:00+00:00: past orders arrive "
        "before the scenario starts (2026-12-01T05:00:00+00:00)",
        "history[1].id": "order o2 is listed twice, first at orders[0]",
        "history[2].zip": "00000: unknown ZIP code",
    }
