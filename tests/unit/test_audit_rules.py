"""The audit's checks on tiny hand-built data: each fires on its defect and stays quiet otherwise."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dom.domain.audit import (
    CHECKS,
    MAX_MILES_FROM_ZIP_CENTROID,
    MIN_PRODUCTS_FOR_OUTLIERS,
    NODE_WEIGHT,
    RULES,
    SERVICE_WEIGHT,
    STOCK_TRACKED_PRODUCT_WEIGHT,
    UNTRACKED_PRODUCT_WEIGHT,
    AuditData,
    AuditReport,
    CheckResult,
    Finding,
    ProductRow,
    Severity,
    SubjectKind,
    audit,
    catalogue_outliers,
    check_products,
    finding,
    node_address_findings,
    node_operation_findings,
    product_findings,
    service_findings,
)
from dom.domain.carriers import CarrierService, ZoneBand
from dom.domain.geo import Coordinates, ZipPlace
from dom.domain.network import (
    MON_TO_FRI,
    Address,
    Calendar,
    Capability,
    Capacity,
    HandlingCost,
    Node,
    NodeType,
    Pause,
)

COLUMBUS = ZipPlace(
    zip="43217",
    city="Columbus",
    state="OH",
    timezone="America/New_York",
    location=Coordinates(39.8277, -82.9342),
    active=True,
    other_cities=frozenset({"Lockbourne"}),
)
RETIRED = ZipPlace(
    zip="01133",
    city="Springfield",
    state="MA",
    timezone="America/New_York",
    location=Coordinates(42.1, -72.59),
    active=False,
)
NO_CLOCK = replace(COLUMBUS, zip="43299", timezone=None)
PLACES = {place.zip: place for place in (COLUMBUS, RETIRED, NO_CLOCK)}


def lookup(zip_code: str) -> ZipPlace | None:
    return PLACES.get(zip_code)


def make_node(node_id: str = "dc-1", node_type: NodeType = NodeType.DISTRIBUTION_CENTRE) -> Node:
    return Node(
        id=node_id,
        name=f"Node {node_id}",
        type=node_type,
        address=Address("4000 Logistics Way", "Columbus", "OH", "43217"),
        location=COLUMBUS.location,
        timezone="America/New_York",
        capabilities=frozenset({Capability.SHIP}),
        handling=frozenset(),
        capacity=Capacity(500, 1200, 90),
        calendar=Calendar(operating_days=MON_TO_FRI),
        cost=HandlingCost(3.0, 0.3),
    )


def moved(node: Node, **address: str) -> Node:
    return replace(node, address=replace(node.address, **address))


def checks_of(findings: list[Finding]) -> list[str]:
    return [f.check for f in findings]


# ---- node addresses ----------------------------------------------------------------------------


class TestNodeAddresses:
    def test_a_node_that_matches_its_zip_raises_nothing(self) -> None:
        assert node_address_findings(make_node(), lookup) == []

    def test_an_unknown_zip_is_an_error_and_nothing_else_is_compared(self) -> None:
        node = moved(make_node(), zip="00000", state="TX", city="Nowhere")

        found = node_address_findings(node, lookup)

        assert checks_of(found) == ["node.zip_unknown"]
        assert found[0].severity is Severity.ERROR
        assert "00000" in found[0].message

    def test_a_retired_zip_is_a_warning(self) -> None:
        node = moved(make_node(), zip="01133", city="Springfield", state="MA")
        node = replace(node, location=RETIRED.location)

        assert checks_of(node_address_findings(node, lookup)) == ["node.zip_inactive"]

    def test_a_state_other_than_the_zips_is_an_error(self) -> None:
        found = node_address_findings(moved(make_node(), state="IN"), lookup)

        assert checks_of(found) == ["node.zip_state_mismatch"]
        assert "IN" in found[0].message and "OH" in found[0].message

    def test_a_city_the_zip_does_not_accept_is_a_warning(self) -> None:
        found = node_address_findings(moved(make_node(), city="Cincinnati"), lookup)

        assert checks_of(found) == ["node.zip_city_mismatch"]
        assert found[0].severity is Severity.WARNING

    @pytest.mark.parametrize("city", ["columbus", " COLUMBUS ", "Lockbourne"])
    def test_the_zips_city_in_any_case_or_an_acceptable_alias_passes(self, city: str) -> None:
        assert node_address_findings(moved(make_node(), city=city), lookup) == []

    def test_coordinates_far_from_the_zip_centroid_are_an_error(self) -> None:
        denver = replace(make_node(), location=Coordinates(39.7491, -104.9946))

        found = node_address_findings(denver, lookup)

        assert checks_of(found) == ["node.coordinates_far_from_zip"]
        assert "miles from the centre of ZIP 43217" in found[0].message

    def test_coordinates_just_inside_the_limit_pass_and_just_outside_fail(self) -> None:
        miles_per_degree_latitude = 69.09
        inside = (MAX_MILES_FROM_ZIP_CENTROID - 1) / miles_per_degree_latitude
        outside = (MAX_MILES_FROM_ZIP_CENTROID + 1) / miles_per_degree_latitude
        base = COLUMBUS.location

        near = replace(make_node(), location=Coordinates(base.latitude + inside, base.longitude))
        far = replace(make_node(), location=Coordinates(base.latitude + outside, base.longitude))

        assert node_address_findings(near, lookup) == []
        assert checks_of(node_address_findings(far, lookup)) == ["node.coordinates_far_from_zip"]

    def test_coordinates_0_0_are_missing_rather_than_far(self) -> None:
        node = replace(make_node(), location=Coordinates(0.0, 0.0))

        assert checks_of(node_address_findings(node, lookup)) == ["node.coordinates_missing"]

    def test_a_time_zone_with_another_clock_is_a_warning(self) -> None:
        found = node_address_findings(replace(make_node(), timezone="America/Chicago"), lookup)

        assert checks_of(found) == ["node.timezone_mismatch"]

    def test_a_time_zone_with_the_same_clock_under_another_name_passes(self) -> None:
        assert node_address_findings(replace(make_node(), timezone="America/Detroit"), lookup) == []

    def test_a_time_zone_that_does_not_exist_is_a_mismatch(self) -> None:
        found = node_address_findings(replace(make_node(), timezone="Mars/Olympus"), lookup)

        assert checks_of(found) == ["node.timezone_mismatch"]

    def test_a_zip_without_a_time_zone_leaves_the_nodes_unchallenged(self) -> None:
        node = replace(moved(make_node(), zip="43299"), timezone="America/Chicago")

        assert node_address_findings(node, lookup) == []


# ---- node operations ---------------------------------------------------------------------------


class TestNodeOperations:
    def test_a_node_with_capacity_and_working_days_raises_nothing(self) -> None:
        assert node_operation_findings(make_node()) == []

    def test_no_orders_and_no_units_a_day_is_an_error(self) -> None:
        node = replace(make_node(), capacity=Capacity(0, 0, 0))

        assert checks_of(node_operation_findings(node)) == ["node.no_capacity"]

    def test_orders_without_labour_hours_is_a_warning(self) -> None:
        node = replace(make_node(), capacity=Capacity(100, 300, 0))

        found = node_operation_findings(node)

        assert checks_of(found) == ["node.no_labour_hours"]
        assert found[0].severity is Severity.WARNING

    def test_a_calendar_without_operating_days_is_an_error(self) -> None:
        node = replace(make_node(), calendar=Calendar(operating_days=frozenset()))

        assert checks_of(node_operation_findings(node)) == ["node.no_operating_days"]

    def test_a_pause_that_ended_long_ago_is_not_a_defect(self) -> None:
        pause = Pause(
            "stocktake", datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 2, tzinfo=UTC)
        )
        node = replace(make_node(), pause=pause)

        assert node_operation_findings(node) == []
        assert node_address_findings(node, lookup) == []


# ---- products ----------------------------------------------------------------------------------


def row(
    sku: str = "SKU-1",
    length: float | None = 12.0,
    width: float | None = 8.0,
    height: float | None = 4.0,
    weight: float | None = 2.5,
    *,
    handling: frozenset[str] = frozenset(),
    stock_tracked: bool = True,
) -> ProductRow:
    return ProductRow(sku, length, width, height, weight, handling, stock_tracked)


class TestProducts:
    def test_a_well_measured_product_raises_nothing(self) -> None:
        assert product_findings(row()) == []

    def test_a_stock_tracked_product_missing_measures_is_an_error_naming_them(self) -> None:
        found = product_findings(row(height=None, weight=None))

        assert checks_of(found) == ["product.missing_measures"]
        assert "height" in found[0].message and "weight" in found[0].message
        assert "length" not in found[0].message

    def test_a_product_that_is_not_stock_tracked_needs_no_measures(self) -> None:
        gift_card = row(None, None, None, None, stock_tracked=False)

        assert product_findings(gift_card) == []

    @pytest.mark.parametrize("values", [(0.0, 8.0, 4.0, 2.5), (12.0, 8.0, 4.0, -1.0)])
    def test_zero_or_negative_measures_are_an_error(
        self, values: tuple[float, float, float, float]
    ) -> None:
        assert checks_of(product_findings(row("SKU-1", *values))) == [
            "product.non_positive_measures"
        ]

    @pytest.mark.parametrize(("length", "weight"), [(120.0, 40.0), (30.0, 200.0)])
    def test_beyond_parcel_limits_without_the_oversize_flag_is_an_error(
        self, length: float, weight: float
    ) -> None:
        found = product_findings(row(length=length, width=20, height=20, weight=weight))

        assert checks_of(found) == ["product.beyond_parcel_limits"]

    def test_beyond_parcel_limits_with_the_oversize_flag_passes(self) -> None:
        sofa = row(length=110, width=40, height=35, weight=140, handling=frozenset({"oversize"}))

        assert product_findings(sofa) == []

    @pytest.mark.parametrize(
        ("length", "width", "height"), [(100.0, 10.0, 10.0), (60.0, 25.0, 25.0)]
    )
    def test_a_large_package_without_the_oversize_flag_is_a_warning(
        self, length: float, width: float, height: float
    ) -> None:
        found = product_findings(row(length=length, width=width, height=height, weight=30))

        assert checks_of(found) == ["product.oversize_not_flagged"]

    def test_a_product_just_below_the_large_package_thresholds_passes(self) -> None:
        assert product_findings(row(length=95, width=8, height=8, weight=20)) == []

    @pytest.mark.parametrize(("side", "weight"), [(12.0, 0.001), (6.0, 140.0)])
    def test_a_physically_impossible_density_is_a_warning(self, side: float, weight: float) -> None:
        found = product_findings(row(length=side, width=side, height=side, weight=weight))

        assert checks_of(found) == ["product.implausible_density"]


def realistic_catalogue(seed: int, size: int = 2000) -> list[ProductRow]:
    """Lognormal sizes, densities 1-60 lb/ft³, all within parcel limits: a healthy catalogue."""
    rng = random.Random(seed)
    rows: list[ProductRow] = []
    while len(rows) < size:
        longest = rng.lognormvariate(math.log(12), 0.5)
        middle = longest * rng.uniform(0.3, 1.0)
        shortest = middle * rng.uniform(0.15, 1.0)
        density = math.exp(rng.uniform(0.0, math.log(60)))
        weight = density * longest * middle * shortest / 1728
        candidate = row(
            f"SKU-{len(rows):05d}",
            round(longest, 1),
            round(middle, 1),
            round(shortest, 1),
            round(max(weight, 0.05), 2),
        )
        if candidate.measured and product_findings(candidate) == []:
            rows.append(candidate)
    return rows


class TestCatalogueOutliers:
    @pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
    def test_a_realistic_catalogue_raises_nothing(self, seed: int) -> None:
        catalogue = realistic_catalogue(seed)
        data = AuditData([], catalogue, [], lookup)

        result = check_products(data)

        assert result == CheckResult()

    def test_millimetres_entered_as_inches_stand_out(self) -> None:
        catalogue = realistic_catalogue(seed=11, size=200)
        first = catalogue[0]
        assert first.length_in and first.width_in and first.height_in
        in_millimetres = replace(
            first,
            sku="SKU-MM",
            length_in=first.length_in * 25.4,
            width_in=first.width_in * 25.4,
            height_in=first.height_in * 25.4,
        )

        result = catalogue_outliers([*catalogue, in_millimetres])

        assert [(f.check, f.subject_id) for f in result.findings] == [
            ("product.outlier_measures", "SKU-MM")
        ]
        assert "longest side" in result.findings[0].message
        assert "density" in result.findings[0].message

    def test_in_a_narrow_catalogue_a_thirtyfold_weight_stands_out(self) -> None:
        catalogue = [row(f"SKU-{i}", 12 + i % 5, 8 + i % 3, 4, 2 + (i % 7) / 4) for i in range(40)]
        heavy = row("SKU-HEAVY", 12, 8, 4, 60)

        result = catalogue_outliers([*catalogue, heavy])

        assert [f.subject_id for f in result.findings] == ["SKU-HEAVY"]

    def test_identical_products_do_not_make_every_small_difference_an_outlier(self) -> None:
        catalogue = [row(f"SKU-{i}") for i in range(40)]
        a_bit_heavier = row("SKU-HEAVIER", weight=2.5 * 8)

        assert catalogue_outliers([*catalogue, a_bit_heavier]).findings == ()

    def test_a_tiny_catalogue_is_not_judged_and_the_report_says_so(self) -> None:
        catalogue = [row(f"SKU-{i}") for i in range(MIN_PRODUCTS_FOR_OUTLIERS - 2)]
        wild = row("SKU-WILD", weight=140)

        result = catalogue_outliers([*catalogue, wild])

        assert result.findings == ()
        assert len(result.notes) == 1 and "skipped" in result.notes[0]

    def test_a_product_already_found_wanting_is_not_reported_again_as_an_outlier(self) -> None:
        catalogue = [row(f"SKU-{i}", 12 + i % 5, 8 + i % 3, 4, 2 + (i % 7) / 4) for i in range(40)]
        too_long = row("SKU-LONG", 130, 8, 4, 2)

        result = check_products(AuditData([], [*catalogue, too_long], [], lookup))

        assert [(f.check, f.subject_id) for f in result.findings] == [
            ("product.beyond_parcel_limits", "SKU-LONG")
        ]


# ---- carrier services --------------------------------------------------------------------------

ZONES = (ZoneBand(2, 150.0, 2), ZoneBand(3, 300.0, 3), ZoneBand(4, None, 4))


def make_service(**changes: object) -> CarrierService:
    service = CarrierService(
        carrier="testco",
        service="ground",
        name="TestCo Ground",
        service_level="ground",
        dim_divisor=139,
        residential_surcharge=5.75,
        fuel_surcharge_pct=8,
        pickup_days=MON_TO_FRI,
        zones=ZONES,
        rates={(z.zone, w): 9.0 + z.zone + 0.5 * w for z in ZONES for w in range(1, 6)},
    )
    return replace(service, **changes)  # type: ignore[arg-type]


class TestCarrierServices:
    def test_a_complete_rising_rate_table_raises_nothing(self) -> None:
        assert service_findings(make_service()) == []

    def test_a_missing_weight_break_is_an_error(self) -> None:
        rates = dict(make_service().rates)
        del rates[(3, 4)]

        found = service_findings(make_service(rates=rates))

        assert checks_of(found) == ["carrier.rate_table_gaps"]
        assert "zone 3" in found[0].message and "4 lb" in found[0].message

    def test_a_zone_without_rates_and_an_open_middle_band_are_errors_in_one_finding(self) -> None:
        zones = (ZoneBand(2, None, 2), ZoneBand(3, 300.0, 3), ZoneBand(4, None, 4))
        rates = {key: price for key, price in make_service().rates.items() if key[0] != 4}

        found = service_findings(make_service(zones=zones, rates=rates))

        assert checks_of(found) == ["carrier.rate_table_gaps"]
        assert "open-ended" in found[0].message

    def test_a_heavier_parcel_that_costs_less_is_a_warning(self) -> None:
        rates = dict(make_service().rates)
        rates[(3, 4)] = 1.0

        found = service_findings(make_service(rates=rates))

        assert checks_of(found) == ["carrier.rate_inversion"]
        assert found[0].severity is Severity.WARNING
        assert "zone 3: 4 lb costs 1.00" in found[0].message

    def test_a_service_without_pickup_days_is_an_error(self) -> None:
        found = service_findings(make_service(pickup_days=frozenset()))

        assert checks_of(found) == ["carrier.no_pickup_days"]


# ---- ranking and the report --------------------------------------------------------------------


class TestRankingAndReport:
    def test_a_dc_with_wrong_coordinates_outranks_a_store_with_wrong_coordinates(self) -> None:
        far = Coordinates(39.7491, -104.9946)
        dc = replace(make_node("dc-1"), location=far)
        store = replace(make_node("store-1", NodeType.STORE), location=far)

        report = audit(AuditData([store, dc], [], [], lookup))

        assert [f.subject_id for f in report.findings] == ["dc-1", "store-1"]
        assert report.findings[0].impact > report.findings[1].impact

    def test_a_product_with_no_weight_outranks_an_odd_density(self) -> None:
        catalogue = [row(f"SKU-{i}", 12 + i % 5, 8 + i % 3, 4, 2 + (i % 7) / 4) for i in range(40)]
        odd = row("SKU-ODD", 12, 8, 4, 60)
        weightless = row("SKU-NO-WEIGHT", weight=None)

        report = audit(AuditData([], [odd, *catalogue, weightless], [], lookup))

        assert [(f.check, f.subject_id) for f in report.findings] == [
            ("product.missing_measures", "SKU-NO-WEIGHT"),
            ("product.outlier_measures", "SKU-ODD"),
        ]

    def test_no_defect_outranks_one_of_a_higher_severity(self) -> None:
        weights = [
            *NODE_WEIGHT.values(),
            SERVICE_WEIGHT,
            STOCK_TRACKED_PRODUCT_WEIGHT,
            UNTRACKED_PRODUCT_WEIGHT,
        ]
        impacts = {
            severity: [
                finding(rule, SubjectKind.NODE, "x", weight, "m").impact
                for rule in RULES
                for weight in weights
                if rule.severity is severity
            ]
            for severity in Severity
        }

        assert min(impacts[Severity.ERROR]) > max(impacts[Severity.WARNING])
        assert all(f > 0 for f in impacts[Severity.WARNING])

    def test_every_rule_has_a_distinct_dotted_code(self) -> None:
        codes = [rule.code for rule in RULES]
        assert len(set(codes)) == len(codes)
        assert all(
            code.split(".")[0] in ("node", "product", "carrier", "inventory") for code in codes
        )

    @pytest.mark.parametrize(
        ("severities", "fail_on", "expected"),
        [
            ([], Severity.WARNING, 0),
            ([], Severity.ERROR, 0),
            ([Severity.WARNING], Severity.WARNING, 1),
            ([Severity.WARNING], Severity.ERROR, 0),
            ([Severity.WARNING, Severity.ERROR], Severity.WARNING, 2),
            ([Severity.ERROR], Severity.ERROR, 2),
            ([Severity.INFO], Severity.WARNING, 0),
            ([Severity.INFO], Severity.INFO, 1),
        ],
    )
    def test_the_exit_code_says_the_worst_finding_at_or_above_the_threshold(
        self, severities: list[Severity], fail_on: Severity, expected: int
    ) -> None:
        findings = [
            Finding("x.y", severity, SubjectKind.NODE, f"n{i}", "m", 1.0)
            for i, severity in enumerate(severities)
        ]

        assert AuditReport.ranked(findings, [], {}).exit_code(fail_on) == expected

    def test_the_report_as_data_counts_by_severity_and_lists_ranked_findings(self) -> None:
        node = moved(replace(make_node(), capacity=Capacity(0, 0, 0)), city="Dayton")

        data = audit(AuditData([node], [], [], lookup)).as_dict(Severity.WARNING)

        assert data["summary"] == {"error": 1, "warning": 1, "info": 0, "total": 2}
        assert data["exit_code"] == 2
        assert data["examined"] == {
            "nodes": 1,
            "products": 0,
            "carrier_services": 0,
            "positions": 0,
        }
        findings = data["findings"]
        assert isinstance(findings, list)
        assert [f["check"] for f in findings] == ["node.no_capacity", "node.zip_city_mismatch"]
        assert findings[0]["subject"] == {"kind": "node", "id": "dc-1"}

    def test_a_new_check_plugs_into_the_audit_beside_the_registered_ones(self) -> None:
        def negative_positions(data: AuditData) -> CheckResult:
            return CheckResult(
                (finding(RULES[0], SubjectKind.NODE, "dc-1", 1.0, "went negative"),),
                (f"looked back {data.stale_days} days",),
            )

        data = AuditData([make_node()], [], [], lookup, stale_days=14)

        report = audit(data, (*CHECKS, negative_positions))

        assert [f.message for f in report.findings] == ["went negative"]
        assert "looked back 14 days" in report.notes
