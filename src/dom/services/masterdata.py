"""Master data in and out: validate every row of an import, write all of it or none of it."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import reading, writing
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.carriers import CarrierService, ZoneBand, service_problems
from dom.domain.catalog import Dimensions, Product
from dom.domain.errors import InvalidField, InvalidInput, Problem
from dom.domain.geo import Coordinates
from dom.domain.network import (
    Address,
    Calendar,
    Capacity,
    HandlingCost,
    Node,
    Pause,
    Weekday,
)
from dom.domain.units import (
    LengthUnit,
    WeightUnit,
    parse_length_unit,
    parse_weight_unit,
    to_inches,
    to_pounds,
)
from dom.schemas.records import (
    NodeRecord,
    ProductRecord,
    RateRecord,
    Record,
    ServiceRateRow,
    ServiceRecord,
    ServiceZoneRow,
    ZoneRecord,
)
from dom.services.formats import RawRow, read_csv, read_json_items, write_csv

R = TypeVar("R", bound=Record)
T = TypeVar("T")
Progress = Callable[[str, int, int], None]

NODE_COLUMNS = tuple(NodeRecord.model_fields)
PRODUCT_COLUMNS = tuple(ProductRecord.model_fields)
SERVICE_COLUMNS = tuple(
    name for name in ServiceRecord.model_fields if name not in ("zones", "rates")
)
ZONE_COLUMNS = ("carrier", "service", "zone", "max_miles", "transit_days")
RATE_COLUMNS = ("carrier", "service", "zone", "weight_lb", "price")


@dataclass
class RawBundle:
    """Unvalidated rows of one import. Zones and rates come apart from services only in CSV."""

    nodes: list[RawRow] = field(default_factory=list)
    products: list[RawRow] = field(default_factory=list)
    services: list[RawRow] = field(default_factory=list)
    zones: list[RawRow] = field(default_factory=list)
    rates: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(
            len(rows) for rows in (self.nodes, self.products, self.services, self.zones, self.rates)
        )


@dataclass(frozen=True)
class KindReport:
    received: int
    created: int
    updated: int


@dataclass(frozen=True)
class ImportReport:
    nodes: KindReport
    products: KindReport
    carrier_services: KindReport

    @property
    def rows(self) -> int:
        return self.nodes.received + self.products.received + self.carrier_services.received


@dataclass(frozen=True)
class MasterData:
    """Validated master data, ready to store or to export."""

    nodes: list[Node]
    products: list[Product]
    services: list[CarrierService]


# ---- records <-> domain ------------------------------------------------------------------------


def node_from_record(record: NodeRecord, zips: ZipDirectory) -> Node:
    place = zips.lookup(record.zip)
    if place is None:
        raise InvalidField("zip", f"unknown ZIP code {record.zip}")
    if (record.latitude is None) != (record.longitude is None):
        raise InvalidField("latitude", "give both latitude and longitude, or neither")
    if record.latitude is not None and record.longitude is not None:
        location = Coordinates(record.latitude, record.longitude)
    elif place.has_location:
        location = place.location
    else:
        raise InvalidField(
            "zip", f"ZIP {record.zip} has no known coordinates; give latitude and longitude"
        )
    timezone = record.timezone or place.timezone
    if timezone is None:
        raise InvalidField("timezone", f"ZIP {record.zip} has no known time zone; give one")
    check_timezone(timezone)
    return Node(
        id=record.id,
        name=record.name,
        type=record.type,
        address=Address(record.address_line1, record.city, record.state.upper(), record.zip),
        location=location,
        timezone=timezone,
        capabilities=frozenset(record.capabilities),
        handling=frozenset(record.handling),
        capacity=Capacity(
            record.capacity_orders, record.capacity_units, record.capacity_labour_hours
        ),
        calendar=Calendar(
            operating_days=frozenset(record.operating_days),
            holidays=frozenset(record.holidays),
            cutoff=record.cutoff,
            processing_days=record.processing_days,
        ),
        cost=HandlingCost(record.cost_per_order, record.cost_per_unit),
        pause=_pause_from_record(record),
    )


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", f"{name!r} is not an IANA time zone") from None


def _pause_from_record(record: NodeRecord) -> Pause | None:
    if record.pause_reason is None:
        if record.pause_starts_at or record.pause_ends_at:
            raise InvalidField("pause_reason", "a pause window needs a reason")
        return None
    if record.pause_starts_at is None:
        raise InvalidField("pause_starts_at", "a pause needs a start time")
    return Pause(record.pause_reason, record.pause_starts_at, record.pause_ends_at)


def node_to_record(node: Node) -> dict[str, Any]:
    """The stored row, with the pause window as ISO 8601 text."""
    record = repo.node_to_row(node)
    for name in ("pause_starts_at", "pause_ends_at"):
        if record[name] is not None:
            record[name] = record[name].isoformat()
    return record


_LENGTH_UNITS = {unit.value: unit for unit in LengthUnit}
_WEIGHT_UNITS = {unit.value: unit for unit in WeightUnit}


def product_from_record(record: ProductRecord) -> Product:
    """Normalize units; every missing or non-positive size is reported at once."""
    # The common row (four positive sizes, units spelled as dom writes them) skips the
    # bookkeeping below, which only matters for reporting problems: imports have 100,000s of rows.
    length, width, height, weight = record.length, record.width, record.height, record.weight
    length_unit = _LENGTH_UNITS.get(record.dimension_unit)
    weight_unit = _WEIGHT_UNITS.get(record.weight_unit)
    if (
        length is not None
        and width is not None
        and height is not None
        and weight is not None
        and length > 0
        and width > 0
        and height > 0
        and weight > 0
        and length_unit is not None
        and weight_unit is not None
    ):
        return Product(
            sku=record.sku,
            name=record.name,
            dimensions=Dimensions(
                to_inches(length, length_unit),
                to_inches(width, length_unit),
                to_inches(height, length_unit),
                to_pounds(weight, weight_unit),
            ),
            handling=frozenset(record.handling),
            ship_alone=record.ship_alone,
            stock_tracked=record.stock_tracked,
        )
    sizes = {
        "length": record.length,
        "width": record.width,
        "height": record.height,
        "weight": record.weight,
    }
    dimensions = None
    if record.stock_tracked or any(value is not None for value in sizes.values()):
        problems: list[Problem] = []
        for name, value in sizes.items():
            if value is None:
                problems.append(Problem(name, "is required for a stock-tracked product"))
            elif value <= 0:
                problems.append(Problem(name, "must be a positive number"))
        length_unit = _collect(partial(parse_length_unit, record.dimension_unit), problems)
        weight_unit = _collect(partial(parse_weight_unit, record.weight_unit), problems)
        if problems or length_unit is None or weight_unit is None:
            raise InvalidInput(problems)
        given = {name: value for name, value in sizes.items() if value is not None}
        dimensions = Dimensions(
            to_inches(given["length"], length_unit),
            to_inches(given["width"], length_unit),
            to_inches(given["height"], length_unit),
            to_pounds(given["weight"], weight_unit),
        )
    return Product(
        sku=record.sku,
        name=record.name,
        dimensions=dimensions,
        handling=frozenset(record.handling),
        ship_alone=record.ship_alone,
        stock_tracked=record.stock_tracked,
    )


def _collect(parse: Callable[[], T], problems: list[Problem]) -> T | None:
    try:
        return parse()
    except InvalidField as error:
        problems.append(Problem(error.field, error.reason))
        return None


def product_to_record(product: Product) -> dict[str, Any]:
    dims = product.dimensions
    return {
        "sku": product.sku,
        "name": product.name,
        "length": dims.length_in if dims else None,
        "width": dims.width_in if dims else None,
        "height": dims.height_in if dims else None,
        "dimension_unit": "in",
        "weight": dims.weight_lb if dims else None,
        "weight_unit": "lb",
        "handling": sorted(h.value for h in product.handling),
        "ship_alone": product.ship_alone,
        "stock_tracked": product.stock_tracked,
    }


def service_from_record(record: ServiceRecord) -> CarrierService:
    rates: dict[tuple[int, int], float] = {}
    for rate in record.rates:
        key = (rate.zone, rate.weight_lb)
        if key in rates:
            raise InvalidField("rates", f"zone {rate.zone}, {rate.weight_lb} lb is priced twice")
        rates[key] = rate.price
    zones = sorted(record.zones, key=lambda z: z.zone)
    return CarrierService(
        carrier=record.carrier,
        service=record.service,
        name=record.name,
        service_level=record.service_level,
        dim_divisor=record.dim_divisor,
        residential_surcharge=record.residential_surcharge,
        fuel_surcharge_pct=record.fuel_surcharge_pct,
        pickup_days=frozenset(record.pickup_days),
        zones=tuple(ZoneBand(z.zone, z.max_miles, z.transit_days) for z in zones),
        rates=rates,
    )


def service_to_record(service: CarrierService) -> dict[str, Any]:
    return {
        "carrier": service.carrier,
        "service": service.service,
        "name": service.name,
        "service_level": service.service_level,
        "dim_divisor": service.dim_divisor,
        "residential_surcharge": service.residential_surcharge,
        "fuel_surcharge_pct": service.fuel_surcharge_pct,
        "pickup_days": [d.value for d in Weekday if d in service.pickup_days],
        "zones": [
            {"zone": b.zone, "max_miles": b.max_miles, "transit_days": b.transit_days}
            for b in service.zones
        ],
        "rates": [
            {"zone": z, "weight_lb": w, "price": p} for (z, w), p in sorted(service.rates.items())
        ],
    }


# ---- validation ------------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during bulk work.

    An import allocates hundreds of thousands of small objects that form no cycles; every few
    thousand of them the collector would walk all live objects (the ZIP directory alone is
    about 200,000), which cost more than the import itself. Reference counting still frees
    everything at once. Nested or concurrent use never leaves it off: the caller that found it
    running starts it again.
    """
    was_running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_running:
            gc.enable()


def _validate(model: type[R], row: RawRow, problems: list[Problem]) -> R | None:
    try:
        return model.model_validate(row.values)
    except ValidationError as error:
        for issue in error.errors():
            where = ".".join(str(part) for part in issue["loc"]) or "record"
            reason = "unknown field" if issue["type"] == "extra_forbidden" else issue["msg"]
            problems.append(Problem(where, reason, line=row.line, source=row.source))
        return None


def _build(make: Callable[[], Any], row: RawRow, problems: list[Problem]) -> Any:
    try:
        return make()
    except InvalidField as error:
        problems.append(Problem(error.field, error.reason, line=row.line, source=row.source))
    except InvalidInput as error:
        for problem in error.problems:
            problems.append(
                Problem(problem.field, problem.reason, line=row.line, source=row.source)
            )
    return None


def _tick(progress: Progress | None, kind: str, done: int, total: int) -> None:
    if progress is not None and (done % 2_000 == 0 or done == total):
        progress(kind, done, total)


def validate_bundle(
    bundle: RawBundle, zips: ZipDirectory, progress: Progress | None = None
) -> MasterData:
    """Every row checked, every problem collected; raises InvalidInput listing them all."""
    problems = list(bundle.problems)
    with _collector_paused():
        nodes = _validate_nodes(bundle.nodes, zips, problems, progress)
        products = _validate_products(bundle.products, problems, progress)
        services = _validate_services(bundle, problems)
    if problems:
        raise InvalidInput(problems, f"{len(problems)} problem(s); nothing was imported")
    return MasterData(nodes, products, services)


def _validate_nodes(
    rows: list[RawRow], zips: ZipDirectory, problems: list[Problem], progress: Progress | None
) -> list[Node]:
    nodes: list[Node] = []
    first_line: dict[str, int] = {}
    for done, row in enumerate(rows, start=1):
        record = _validate(NodeRecord, row, problems)
        if record is not None:
            node = _build(partial(node_from_record, record, zips), row, problems)
            if node is not None and _unique(node.id, "id", row, first_line, problems):
                nodes.append(node)
        else:
            _check_zip_anyway(row, zips, problems)
        _tick(progress, "nodes", done, len(rows))
    return nodes


def _check_zip_anyway(row: RawRow, zips: ZipDirectory, problems: list[Problem]) -> None:
    """A row with other errors still has its ZIP looked up, so one pass reports everything."""
    code = row.values.get("zip")
    if isinstance(code, str) and len(code) == 5 and code.isdigit() and zips.lookup(code) is None:
        problems.append(
            Problem("zip", f"unknown ZIP code {code}", line=row.line, source=row.source)
        )


def _validate_products(
    rows: list[RawRow], problems: list[Problem], progress: Progress | None
) -> list[Product]:
    products: list[Product] = []
    first_line: dict[str, int] = {}
    for done, row in enumerate(rows, start=1):
        record = _validate(ProductRecord, row, problems)
        if record is not None:
            product = _build(partial(product_from_record, record), row, problems)
            if product is not None and _unique(product.sku, "sku", row, first_line, problems):
                products.append(product)
        _tick(progress, "products", done, len(rows))
    return products


def _unique(
    key: str, name: str, row: RawRow, first_line: dict[str, int], problems: list[Problem]
) -> bool:
    if key in first_line:
        reason = f"duplicate {name} {key!r}, first on line {first_line[key]}"
        problems.append(Problem(name, reason, line=row.line, source=row.source))
        return False
    first_line[key] = row.line
    return True


def _validate_services(bundle: RawBundle, problems: list[Problem]) -> list[CarrierService]:
    records: list[tuple[RawRow, ServiceRecord]] = []
    first_line: dict[str, int] = {}
    for row in bundle.services:
        record = _validate(ServiceRecord, row, problems)
        if record is not None and _unique(
            f"{record.carrier}/{record.service}", "service", row, first_line, problems
        ):
            records.append((row, record))
    records = _attach_csv_zones_and_rates(bundle, records, problems)
    services: list[CarrierService] = []
    for row, record in records:
        service = _build(partial(service_from_record, record), row, problems)
        if service is None:
            continue
        found = service_problems(service)
        for problem in found:
            problems.append(
                Problem(
                    problem.field,
                    problem.reason,
                    line=row.line,
                    source=f"{row.source}: {service.key}",
                )
            )
        if not found:
            services.append(service)
    return services


def _attach_csv_zones_and_rates(
    bundle: RawBundle, records: list[tuple[RawRow, ServiceRecord]], problems: list[Problem]
) -> list[tuple[RawRow, ServiceRecord]]:
    """In CSV, zones and rates are files of their own: hang them on their services."""
    if not bundle.zones and not bundle.rates:
        return records
    by_key = {(r.carrier, r.service): (row, r) for row, r in records}
    zones: dict[tuple[str, str], list[ZoneRecord]] = {}
    rates: dict[tuple[str, str], list[RateRecord]] = {}
    for row in bundle.zones:
        zone = _validate(ServiceZoneRow, row, problems)
        if zone is not None and _known_service(zone.carrier, zone.service, by_key, row, problems):
            plain = zone.model_dump(exclude={"carrier", "service"})
            zones.setdefault((zone.carrier, zone.service), []).append(ZoneRecord(**plain))
    for row in bundle.rates:
        rate = _validate(ServiceRateRow, row, problems)
        if rate is not None and _known_service(rate.carrier, rate.service, by_key, row, problems):
            plain = rate.model_dump(exclude={"carrier", "service"})
            rates.setdefault((rate.carrier, rate.service), []).append(RateRecord(**plain))
    return [
        (row, record.model_copy(update={"zones": zones.get(key, []), "rates": rates.get(key, [])}))
        for key, (row, record) in by_key.items()
    ]


def _known_service(
    carrier: str,
    service: str,
    known: Mapping[tuple[str, str], object],
    row: RawRow,
    problems: list[Problem],
) -> bool:
    if (carrier, service) in known:
        return True
    reason = (
        f"service {carrier}/{service} is not in the carrier services file; import them together"
    )
    problems.append(Problem("service", reason, line=row.line, source=row.source))
    return False


# ---- use cases ----------------------------------------------------------------------------


def import_master_data(
    engine: Engine,
    principal: Principal,
    bundle: RawBundle,
    zips: ZipDirectory,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate everything, then store everything in one transaction (or nothing at all)."""
    principal.require(Action.IMPORT_MASTER_DATA)
    data = validate_bundle(bundle, zips, progress)
    report = store_master_data(engine, principal, data)
    if progress is not None:
        progress("stored", bundle.size, bundle.size)
    return report


def store_master_data(engine: Engine, principal: Principal, data: MasterData) -> ImportReport:
    """Store validated master data in one transaction, replacing records with the same keys."""
    principal.require(Action.IMPORT_MASTER_DATA)
    with _collector_paused(), writing(engine) as connection:
        existing_nodes = repo.node_ids(connection)
        existing_skus = repo.product_skus(connection)
        existing_services = repo.service_keys(connection)
        repo.save_nodes(connection, data.nodes)
        repo.save_products(connection, data.products)
        repo.save_services(connection, data.services)
    return ImportReport(
        nodes=_report([n.id for n in data.nodes], existing_nodes),
        products=_report([p.sku for p in data.products], existing_skus),
        carrier_services=_report([s.key for s in data.services], existing_services),
    )


def _report(keys: Sequence[str], existing: set[str]) -> KindReport:
    updated = sum(1 for key in keys if key in existing)
    return KindReport(received=len(keys), created=len(keys) - updated, updated=updated)


def export_master_data(engine: Engine, principal: Principal) -> MasterData:
    principal.require(Action.EXPORT_MASTER_DATA)
    with reading(engine) as connection:
        return MasterData(
            nodes=repo.list_nodes(connection),
            products=repo.list_products(connection),
            services=repo.list_services(connection),
        )


def as_json_bundle(data: MasterData) -> dict[str, list[dict[str, Any]]]:
    return {
        "nodes": [node_to_record(n) for n in data.nodes],
        "products": [product_to_record(p) for p in data.products],
        "carrier_services": [service_to_record(s) for s in data.services],
    }


# ---- files ----------------------------------------------------------------------------------

CSV_KINDS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "nodes": (NODE_COLUMNS, NodeRecord.list_fields),
    "products": (PRODUCT_COLUMNS, ProductRecord.list_fields),
    "carrier_services": (SERVICE_COLUMNS, ServiceRecord.list_fields),
    "carrier_zones": (ZONE_COLUMNS, frozenset()),
    "carrier_rates": (RATE_COLUMNS, frozenset()),
}
JSON_KINDS = ("nodes", "products", "carrier_services")


def bundle_from_csv(files: Mapping[str, str]) -> RawBundle:
    """Files by kind (nodes, products, carrier_services, carrier_zones, carrier_rates)."""
    bundle = RawBundle()
    with _collector_paused():
        _read_csv_files(bundle, files)
    return bundle


def _read_csv_files(bundle: RawBundle, files: Mapping[str, str]) -> None:
    for kind, text in files.items():
        if kind not in CSV_KINDS:
            known = ", ".join(CSV_KINDS)
            raise InvalidInput([Problem("kind", f"unknown kind {kind!r}; use one of {known}")])
        columns, list_fields = CSV_KINDS[kind]
        rows, problems = read_csv(text, f"{kind}.csv", columns, list_fields)
        bundle.problems.extend(problems)
        _rows_of(bundle, kind).extend(rows)


def bundle_from_json(data: Any, source: str = "body") -> RawBundle:
    """A JSON object with any of the arrays nodes, products and carrier_services."""
    if not isinstance(data, dict):
        raise InvalidInput(
            [Problem(source, "expected a JSON object with nodes, products or carrier_services")]
        )
    unknown = [key for key in data if key not in JSON_KINDS]
    if unknown:
        raise InvalidInput([Problem(key, "unknown section", source=source) for key in unknown])
    bundle = RawBundle()
    for kind in JSON_KINDS:
        if kind in data:
            _rows_of(bundle, kind).extend(read_json_items(data[kind], kind))
    return bundle


def _rows_of(bundle: RawBundle, kind: str) -> list[RawRow]:
    return {
        "nodes": bundle.nodes,
        "products": bundle.products,
        "carrier_services": bundle.services,
        "carrier_zones": bundle.zones,
        "carrier_rates": bundle.rates,
    }[kind]


def csv_files(data: MasterData) -> dict[str, str]:
    """The master data as CSV text by kind; importing these files gives the same data back."""
    return {
        "nodes": write_csv(NODE_COLUMNS, (node_to_record(n) for n in data.nodes)),
        "products": write_csv(PRODUCT_COLUMNS, (product_to_record(p) for p in data.products)),
        "carrier_services": write_csv(
            SERVICE_COLUMNS, (service_to_record(s) for s in data.services)
        ),
        "carrier_zones": write_csv(ZONE_COLUMNS, repo.zone_rows(data.services)),
        "carrier_rates": write_csv(RATE_COLUMNS, repo.rate_rows(data.services)),
    }
