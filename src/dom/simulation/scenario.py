"""Scenario files, format version 1: read, check and write them.

A file is checked in three steps, each reporting every problem it finds with the JSON path of the
value (`orders[12].lines[0].quantity`) and the line it starts on:
1. it is JSON, and says it is a `dom-scenario` of a version this dom reads;
2. it matches the JSON Schema shipped beside this module (`scenario.schema.json`);
3. the network passes the master-data validation of an import, and the inventory, capacity and
   orders refer to nodes, SKUs, ZIP codes and service levels that exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.errors import InvalidInput, Problem
from dom.domain.sourcing.model import Order, OrderLine
from dom.services import masterdata
from dom.simulation.model import Arrival, DailyCapacity, Scenario
from dom.simulation.positions import lines_of
from dom.simulation.schema_check import Checker, Path, SchemaError, json_path

FORMAT = "dom-scenario"
VERSION = 1
SCHEMA_FILE = "scenario.schema.json"
#: Checking stops after this many problems: the first ones are what a person fixes first.
MAX_PROBLEMS = 200
#: Lines of a written file are at most about this wide; longer values are spread over lines.
WIDTH = 240
ZONE_FIELDS = frozenset({"zone", "max_miles", "transit_days"})


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, as shipped in the package."""
    text = resources.files("dom.simulation").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def load_scenario(text: str, source: str, zips: ZipDirectory) -> Scenario:
    """The scenario in `text`; raises InvalidInput listing every problem, each with its path."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        reason = f"not valid JSON: {error.msg} (column {error.colno})"
        raise InvalidInput(
            [Problem("(the document)", reason, line=error.lineno, source=source)],
            f"{source} is not valid JSON",
        ) from None
    problems = _envelope(document)
    if not problems:
        problems = _first(Checker(scenario_schema()).errors(document))
    scenario = None
    if not problems:
        scenario, problems = _build(document, zips)
    if problems or scenario is None:
        raise InvalidInput(_located(problems, text, source), _summary(problems, source))
    return scenario


def _summary(problems: Sequence[SchemaError], source: str) -> str:
    more = " (checking stopped there)" if len(problems) >= MAX_PROBLEMS else ""
    return f"{len(problems)} problem(s) in scenario {source}{more}"


def _first(errors: Iterator[SchemaError]) -> list[SchemaError]:
    found = []
    for error in errors:
        found.append(error)
        if len(found) >= MAX_PROBLEMS:
            break
    return found


def _located(problems: Sequence[SchemaError], text: str, source: str) -> list[Problem]:
    lines = lines_of(text, [p.path for p in problems])
    return [Problem(json_path(p.path), p.reason, lines.get(p.path), source) for p in problems]


def _envelope(document: Any) -> list[SchemaError]:
    """A scenario of a version this dom reads, or one problem saying what the file is not."""
    if not isinstance(document, dict):
        return [SchemaError((), "a scenario is a JSON object")]
    if document.get("format") != FORMAT:
        found = document.get("format")
        reason = f"must be {FORMAT!r}: this is not a dom scenario file (format {found!r})"
        return [SchemaError(("format",), reason)]
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        reason = f"version {version!r} is not supported: this dom reads scenario version {VERSION}"
        return [SchemaError(("version",), reason)]
    return []


# ---- the domain ---------------------------------------------------------------------------------


def _build(
    document: dict[str, Any], zips: ZipDirectory
) -> tuple[Scenario | None, list[SchemaError]]:
    """The scenario from a document that matches the schema, or every reference that is wrong."""
    problems: list[SchemaError] = []
    network = document["network"]
    data = None
    try:
        data = masterdata.validate_bundle(masterdata.bundle_from_json(network, "network"), zips)
    except InvalidInput as error:
        problems.extend(_network_problem(p) for p in error.problems)
    node_ids = {record["id"] for record in network["nodes"]}
    skus = {record["sku"] for record in network["products"]}
    levels = {record["service_level"] for record in network["carrier_services"]}
    inventory = _inventory(document["inventory"], node_ids, skus, problems)
    overrides = _capacity(document.get("capacity", []), node_ids, problems)
    start = datetime.fromisoformat(document["start"])
    ids: dict[str, Path] = {}
    arrivals = _arrivals(document["orders"], "orders", skus, levels, zips, ids, problems)
    _not_before(document["orders"], start, problems)
    history = _arrivals(document.get("history", []), "history", skus, levels, zips, ids, problems)
    _before(document.get("history", []), start, problems)
    if problems or data is None:
        return None, problems[:MAX_PROBLEMS]
    capacity = {
        node.id: DailyCapacity(
            overrides.get(node.id, {}).get("orders_per_day", node.capacity.orders_per_day),
            overrides.get(node.id, {}).get("units_per_day", node.capacity.units_per_day),
        )
        for node in data.nodes
    }
    seed = document.get("seed")
    scenario = Scenario(
        name=document["name"],
        seed=None if seed is None else int(seed),
        start=start,
        nodes=tuple(data.nodes),
        products={p.sku: p for p in data.products},
        services=tuple(data.services),
        inventory=inventory,
        capacity=capacity,
        arrivals=tuple(sorted(arrivals, key=lambda a: a.arrives_at)),
        history=tuple(sorted(history, key=lambda a: a.arrives_at)),
    )
    return scenario, []


def _network_problem(problem: Problem) -> SchemaError:
    """A master-data problem (item number and field of a kind) at its place in the scenario."""
    kind = (problem.source or "").split(":")[0].strip()
    path: Path = ("network",)
    if kind in masterdata.JSON_KINDS and problem.line is not None:
        path = ("network", kind, problem.line - 1)
    reason = problem.reason
    if kind == "carrier_services" and problem.field in ZONE_FIELDS:
        # The carriers' rules name a zone band's field: point at the bands.
        path, reason = (*path, "zones"), f"{problem.field}: {reason}"
    elif problem.field not in ("record", "", "network"):
        path = (*path, *(int(p) if p.isdigit() else p for p in problem.field.split(".")))
    return SchemaError(path, reason)


def _inventory(
    records: list[dict[str, Any]], node_ids: set[str], skus: set[str], problems: list[SchemaError]
) -> dict[str, dict[str, int]]:
    stock: dict[str, dict[str, int]] = {}
    first: dict[tuple[str, str], int] = {}
    for index, record in enumerate(records):
        node, sku = record["node_id"], record["sku"]
        known = _known(node, node_ids, ("inventory", index, "node_id"), "node", problems)
        known = _known(sku, skus, ("inventory", index, "sku"), "SKU", problems) and known
        if (node, sku) in first:
            reason = f"{sku} at {node} is listed twice, first at inventory[{first[node, sku]}]"
            problems.append(SchemaError(("inventory", index), reason))
        elif known:
            first[node, sku] = index
            stock.setdefault(node, {})[sku] = int(record["quantity"])
    return stock


def _capacity(
    records: list[dict[str, Any]], node_ids: set[str], problems: list[SchemaError]
) -> dict[str, dict[str, int | None]]:
    found: dict[str, dict[str, int | None]] = {}
    first: dict[str, int] = {}
    for index, record in enumerate(records):
        node = record["node_id"]
        if not _known(node, node_ids, ("capacity", index, "node_id"), "node", problems):
            continue
        if node in first:
            reason = f"{node} is listed twice, first at capacity[{first[node]}]"
            problems.append(SchemaError(("capacity", index), reason))
            continue
        first[node] = index
        found[node] = {
            key: None if record[key] is None else int(record[key])
            for key in ("orders_per_day", "units_per_day")
            if key in record
        }
    return found


def _arrivals(
    records: list[dict[str, Any]],
    section: str,
    skus: set[str],
    levels: set[str],
    zips: ZipDirectory,
    ids: dict[str, Path],
    problems: list[SchemaError],
) -> list[Arrival]:
    """The orders of `section` (`orders` or `history`); `ids` are the order ids seen so far,
    with where, since an id is unique across both."""
    arrivals = []
    for index, record in enumerate(records):
        where: Path = (section, index)
        count = len(problems)
        if record["id"] in ids:
            first = json_path(ids[record["id"]])
            reason = f"order {record['id']} is listed twice, first at {first}"
            problems.append(SchemaError((*where, "id"), reason))
        ids.setdefault(record["id"], where)
        arrives_at = datetime.fromisoformat(record["arrives_at"])
        place = zips.lookup(record["zip"])
        if place is None or not place.has_location:
            why = "unknown ZIP code" if place is None else "a ZIP code without known coordinates"
            problems.append(SchemaError((*where, "zip"), f"{record['zip']}: {why}"))
        level = record.get("service_level", "ground")
        if level not in levels:
            offered = ", ".join(sorted(levels))
            reason = f"no carrier service has level {level!r} (there are: {offered})"
            problems.append(SchemaError((*where, "service_level"), reason))
        promise = date.fromisoformat(record["promise_by"]) if "promise_by" in record else None
        if promise is not None and promise < arrives_at.date():
            reason = f"{promise.isoformat()} is before the order arrives"
            problems.append(SchemaError((*where, "promise_by"), reason))
        for number, line in enumerate(record["lines"]):
            _known(line["sku"], skus, (*where, "lines", number, "sku"), "SKU", problems)
        if len(problems) > count or place is None:
            continue
        order = Order(
            id=record["id"],
            lines=tuple(
                OrderLine(str(number), line["sku"], int(line["quantity"]))
                for number, line in enumerate(record["lines"], start=1)
            ),
            destination=place.location,
            service_level=level,
            promise_by=promise,
            residential=record.get("residential", True),
        )
        tags = frozenset(record.get("tags", ()))
        arrivals.append(Arrival(order, arrives_at, record["zip"], record.get("channel"), tags))
    return arrivals


def _not_before(
    records: list[dict[str, Any]], start: datetime, problems: list[SchemaError]
) -> None:
    for index, record in enumerate(records):
        if datetime.fromisoformat(record["arrives_at"]) < start:
            reason = f"arrives at {record['arrives_at']}, before the scenario starts ({start.isoformat()})"
            problems.append(SchemaError(("orders", index, "arrives_at"), reason))


def _before(records: list[dict[str, Any]], start: datetime, problems: list[SchemaError]) -> None:
    for index, record in enumerate(records):
        if datetime.fromisoformat(record["arrives_at"]) >= start:
            reason = f"arrives at {record['arrives_at']}: past orders arrive before the scenario starts ({start.isoformat()})"
            problems.append(SchemaError(("history", index, "arrives_at"), reason))


def _known(value: str, known: set[str], path: Path, kind: str, problems: list[SchemaError]) -> bool:
    if value in known:
        return True
    problems.append(SchemaError(path, f"unknown {kind} {value!r}: not in the network"))
    return False


# ---- writing ------------------------------------------------------------------------------------


def dump_scenario(document: Mapping[str, Any]) -> str:
    """The document as JSON text: one short record per line, longer values spread over lines,
    so that the line numbers of problems point somewhere useful."""
    return "".join(_dump(document, 0)) + "\n"


def _dump(value: Any, indent: int) -> Iterator[str]:
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= WIDTH or not isinstance(value, dict | list) or not value:
        yield flat
        return
    inner = " " * (indent + 2)
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    yield opening + "\n"
    items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
    for number, (key, item) in enumerate(items):
        yield inner
        if key is not None:
            yield json.dumps(key, ensure_ascii=False) + ": "
        yield from _dump(item, indent + 2)
        yield ",\n" if number < len(items) - 1 else "\n"
    yield " " * indent + closing
