"""The demo network: seeded, on real US geography, physically plausible, priced like REFERENCE §3."""

from __future__ import annotations

from datetime import date, time
from statistics import mean

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.audit import AuditData, ProductRow, audit
from dom.domain.carriers import CarrierService, billable_weight, rate_inversions, service_problems
from dom.domain.catalog import Dimensions, Product
from dom.domain.errors import InvalidField
from dom.domain.network import (
    EVERY_DAY,
    MON_TO_FRI,
    Capability,
    Handling,
    Node,
    NodeType,
)
from dom.services.demo import demo_network
from dom.services.masterdata import MasterData


@pytest.fixture(scope="module")
def network(zips: ZipDirectory) -> MasterData:
    return demo_network(zips)


def _of_type(data: MasterData, node_type: NodeType) -> list[Node]:
    return [n for n in data.nodes if n.type is node_type]


def _service(data: MasterData, code: str) -> CarrierService:
    return next(s for s in data.services if s.service == code)


def _is_oversize(dims: Dimensions) -> bool:
    """Longer than 48 in, heavier than 50 lb, or over 130 in of length plus girth."""
    longest, middle, shortest = sorted(
        (dims.length_in, dims.width_in, dims.height_in), reverse=True
    )
    return longest > 48 or dims.weight_lb > 50 or longest + 2 * (middle + shortest) > 130


def _density_lb_per_ft3(product: Product) -> float:
    assert product.dimensions is not None
    return product.dimensions.weight_lb / (product.dimensions.cubic_inches / 1728)


class TestSeeds:
    def test_the_same_seed_builds_the_same_network(self, zips: ZipDirectory) -> None:
        assert demo_network(zips, seed=11, skus=300) == demo_network(zips, seed=11, skus=300)

    def test_a_different_seed_builds_a_different_network(self, zips: ZipDirectory) -> None:
        one, other = demo_network(zips, seed=1, skus=300), demo_network(zips, seed=2, skus=300)
        assert one.products != other.products
        assert [n.capacity for n in one.nodes] != [n.capacity for n in other.nodes]

    def test_asking_for_more_stores_leaves_the_products_alone(self, zips: ZipDirectory) -> None:
        few, many = demo_network(zips, stores=5, skus=300), demo_network(zips, stores=90, skus=300)
        assert few.products == many.products


class TestNodes:
    def test_the_default_network_has_four_dcs_sixty_stores_three_vendors_and_a_3pl(
        self, network: MasterData
    ) -> None:
        assert len(_of_type(network, NodeType.DISTRIBUTION_CENTRE)) == 4
        assert len(_of_type(network, NodeType.STORE)) == 60
        assert len(_of_type(network, NodeType.DROPSHIP_VENDOR)) == 3
        assert len(_of_type(network, NodeType.THIRD_PARTY_WAREHOUSE)) == 1
        ids = {n.id for n in network.nodes}
        assert {"dc-reno", "dc-columbus", "store-0001", "store-0060", "vendor-01", "3pl-01"} <= ids

    def test_every_node_uses_the_city_state_time_zone_and_coordinates_of_its_active_zip(
        self, network: MasterData, zips: ZipDirectory
    ) -> None:
        for node in network.nodes:
            place = zips.lookup(node.address.zip)
            assert place is not None, node.id
            assert place.active, node.id
            assert (node.address.city, node.address.state) == (place.city, place.state), node.id
            assert node.timezone == place.timezone, node.id
            assert node.location == place.location, node.id

    def test_stores_spread_over_the_country(self, network: MasterData) -> None:
        stores = _of_type(network, NodeType.STORE)
        assert len({n.address.state for n in stores}) >= 30
        assert len({n.timezone for n in stores}) >= 4
        assert len({n.address.zip for n in network.nodes}) == len(network.nodes)

    def test_each_kind_of_node_can_do_what_that_kind_does(self, network: MasterData) -> None:
        for dc in _of_type(network, NodeType.DISTRIBUTION_CENTRE):
            assert dc.capabilities == {Capability.SHIP, Capability.ACCEPT_RETURNS}
            assert {Handling.HAZMAT, Handling.OVERSIZE} <= dc.handling
        stores = _of_type(network, NodeType.STORE)
        for store in stores:
            assert {
                Capability.SHIP_FROM_STORE,
                Capability.PICKUP_IN_STORE,
                Capability.ACCEPT_RETURNS,
            } <= store.capabilities
            assert store.handling <= {Handling.HIGH_VALUE}
        curbside = sum(Capability.CURBSIDE in s.capabilities for s in stores)
        assert len(stores) / 2 < curbside < len(stores)
        for vendor in _of_type(network, NodeType.DROPSHIP_VENDOR):
            assert vendor.capabilities == {Capability.SHIP}
        oversize_vendors = [
            v
            for v in _of_type(network, NodeType.DROPSHIP_VENDOR)
            if Handling.OVERSIZE in v.handling
        ]
        assert len(oversize_vendors) == 1
        assert _of_type(network, NodeType.THIRD_PARTY_WAREHOUSE)[0].can(Capability.SHIP)
        dc_handling = set().union(*(dc.handling for dc in network.nodes if dc.id.startswith("dc-")))
        assert {Handling.REFRIGERATED, Handling.HIGH_VALUE} <= dc_handling

    def test_capacity_and_cost_follow_the_reference_figures(self, network: MasterData) -> None:
        dcs = _of_type(network, NodeType.DISTRIBUTION_CENTRE)
        stores = _of_type(network, NodeType.STORE)
        assert all(dc.capacity.orders_per_day >= 1_000 for dc in dcs)
        assert all(dc.capacity.labour_hours_per_day >= 100 for dc in dcs)
        assert all(50 <= s.capacity.orders_per_day <= 250 for s in stores)
        assert all(2 <= dc.cost.per_order <= 5 for dc in dcs)
        ratio = mean(s.cost.per_order for s in stores) / mean(dc.cost.per_order for dc in dcs)
        assert 1.5 <= ratio <= 2.5
        assert all(n.cost.per_unit < 1 for n in network.nodes)

    def test_calendars_have_cutoffs_working_days_and_real_holidays(
        self, network: MasterData
    ) -> None:
        for dc in _of_type(network, NodeType.DISTRIBUTION_CENTRE):
            assert time(15) <= dc.calendar.cutoff <= time(18)
            assert len(dc.calendar.operating_days) >= 6
            assert not dc.calendar.is_working_day(date(2026, 12, 25))
        for store in _of_type(network, NodeType.STORE):
            assert time(14) <= store.calendar.cutoff <= time(16)
            assert store.calendar.operating_days == EVERY_DAY
            assert not store.calendar.is_working_day(date(2026, 11, 26))
        for vendor in _of_type(network, NodeType.DROPSHIP_VENDOR):
            assert vendor.calendar.operating_days == MON_TO_FRI
            assert vendor.calendar.processing_days in (1, 2)
            assert not vendor.calendar.is_working_day(date(2027, 1, 1))

    def test_more_dcs_than_listed_hubs_fall_back_to_other_real_zips(
        self, zips: ZipDirectory
    ) -> None:
        data = demo_network(zips, dcs=45, stores=0, skus=1, vendors=9, third_party=8)
        dcs = _of_type(data, NodeType.DISTRIBUTION_CENTRE)
        assert len(dcs) == 45
        assert len(_of_type(data, NodeType.DROPSHIP_VENDOR)) == 9
        assert len(_of_type(data, NodeType.THIRD_PARTY_WAREHOUSE)) == 8
        assert len({n.id for n in data.nodes}) == len(data.nodes)
        for node in data.nodes:
            place = zips.lookup(node.address.zip)
            assert place is not None and place.active
            assert (node.address.city, node.address.state) == (place.city, place.state)

    def test_negative_counts_are_refused(self, zips: ZipDirectory) -> None:
        with pytest.raises(InvalidField) as error:
            demo_network(zips, stores=-1)
        assert error.value.field == "stores"


class TestCarrierServices:
    def test_ground_two_day_and_overnight_are_complete_and_never_inverted(
        self, network: MasterData
    ) -> None:
        assert {(s.carrier, s.service, s.service_level) for s in network.services} == {
            ("parcelco", "ground", "ground"),
            ("parcelco", "two_day", "two_day"),
            ("parcelco", "overnight", "overnight"),
        }
        for service in network.services:
            assert service_problems(service) == []
            assert rate_inversions(service) == []
            assert service.pickup_days == MON_TO_FRI
            assert service.dim_divisor == 139

    def test_every_zone_prices_every_whole_pound_from_1_to_150(self, network: MasterData) -> None:
        for service in network.services:
            zones = [band.zone for band in service.zones]
            assert zones == [2, 3, 4, 5, 6, 7, 8]
            assert set(service.rates) == {(z, w) for z in zones for w in range(1, 151)}

    @pytest.mark.parametrize(
        ("miles", "zone"),
        [
            (100, 2),
            (150, 2),
            (151, 3),
            (300, 3),
            (600, 4),
            (1000, 5),
            (1400, 6),
            (1800, 7),
            (1801, 8),
            (2800, 8),
        ],
    )
    def test_zones_follow_the_reference_distance_bands(
        self, network: MasterData, miles: float, zone: int
    ) -> None:
        for service in network.services:
            assert service.zone_for(miles).zone == zone

    @pytest.mark.parametrize(
        ("zone", "pounds", "anchor"),
        [(2, 1, 10.1), (2, 5, 10.5), (4, 5, 13.0), (6, 5, 16.3), (8, 5, 22.0)],
    )
    def test_ground_rates_match_the_reference_anchors(
        self, network: MasterData, zone: int, pounds: int, anchor: float
    ) -> None:
        assert _service(network, "ground").rates[(zone, pounds)] == pytest.approx(anchor, rel=0.1)

    def test_ground_surcharges_and_transit_days_match_the_reference(
        self, network: MasterData
    ) -> None:
        ground = _service(network, "ground")
        assert ground.residential_surcharge == pytest.approx(5.75, abs=0.2)
        assert ground.fuel_surcharge_pct == 8
        reference = {2: (1, 2), 3: (2, 3), 4: (2, 3), 5: (3, 4), 6: (3, 4), 7: (4, 5), 8: (4, 5)}
        for band in ground.zones:
            low, high = reference[band.zone]
            assert low <= band.transit_days <= high
        assert {b.transit_days for b in _service(network, "two_day").zones} == {2}
        assert {b.transit_days for b in _service(network, "overnight").zones} == {1}

    def test_express_services_cost_several_times_ground(self, network: MasterData) -> None:
        ground = _service(network, "ground")
        two_day, overnight = _service(network, "two_day"), _service(network, "overnight")
        for key, price in ground.rates.items():
            assert two_day.rates[key] >= 2 * price - 0.01  # a cent of rounding
            assert overnight.rates[key] >= 3 * price - 0.01
            assert overnight.rates[key] > two_day.rates[key]


class TestProducts:
    def test_skus_are_numbered_from_one(self, network: MasterData) -> None:
        assert [p.sku for p in network.products[:2]] == ["SKU-000001", "SKU-000002"]
        assert len(network.products) == 2000
        assert len({p.sku for p in network.products}) == 2000

    def test_hazmat_and_oversize_shares_are_realistic(self, network: MasterData) -> None:
        count = len(network.products)

        def share(flag: Handling) -> float:
            return sum(flag in p.handling for p in network.products) / count

        assert 0.02 <= share(Handling.HAZMAT) <= 0.03
        assert 0.01 <= share(Handling.OVERSIZE) <= 0.02
        assert 0 < share(Handling.REFRIGERATED) < 0.01
        assert 0 < share(Handling.HIGH_VALUE) < 0.02

    def test_oversize_products_are_long_heavy_or_large_and_ship_alone(
        self, network: MasterData
    ) -> None:
        for product in network.products:
            if product.dimensions is None:
                continue
            big = _is_oversize(product.dimensions)
            assert big == (Handling.OVERSIZE in product.handling), product
            assert product.ship_alone == big, product

    def test_gift_cards_and_warranties_are_not_stock_tracked_and_have_no_size(
        self, network: MasterData
    ) -> None:
        untracked = [p for p in network.products if not p.stock_tracked]
        assert 1 <= len(untracked) <= 20
        assert all(p.dimensions is None for p in untracked)
        assert all(p.dimensions is not None for p in network.products if p.stock_tracked)

    def test_sizes_vary_like_a_real_catalogue(self, network: MasterData) -> None:
        weights = sorted(p.dimensions.weight_lb for p in network.products if p.dimensions)
        median = weights[len(weights) // 2]
        assert 0.3 <= median <= 5
        assert weights[int(len(weights) * 0.99)] >= 15
        assert len({p.name for p in network.products}) > 500


def _audit_findings(data: MasterData, zips: ZipDirectory) -> list[str]:
    rows = [
        ProductRow(
            p.sku,
            p.dimensions.length_in if p.dimensions else None,
            p.dimensions.width_in if p.dimensions else None,
            p.dimensions.height_in if p.dimensions else None,
            p.dimensions.weight_lb if p.dimensions else None,
            frozenset(h.value for h in p.handling),
            p.stock_tracked,
        )
        for p in data.products
    ]
    report = audit(AuditData(data.nodes, rows, data.services, zips.lookup))
    return [f"{f.subject_id}: {f.message}" for f in report.findings]


def test_the_data_quality_audit_finds_nothing_in_the_default_network(
    network: MasterData, zips: ZipDirectory
) -> None:
    assert _audit_findings(network, zips) == []


def _check_physically_shippable(products: list[Product]) -> None:
    for product in products:
        if product.dimensions is None:
            continue
        dims = product.dimensions
        assert max(dims.length_in, dims.width_in, dims.height_in) <= 108, product
        assert dims.weight_lb <= 150, product
        assert billable_weight(dims, 139) <= 150, product
        assert 1 <= _density_lb_per_ft3(product) <= 60, product
        assert _is_oversize(dims) == (Handling.OVERSIZE in product.handling), product


def test_every_default_product_fits_the_carrier_limits_with_a_plausible_density(
    network: MasterData,
) -> None:
    _check_physically_shippable(network.products)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_every_seed_builds_products_within_carrier_limits_and_flags_the_oversize_ones(
    zips: ZipDirectory, seed: int
) -> None:
    _check_physically_shippable(demo_network(zips, seed=seed, stores=0, skus=400).products)


def test_a_network_of_500_stores_and_20000_skus_builds_with_the_requested_counts(
    zips: ZipDirectory,
) -> None:
    data = demo_network(zips, stores=500, skus=20_000)
    assert len(_of_type(data, NodeType.STORE)) == 500
    assert len(data.products) == 20_000
    assert len({n.id for n in data.nodes}) == len(data.nodes) == 508
    assert len({n.address.zip for n in data.nodes}) == len(data.nodes)
    for node in data.nodes:
        place = zips.lookup(node.address.zip)
        assert place is not None and place.active and place.timezone == node.timezone
        assert (node.address.city, node.address.state) == (place.city, place.state)
    assert _audit_findings(data, zips) == []
