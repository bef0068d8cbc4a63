"""Data-quality audit: checks over plain master data, findings ranked by how much they hurt routing.

A check is a plain function from `AuditData` to a `CheckResult`; `CHECKS` lists them and `audit`
runs them all, from node addresses to inventory positions that broke an invariant or were not
counted for `stale_days` days.

Impact is the severity's weight times the harm the defect does: the weight of its subject (a
distribution centre routes more orders than a store; a carrier service prices every parcel it
carries) times the harm of the kind of defect. Harm stays below 10 and the severity weights are
powers of ten, so a defect never outranks one of a higher severity.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dom.domain.carriers import CarrierService, rate_inversions, service_problems
from dom.domain.geo import Coordinates, ZipPlace, miles_between
from dom.domain.inventory import Position
from dom.domain.network import Handling, Node, NodeType

#: A node's coordinates farther than this from its ZIP's centroid are probably wrong.
MAX_MILES_FROM_ZIP_CENTROID = 25.0
#: A position holding stock that was not counted for this many days has a stale count.
STALE_DAYS = 30

#: What parcel carriers (UPS, FedEx) accept at all; beyond this a product ships as freight.
PARCEL_MAX_LONGEST_SIDE_IN = 108.0
PARCEL_MAX_WEIGHT_LB = 150.0
#: Where carriers start charging "large package" rates: such a product should be flagged oversize.
LARGE_PACKAGE_LONGEST_SIDE_IN = 96.0
LARGE_PACKAGE_LENGTH_PLUS_GIRTH_IN = 130.0
#: Packaged goods lighter than this are lighter than an empty carton; heavier, denser than steel.
MIN_PLAUSIBLE_DENSITY_LB_FT3 = 0.05
MAX_PLAUSIBLE_DENSITY_LB_FT3 = 500.0

#: Below this many measured stock-tracked products the catalogue outlier check is skipped:
#: a median and a MAD of a handful of products describe nothing.
MIN_PRODUCTS_FOR_OUTLIERS = 30
#: A value is an outlier when its logarithm is more than OUTLIER_Z robust standard deviations
#: from the catalogue's median, and at least OUTLIER_MIN_RATIO times off the median besides.
#: Generous on purpose: a lognormal catalogue of 2,000 products raises no finding.
OUTLIER_Z = 5.0
OUTLIER_MIN_RATIO = 10.0
#: Scales a median absolute deviation to a standard deviation for normal data.
MAD_TO_SIGMA = 1.4826

CUBIC_INCHES_PER_CUBIC_FOOT = 1728.0


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def weight(self) -> float:
        return _WEIGHT[self]


_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}
_WEIGHT = {Severity.ERROR: 100.0, Severity.WARNING: 10.0, Severity.INFO: 1.0}


class SubjectKind(StrEnum):
    NODE = "node"
    PRODUCT = "product"
    CARRIER_SERVICE = "carrier_service"
    POSITION = "position"


#: How much routing depends on one subject; products are 1, everything stays below 5.
NODE_WEIGHT = {
    NodeType.DISTRIBUTION_CENTRE: 4.0,
    NodeType.THIRD_PARTY_WAREHOUSE: 3.0,
    NodeType.DROPSHIP_VENDOR: 2.0,
    NodeType.STORE: 1.0,
}
SERVICE_WEIGHT = 4.0
STOCK_TRACKED_PRODUCT_WEIGHT = 1.0
UNTRACKED_PRODUCT_WEIGHT = 0.5


@dataclass(frozen=True)
class Rule:
    """A kind of defect: its stable code, severity and harm (1-2) per unit of subject weight."""

    code: str
    severity: Severity
    harm: float


NODE_ZIP_UNKNOWN = Rule("node.zip_unknown", Severity.ERROR, 2.0)
NODE_ZIP_INACTIVE = Rule("node.zip_inactive", Severity.WARNING, 1.0)
NODE_ZIP_STATE_MISMATCH = Rule("node.zip_state_mismatch", Severity.ERROR, 1.5)
NODE_ZIP_CITY_MISMATCH = Rule("node.zip_city_mismatch", Severity.WARNING, 1.0)
NODE_COORDINATES_MISSING = Rule("node.coordinates_missing", Severity.ERROR, 2.0)
NODE_COORDINATES_FAR_FROM_ZIP = Rule("node.coordinates_far_from_zip", Severity.ERROR, 2.0)
NODE_TIMEZONE_MISMATCH = Rule("node.timezone_mismatch", Severity.WARNING, 1.5)
NODE_NO_CAPACITY = Rule("node.no_capacity", Severity.ERROR, 1.5)
NODE_NO_LABOUR_HOURS = Rule("node.no_labour_hours", Severity.WARNING, 1.0)
NODE_NO_OPERATING_DAYS = Rule("node.no_operating_days", Severity.ERROR, 1.5)
PRODUCT_MISSING_MEASURES = Rule("product.missing_measures", Severity.ERROR, 2.0)
PRODUCT_NON_POSITIVE_MEASURES = Rule("product.non_positive_measures", Severity.ERROR, 2.0)
PRODUCT_BEYOND_PARCEL_LIMITS = Rule("product.beyond_parcel_limits", Severity.ERROR, 1.5)
PRODUCT_OVERSIZE_NOT_FLAGGED = Rule("product.oversize_not_flagged", Severity.WARNING, 1.5)
PRODUCT_IMPLAUSIBLE_DENSITY = Rule("product.implausible_density", Severity.WARNING, 1.0)
PRODUCT_OUTLIER_MEASURES = Rule("product.outlier_measures", Severity.WARNING, 1.0)
CARRIER_RATE_TABLE_GAPS = Rule("carrier.rate_table_gaps", Severity.ERROR, 2.0)
CARRIER_RATE_INVERSION = Rule("carrier.rate_inversion", Severity.WARNING, 1.0)
CARRIER_NO_PICKUP_DAYS = Rule("carrier.no_pickup_days", Severity.ERROR, 2.0)
INVENTORY_BROKEN_POSITION = Rule("inventory.broken_position", Severity.ERROR, 2.0)
INVENTORY_STALE_COUNTS = Rule("inventory.stale_counts", Severity.WARNING, 1.0)

RULES = (
    NODE_ZIP_UNKNOWN,
    NODE_ZIP_INACTIVE,
    NODE_ZIP_STATE_MISMATCH,
    NODE_ZIP_CITY_MISMATCH,
    NODE_COORDINATES_MISSING,
    NODE_COORDINATES_FAR_FROM_ZIP,
    NODE_TIMEZONE_MISMATCH,
    NODE_NO_CAPACITY,
    NODE_NO_LABOUR_HOURS,
    NODE_NO_OPERATING_DAYS,
    PRODUCT_MISSING_MEASURES,
    PRODUCT_NON_POSITIVE_MEASURES,
    PRODUCT_BEYOND_PARCEL_LIMITS,
    PRODUCT_OVERSIZE_NOT_FLAGGED,
    PRODUCT_IMPLAUSIBLE_DENSITY,
    PRODUCT_OUTLIER_MEASURES,
    CARRIER_RATE_TABLE_GAPS,
    CARRIER_RATE_INVERSION,
    CARRIER_NO_PICKUP_DAYS,
    INVENTORY_BROKEN_POSITION,
    INVENTORY_STALE_COUNTS,
)


@dataclass(frozen=True)
class Finding:
    """One defect of one subject: what is wrong, what to do, and how much it matters."""

    check: str
    severity: Severity
    subject_kind: SubjectKind
    subject_id: str
    message: str
    impact: float

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "subject": {"kind": self.subject_kind.value, "id": self.subject_id},
            "message": self.message,
            "impact": round(self.impact, 2),
        }


def finding(rule: Rule, kind: SubjectKind, subject_id: str, weight: float, message: str) -> Finding:
    """A finding of `rule` on a subject of the given weight, its impact worked out."""
    return Finding(
        check=rule.code,
        severity=rule.severity,
        subject_kind=kind,
        subject_id=subject_id,
        message=message,
        impact=rule.severity.weight * weight * rule.harm,
    )


@dataclass(frozen=True)
class AuditReport:
    """Findings ranked by impact (highest first), notes on checks skipped, and what was examined."""

    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    examined: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def ranked(
        cls, findings: Iterable[Finding], notes: Iterable[str], examined: Mapping[str, int]
    ) -> AuditReport:
        order = sorted(
            findings, key=lambda f: (-f.impact, f.check, f.subject_kind.value, f.subject_id)
        )
        return cls(tuple(order), tuple(notes), dict(examined))

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def counts(self) -> dict[Severity, int]:
        return {severity: self.count(severity) for severity in Severity}

    def exit_code(self, fail_on: Severity) -> int:
        """0: nothing at or above `fail_on`; 2: an error among them; 1: otherwise."""
        worst = max(
            (f.severity.rank for f in self.findings if f.severity.rank >= fail_on.rank),
            default=0,
        )
        if worst == 0:
            return 0
        return 2 if worst == Severity.ERROR.rank else 1

    def as_dict(self, fail_on: Severity) -> dict[str, object]:
        """The report as JSON-ready data, the same for the API and the command line."""
        summary: dict[str, int] = {s.value: n for s, n in self.counts.items()}
        summary["total"] = len(self.findings)
        return {
            "fail_on": fail_on.value,
            "exit_code": self.exit_code(fail_on),
            "summary": summary,
            "examined": dict(self.examined),
            "notes": list(self.notes),
            "findings": [f.as_dict() for f in self.findings],
        }


# ---- the data the checks read ----------------------------------------------------------------

ZipLookup = Callable[[str], ZipPlace | None]


@dataclass(frozen=True)
class ProductRow:
    """A product as stored: values may be missing or non-positive in data that predates validation."""

    sku: str
    length_in: float | None
    width_in: float | None
    height_in: float | None
    weight_lb: float | None
    handling: frozenset[str] = frozenset()
    stock_tracked: bool = True

    @property
    def values(self) -> dict[str, float | None]:
        return {
            "length": self.length_in,
            "width": self.width_in,
            "height": self.height_in,
            "weight": self.weight_lb,
        }

    @property
    def measured(self) -> bool:
        """Every dimension and the weight present and positive."""
        return all(v is not None and v > 0 for v in self.values.values())

    @property
    def sides(self) -> list[float]:
        """Sides in inches, longest first (only for a measured product)."""
        return sorted(
            (v or 0.0 for v in (self.length_in, self.width_in, self.height_in)), reverse=True
        )

    @property
    def weight(self) -> float:
        return self.weight_lb or 0.0

    @property
    def density_lb_ft3(self) -> float:
        a, b, c = self.sides
        return self.weight / (a * b * c / CUBIC_INCHES_PER_CUBIC_FOOT)

    @property
    def flagged_oversize(self) -> bool:
        return Handling.OVERSIZE.value in self.handling


@dataclass(frozen=True)
class AuditData:
    """Everything the checks read, as plain data."""

    nodes: Sequence[Node]
    products: Sequence[ProductRow]
    services: Sequence[CarrierService]
    zip_lookup: ZipLookup
    stale_days: int = STALE_DAYS
    positions: Sequence[Position] = ()
    as_of: datetime | None = None


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


Check = Callable[[AuditData], CheckResult]


# ---- nodes -----------------------------------------------------------------------------------


def node_weight(node: Node) -> float:
    return NODE_WEIGHT[node.type]


def _node(rule: Rule, node: Node, message: str) -> Finding:
    return finding(rule, SubjectKind.NODE, node.id, node_weight(node), message)


def node_address_findings(node: Node, lookup: ZipLookup) -> list[Finding]:
    """The node's address and coordinates checked against the postal directory."""
    found: list[Finding] = []
    address = node.address
    if _unknown_location(node.location):
        found.append(
            _node(
                NODE_COORDINATES_MISSING,
                node,
                "coordinates are 0, 0 (unknown), so every distance from this node is wrong; "
                "give its real latitude and longitude",
            )
        )
    place = lookup(address.zip)
    if place is None:
        found.append(
            _node(
                NODE_ZIP_UNKNOWN,
                node,
                f"ZIP {address.zip} is not in the postal directory, so the address cannot be "
                "verified; correct the ZIP code",
            )
        )
        return found
    if not place.active:
        found.append(
            _node(
                NODE_ZIP_INACTIVE,
                node,
                f"ZIP {address.zip} is no longer in use; confirm the address and give its current ZIP",
            )
        )
    if address.state != place.state:
        found.append(
            _node(
                NODE_ZIP_STATE_MISMATCH,
                node,
                f"state {address.state} differs from ZIP {address.zip}'s state {place.state}; "
                "correct the state or the ZIP code",
            )
        )
    if not place.accepts_city(address.city):
        found.append(
            _node(
                NODE_ZIP_CITY_MISMATCH,
                node,
                f"city {address.city!r} is not a city of ZIP {address.zip} ({place.city}); "
                "correct the city or the ZIP code",
            )
        )
    if not _unknown_location(node.location) and not _unknown_location(place.location):
        miles = miles_between(node.location, place.location)
        if miles > MAX_MILES_FROM_ZIP_CENTROID:
            found.append(
                _node(
                    NODE_COORDINATES_FAR_FROM_ZIP,
                    node,
                    f"coordinates are {miles:.0f} miles from the centre of ZIP {address.zip} "
                    f"(more than {MAX_MILES_FROM_ZIP_CENTROID:.0f}), so distances and zones "
                    "from this node are wrong; correct the latitude and longitude or the ZIP",
                )
            )
    if place.timezone is not None and _different_clocks(node.timezone, place.timezone):
        found.append(
            _node(
                NODE_TIMEZONE_MISMATCH,
                node,
                f"time zone {node.timezone} keeps a different clock from ZIP {address.zip}'s "
                f"{place.timezone}, so cutoffs are applied at the wrong hour; correct the time zone",
            )
        )
    return found


def _unknown_location(location: Coordinates) -> bool:
    return location.latitude == 0 and location.longitude == 0


#: Two time zones keep the same clock when they agree in winter and in summer.
_CLOCK_SAMPLES = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))


def _different_clocks(node_zone: str, zip_zone: str) -> bool:
    """Names differ harmlessly (America/Detroit vs America/New_York); offsets must not."""
    if node_zone == zip_zone:
        return False
    reference = _zone(zip_zone)
    if reference is None:
        return False  # the directory's own entry is broken: nothing to compare against
    actual = _zone(node_zone)
    if actual is None:
        return True
    return any(
        moment.replace(tzinfo=actual).utcoffset() != moment.replace(tzinfo=reference).utcoffset()
        for moment in _CLOCK_SAMPLES
    )


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def node_operation_findings(node: Node) -> list[Finding]:
    """A node routing can never use: no capacity, no labour for its orders, no working day."""
    found: list[Finding] = []
    capacity = node.capacity
    if capacity.is_empty:
        found.append(
            _node(
                NODE_NO_CAPACITY,
                node,
                "capacity is 0 orders and 0 units a day, so routing never sends it work; "
                "set its daily capacity (or pause the node if it is closed)",
            )
        )
    elif capacity.orders_per_day > 0 and capacity.labour_hours_per_day == 0:
        found.append(
            _node(
                NODE_NO_LABOUR_HOURS,
                node,
                f"takes {capacity.orders_per_day} orders a day with 0 labour hours; "
                "set capacity_labour_hours",
            )
        )
    if not node.calendar.operating_days:
        found.append(
            _node(
                NODE_NO_OPERATING_DAYS,
                node,
                "the calendar has no operating day, so no order can ever be promised from it; "
                "set its operating days",
            )
        )
    return found


def check_node_addresses(data: AuditData) -> CheckResult:
    found = [f for node in data.nodes for f in node_address_findings(node, data.zip_lookup)]
    return CheckResult(tuple(found))


def check_node_operations(data: AuditData) -> CheckResult:
    return CheckResult(tuple(f for node in data.nodes for f in node_operation_findings(node)))


# ---- products --------------------------------------------------------------------------------


def _product(rule: Rule, row: ProductRow, message: str) -> Finding:
    weight = STOCK_TRACKED_PRODUCT_WEIGHT if row.stock_tracked else UNTRACKED_PRODUCT_WEIGHT
    return finding(rule, SubjectKind.PRODUCT, row.sku, weight, message)


def product_findings(row: ProductRow) -> list[Finding]:
    """One product on its own: missing or non-positive measures, carrier limits, density."""
    missing = [name for name, value in row.values.items() if value is None]
    if row.stock_tracked and missing:
        return [
            _product(
                PRODUCT_MISSING_MEASURES,
                row,
                f"stock-tracked but has no {', '.join(missing)}, so its parcels cannot be "
                "priced or packed; measure it and update the product",
            )
        ]
    bad = [
        f"{name} {value:g}"
        for name, value in row.values.items()
        if value is not None and value <= 0
    ]
    if bad:
        return [
            _product(
                PRODUCT_NON_POSITIVE_MEASURES,
                row,
                f"{', '.join(bad)}: measures must be positive; measure it and update the product",
            )
        ]
    if not row.measured:
        return []  # not stock-tracked and not measured: nothing to check
    return _size_findings(row) + _density_findings(row)


def _size_findings(row: ProductRow) -> list[Finding]:
    if row.flagged_oversize:
        return []
    longest, middle, shortest = row.sides
    length_plus_girth = longest + 2 * (middle + shortest)
    over = []
    if longest > PARCEL_MAX_LONGEST_SIDE_IN:
        over.append(f"longest side {longest:g} in (parcel limit {PARCEL_MAX_LONGEST_SIDE_IN:g})")
    if row.weight > PARCEL_MAX_WEIGHT_LB:
        over.append(f"weight {row.weight:g} lb (parcel limit {PARCEL_MAX_WEIGHT_LB:g})")
    if over:
        return [
            _product(
                PRODUCT_BEYOND_PARCEL_LIMITS,
                row,
                f"{' and '.join(over)}: no parcel carrier takes it; check the units, "
                "or flag it oversize so it goes to nodes that ship freight",
            )
        ]
    if (
        longest > LARGE_PACKAGE_LONGEST_SIDE_IN
        or length_plus_girth > LARGE_PACKAGE_LENGTH_PLUS_GIRTH_IN
    ):
        return [
            _product(
                PRODUCT_OVERSIZE_NOT_FLAGGED,
                row,
                f"{longest:g} in long with length plus girth {length_plus_girth:g} in ships as a "
                f"large package (over {LARGE_PACKAGE_LONGEST_SIDE_IN:g} in or "
                f"{LARGE_PACKAGE_LENGTH_PLUS_GIRTH_IN:g} in) but is not flagged oversize; "
                "add the oversize handling flag",
            )
        ]
    return []


def _density_findings(row: ProductRow) -> list[Finding]:
    density = row.density_lb_ft3
    if MIN_PLAUSIBLE_DENSITY_LB_FT3 <= density <= MAX_PLAUSIBLE_DENSITY_LB_FT3:
        return []
    return [
        _product(
            PRODUCT_IMPLAUSIBLE_DENSITY,
            row,
            f"{row.weight:g} lb in {_box(row)} is {density:.3g} lb/ft³, outside what any packaged "
            f"product weighs ({MIN_PLAUSIBLE_DENSITY_LB_FT3:g}-{MAX_PLAUSIBLE_DENSITY_LB_FT3:g}); "
            "check the weight and dimension units",
        )
    ]


def _box(row: ProductRow) -> str:
    return " x ".join(f"{side:g}" for side in row.sides) + " in"


#: The statistics the catalogue outlier check compares, each with its unit.
_STATISTICS: tuple[tuple[str, str, Callable[[ProductRow], float]], ...] = (
    ("density", "lb/ft³", lambda row: row.density_lb_ft3),
    ("weight", "lb", lambda row: row.weight),
    ("longest side", "in", lambda row: row.sides[0]),
)


@dataclass(frozen=True)
class _Spread:
    median_log: float
    limit: float  # largest tolerated distance from the median, in log units


def catalogue_outliers(rows: Sequence[ProductRow]) -> CheckResult:
    """Measured stock-tracked products whose density, weight or longest side is far off the
    catalogue's: median and MAD of the logarithms, so a few wild values cannot move the yardstick.

    Skipped (with a note) below MIN_PRODUCTS_FOR_OUTLIERS products.
    """
    measured = [row for row in rows if row.stock_tracked and row.measured]
    if len(measured) < MIN_PRODUCTS_FOR_OUTLIERS:
        return CheckResult(
            notes=(
                f"catalogue outlier check skipped: it needs {MIN_PRODUCTS_FOR_OUTLIERS} measured "
                f"stock-tracked products, the catalogue has {len(measured)}",
            )
        )
    spreads = {
        name: _spread([math.log(value(row)) for row in measured]) for name, _, value in _STATISTICS
    }
    found: list[Finding] = []
    for row in measured:
        off: list[str] = []
        for name, unit, value in _STATISTICS:
            spread = spreads[name]
            log_value = math.log(value(row))
            if abs(log_value - spread.median_log) > spread.limit:
                median = math.exp(spread.median_log)
                ratio = math.exp(abs(log_value - spread.median_log))
                side = "above" if log_value > spread.median_log else "below"
                off.append(
                    f"{name} {value(row):.3g} {unit} is {ratio:.0f}x {side} "
                    f"the catalogue median of {median:.3g} {unit}"
                )
        if off:
            found.append(
                _product(
                    PRODUCT_OUTLIER_MEASURES,
                    row,
                    "; ".join(off) + "; check the weight and dimension units",
                )
            )
    return CheckResult(tuple(found))


def _spread(logs: list[float]) -> _Spread:
    median = statistics.median(logs)
    mad = statistics.median(abs(x - median) for x in logs)
    limit = max(OUTLIER_Z * MAD_TO_SIGMA * mad, math.log(OUTLIER_MIN_RATIO))
    return _Spread(median, limit)


def check_products(data: AuditData) -> CheckResult:
    """Each product on its own, then against the catalogue (a product already found wanting
    is not reported again as an outlier)."""
    found = [f for row in data.products for f in product_findings(row)]
    flagged = {f.subject_id for f in found}
    outliers = catalogue_outliers(data.products)
    found.extend(f for f in outliers.findings if f.subject_id not in flagged)
    return CheckResult(tuple(found), outliers.notes)


# ---- carrier services ------------------------------------------------------------------------

#: Enough examples in one message to fix the table; the count says how many there are.
SHOWN_PER_FINDING = 3


def _service(rule: Rule, service: CarrierService, message: str) -> Finding:
    return finding(rule, SubjectKind.CARRIER_SERVICE, service.key, SERVICE_WEIGHT, message)


def service_findings(service: CarrierService) -> list[Finding]:
    """A service with gaps or bad zone bands, rates that fall as weight or zone rises, or no
    pickup day."""
    found: list[Finding] = []
    problems = service_problems(service)
    if problems:
        found.append(
            _service(
                CARRIER_RATE_TABLE_GAPS,
                service,
                f"{_some([p.reason for p in problems])}; parcels that fall in a gap cannot be "
                "priced — complete the zones and rate table and import the service again",
            )
        )
    inversions = rate_inversions(service)
    if inversions:
        found.append(
            _service(
                CARRIER_RATE_INVERSION,
                service,
                f"rates fall as weight or zone rises: {_some(inversions)}; "
                "check those prices for typos",
            )
        )
    if not service.pickup_days:
        found.append(
            _service(
                CARRIER_NO_PICKUP_DAYS,
                service,
                "no pickup day, so no parcel of this service ever leaves a node; set its pickup days",
            )
        )
    return found


def _some(items: list[str]) -> str:
    shown = "; ".join(items[:SHOWN_PER_FINDING])
    more = len(items) - SHOWN_PER_FINDING
    return f"{shown} (and {more} more)" if more > 0 else shown


def check_services(data: AuditData) -> CheckResult:
    return CheckResult(tuple(f for s in data.services for f in service_findings(s)))


# ---- inventory -------------------------------------------------------------------------------


def stale_counts(
    positions: Iterable[Position], as_of: datetime, stale_days: int = STALE_DAYS
) -> list[Position]:
    """Positions holding or promising stock that were never counted, or not in `stale_days`."""
    horizon = as_of - timedelta(days=stale_days)
    return [
        p
        for p in positions
        if (p.on_hand > 0 or p.committed > 0) and (p.snapshot_at is None or p.snapshot_at < horizon)
    ]


def check_inventory(data: AuditData) -> CheckResult:
    """Positions that break an invariant (legacy data; the database refuses new ones), and per
    node the positions holding or promising stock that were not counted for `stale_days`."""
    if data.as_of is None:
        return CheckResult()
    weights = {node.id: node_weight(node) for node in data.nodes}
    found: list[Finding] = []
    for position in data.positions:
        broken = position.broken_invariants()
        if broken:
            found.append(
                finding(
                    INVENTORY_BROKEN_POSITION,
                    SubjectKind.POSITION,
                    f"{position.sku}@{position.node_id}",
                    weights.get(position.node_id, 1.0),
                    f"{'; '.join(broken)} (on hand {position.on_hand}, reserved "
                    f"{position.reserved}, allocated {position.allocated}); recount it",
                )
            )
    stale: dict[str, list[Position]] = {}
    for position in stale_counts(data.positions, data.as_of, data.stale_days):
        stale.setdefault(position.node_id, []).append(position)
    for node_id, positions in sorted(stale.items()):
        never = sum(1 for p in positions if p.snapshot_at is None)
        found.append(
            finding(
                INVENTORY_STALE_COUNTS,
                SubjectKind.NODE,
                node_id,
                weights.get(node_id, 1.0),
                f"{len(positions)} positions holding stock were not counted in {data.stale_days} "
                f"days ({never} never counted); schedule a cycle count or a full sync",
            )
        )
    return CheckResult(tuple(found))


# ---- the audit -------------------------------------------------------------------------------

#: Every check the audit runs.
CHECKS: tuple[Check, ...] = (
    check_node_addresses,
    check_node_operations,
    check_products,
    check_services,
    check_inventory,
)


def audit(data: AuditData, checks: Sequence[Check] = CHECKS) -> AuditReport:
    """Run every check and rank what they find."""
    findings: list[Finding] = []
    notes: list[str] = []
    for check in checks:
        result = check(data)
        findings.extend(result.findings)
        notes.extend(result.notes)
    examined = {
        "nodes": len(data.nodes),
        "products": len(data.products),
        "carrier_services": len(data.services),
        "positions": len(data.positions),
    }
    return AuditReport.ranked(findings, notes, examined)
