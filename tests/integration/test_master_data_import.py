"""Importing master data: every bad row reported with its line and reason, nothing partly written."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine

from dom.adapters.database import make_engine
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.errors import InvalidInput
from dom.services import masterdata
from dom.services.formats import write_csv
from dom.services.schema import migrate
from tests.support.factories import node_record, product_record, service_record, store_record


def _import_csv(engine: Engine, zips: ZipDirectory, **files: str) -> masterdata.ImportReport:
    return masterdata.import_master_data(
        engine, LOCAL_OPERATOR, masterdata.bundle_from_csv(files), zips
    )


def _import_json(engine: Engine, zips: ZipDirectory, data: object) -> masterdata.ImportReport:
    return masterdata.import_master_data(
        engine, LOCAL_OPERATOR, masterdata.bundle_from_json(data), zips
    )


def _stored(engine: Engine) -> masterdata.MasterData:
    return masterdata.export_master_data(engine, LOCAL_OPERATOR)


def _problems(error: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[int | None, str]]:
    return {(p.line, p.field) for p in error.value.problems}


def _nodes_csv(*records: dict[str, object]) -> str:
    return write_csv(masterdata.NODE_COLUMNS, records)


def _products_csv(*records: dict[str, object]) -> str:
    return write_csv(masterdata.PRODUCT_COLUMNS, records)


class TestBadNodeRows:
    def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        text = _nodes_csv(
            node_record("dc-good"),
            node_record("dc-nozip", zip="00000"),
            node_record("dc-negative", capacity_orders=-5),
            node_record("dc-tz", timezone="Mars/Olympus_Mons"),
            store_record("store-good"),
            node_record("dc-good"),
        )
        with pytest.raises(InvalidInput) as error:
            _import_csv(engine, zips, nodes=text)
        assert _problems(error) == {
            (3, "zip"),
            (4, "capacity_orders"),
            (5, "timezone"),
            (7, "id"),
        }
        reasons = {p.line: p.reason for p in error.value.problems}
        assert reasons[3] == "unknown ZIP code 00000"
        assert "Mars/Olympus_Mons" in reasons[5]
        assert reasons[7] == "duplicate id 'dc-good', first on line 2"
        assert _stored(engine).nodes == []

    def test_an_unknown_column_is_refused_before_any_row(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        text = _nodes_csv(node_record()).replace("cost_per_unit", "cost_per_unti", 1)
        with pytest.raises(InvalidInput) as error:
            _import_csv(engine, zips, nodes=text)
        assert [(p.line, p.field, p.reason) for p in error.value.problems] == [
            (1, "cost_per_unti", "unknown column")
        ]

    def test_a_row_with_too_few_cells_is_reported(self, engine: Engine, zips: ZipDirectory) -> None:
        text = _nodes_csv(node_record()) + "dc-short,Short\n"
        with pytest.raises(InvalidInput) as error:
            _import_csv(engine, zips, nodes=text)
        assert _problems(error) == {(3, "row")}

    def test_a_missing_required_field_is_named(self, engine: Engine, zips: ZipDirectory) -> None:
        record = node_record()
        del record["operating_days"]
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"nodes": [record]})
        assert _problems(error) == {(1, "operating_days")}

    def test_a_zip_the_directory_has_no_coordinates_for_needs_them_given(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        record = node_record("dc-dc", zip="56968", city="Washington", state="DC")
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"nodes": [record]})
        assert [p.reason for p in error.value.problems] == [
            "ZIP 56968 has no known coordinates; give latitude and longitude"
        ]
        located = {**record, "latitude": 38.9, "longitude": -77.03}
        assert _import_json(engine, zips, {"nodes": [located]}).nodes.created == 1

    def test_coordinates_and_time_zone_come_from_the_zip(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        _import_json(
            engine,
            zips,
            {"nodes": [store_record("store-nyc", zip="10001", city="New York", state="NY")]},
        )
        node = _stored(engine).nodes[0]
        assert node.timezone == "America/New_York"
        assert (round(node.location.latitude, 2), round(node.location.longitude, 2)) == (
            40.75,
            -74.0,
        )


class TestBadProductRows:
    def test_missing_and_non_positive_dimensions_and_duplicate_skus_are_all_reported(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        text = _products_csv(
            product_record("A-1"),
            product_record("A-2", height=None),
            product_record("A-3", weight=0),
            product_record("A-4", length=-2),
            product_record("A-1", name="again"),
            product_record("A-5", dimension_unit="furlong"),
        )
        with pytest.raises(InvalidInput) as error:
            _import_csv(engine, zips, products=text)
        assert _problems(error) == {
            (3, "height"),
            (4, "weight"),
            (5, "length"),
            (6, "sku"),
            (7, "dimension_unit"),
        }
        assert _stored(engine).products == []

    def test_every_bad_size_of_one_row_is_reported_at_once(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        record = product_record("A-9", height=None, weight=0, weight_unit="stone")
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"products": [record]})
        assert _problems(error) == {(1, "height"), (1, "weight"), (1, "weight_unit")}

    def test_units_are_normalized_to_inches_and_pounds(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        record = product_record(
            "M-1",
            length=50.8,
            width=25.4,
            height=2.54,
            dimension_unit="cm",
            weight=1000,
            weight_unit="g",
        )
        _import_json(engine, zips, {"products": [record]})
        dims = _stored(engine).products[0].dimensions
        assert dims is not None
        assert (dims.length_in, dims.width_in, dims.height_in) == (20.0, 10.0, 1.0)
        assert dims.weight_lb == pytest.approx(2.2046, abs=1e-4)

    def test_items_that_are_not_stock_tracked_need_no_dimensions(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        record = product_record(
            "GIFT-25", length=None, width=None, height=None, weight=None, stock_tracked=False
        )
        report = _import_json(
            engine, zips, {"products": [{k: v for k, v in record.items() if v is not None}]}
        )
        assert report.products.created == 1
        assert _stored(engine).products[0].dimensions is None


class TestBadRateTables:
    def test_a_missing_zone_and_a_missing_weight_break_are_reported(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        service = service_record(max_lb=4)
        service["rates"] = [
            r for r in service["rates"] if not (r["zone"] == 5 and r["weight_lb"] in (2, 3))
        ]
        service["rates"] = [r for r in service["rates"] if r["zone"] != 8]
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"carrier_services": [service]})
        reasons = sorted(p.reason for p in error.value.problems)
        assert reasons == ["zone 5 has no rate for 2-3 lb", "zone 8 has no rate for 1-4 lb"]
        assert _stored(engine).services == []

    def test_zone_bands_must_rise_and_end_open(self, engine: Engine, zips: ZipDirectory) -> None:
        service = service_record(max_lb=2)
        service["zones"][2]["max_miles"] = 100
        service["zones"][-1]["max_miles"] = 5000
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"carrier_services": [service]})
        reasons = {p.reason for p in error.value.problems}
        assert "zone distance bands must rise" in reasons
        assert "the last zone must be open-ended (leave max_miles empty)" in reasons

    def test_csv_zones_and_rates_must_belong_to_a_service_in_the_same_import(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        data = masterdata.MasterData(
            [], [], [masterdata.service_from_record(masterdata.ServiceRecord(**service_record()))]
        )
        files = masterdata.csv_files(data)
        with pytest.raises(InvalidInput) as error:
            _import_csv(engine, zips, carrier_rates=files["carrier_rates"])
        assert {p.field for p in error.value.problems} == {"service"}


class TestAllOrNothing:
    def test_one_bad_row_among_many_good_ones_writes_nothing(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        products = [product_record(f"P-{i:04d}") for i in range(500)]
        products[250]["weight"] = -1
        with pytest.raises(InvalidInput) as error:
            _import_json(engine, zips, {"nodes": [node_record()], "products": products})
        assert _problems(error) == {(251, "weight")}
        stored = _stored(engine)
        assert stored.nodes == [] and stored.products == []

    def test_reimporting_updates_in_place_and_counts_created_and_updated(
        self, engine: Engine, zips: ZipDirectory
    ) -> None:
        first = _import_json(engine, zips, {"products": [product_record("A"), product_record("B")]})
        assert (first.products.created, first.products.updated) == (2, 0)
        second = _import_json(
            engine, zips, {"products": [product_record("B", name="B v2"), product_record("C")]}
        )
        assert (second.products.created, second.products.updated) == (1, 1)
        assert [(p.sku, p.name) for p in _stored(engine).products] == [
            ("A", "Product A"),
            ("B", "B v2"),
            ("C", "Product C"),
        ]


class TestRoundTrip:
    BUNDLE: ClassVar[dict[str, Any]] = {
        "nodes": [
            node_record(),
            store_record(
                "store-0007",
                pause_reason="flooded",
                pause_starts_at="2026-11-20T08:00:00+00:00",
                pause_ends_at="2026-12-02T08:00:00+00:00",
                latitude=41.92,
                longitude=-87.65,
            ),
        ],
        "products": [
            product_record(
                "A/1", handling=["hazmat", "oversize"], ship_alone=True, dimension_unit="cm"
            ),
            {"sku": "GIFT", "name": "Gift card", "stock_tracked": False},
        ],
        "carrier_services": [
            service_record(),
            service_record(service="overnight", service_level="overnight"),
        ],
    }

    def test_json_export_then_import_gives_back_the_same_data(
        self, engine: Engine, zips: ZipDirectory, tmp_path: Path
    ) -> None:
        _import_json(engine, zips, self.BUNDLE)
        first = _stored(engine)
        exported = masterdata.as_json_bundle(first)
        other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
        migrate(other)
        _import_json(other, zips, exported)
        assert _stored(other) == first
        assert masterdata.as_json_bundle(_stored(other)) == exported

    def test_csv_export_then_import_gives_back_the_same_data(
        self, engine: Engine, zips: ZipDirectory, tmp_path: Path
    ) -> None:
        _import_json(engine, zips, self.BUNDLE)
        first = _stored(engine)
        other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
        migrate(other)
        _import_csv(other, zips, **masterdata.csv_files(first))
        assert _stored(other) == first
