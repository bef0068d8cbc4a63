"""The audit over stored data: every defect planted in a test data set is found, nothing else.

The clean and planted records in tests/data/audit/ go in through the importer; defects the
importer refuses (an unknown ZIP, legacy products without a weight or with a zero side, a rate
table with a gap) are written straight to the database, as old data or another system would.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import writing
from dom.adapters.tables import products
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Principal, Role
from dom.domain.audit import AuditReport, Severity, SubjectKind
from dom.domain.errors import Forbidden, InvalidField
from dom.domain.geo import Coordinates
from dom.domain.inventory import EventKind, InventoryEvent
from dom.domain.network import Address
from dom.services import inventory, masterdata
from dom.services.audit import run_audit

DATA = Path(__file__).resolve().parent.parent / "data" / "audit"
UNKNOWN_ZIP = "99999"

NODE = SubjectKind.NODE
PRODUCT = SubjectKind.PRODUCT
SERVICE = SubjectKind.CARRIER_SERVICE

#: Every planted defect: (check, subject kind, subject id).
PLANTED = {
    ("node.coordinates_far_from_zip", NODE, "dc-denver-coords"),
    ("node.coordinates_missing", NODE, "dc-null-island"),
    ("node.zip_unknown", NODE, "dc-unknown-zip"),
    ("node.zip_state_mismatch", NODE, "store-wrong-state"),
    ("node.zip_city_mismatch", NODE, "store-wrong-city"),
    ("node.timezone_mismatch", NODE, "store-wrong-timezone"),
    ("node.zip_inactive", NODE, "store-retired-zip"),
    ("node.no_capacity", NODE, "store-no-capacity"),
    ("node.no_labour_hours", NODE, "store-no-labour"),
    ("node.no_operating_days", NODE, "vendor-no-days"),
    ("product.missing_measures", PRODUCT, "SKU-LEGACY-NO-WEIGHT"),
    ("product.non_positive_measures", PRODUCT, "SKU-LEGACY-FLAT"),
    ("product.outlier_measures", PRODUCT, "SKU-HEAVY"),
    ("product.oversize_not_flagged", PRODUCT, "SKU-LONG-BOX"),
    ("product.beyond_parcel_limits", PRODUCT, "SKU-TOO-LONG"),
    ("product.implausible_density", PRODUCT, "SKU-FEATHER"),
    ("carrier.rate_table_gaps", SERVICE, "testco/gappy"),
    ("carrier.rate_inversion", SERVICE, "testco/inverted"),
    ("carrier.no_pickup_days", SERVICE, "testco/nopickup"),
    ("inventory.stale_counts", NODE, "dc-columbus"),
}
#: The database refuses a position that breaks an invariant, so none can be planted here;
#: tests/unit/test_audit_inventory.py covers that check on plain data.
UNPLANTABLE = {SubjectKind.POSITION}


def import_file(engine: Engine, zips: ZipDirectory, name: str) -> None:
    data = json.loads((DATA / f"{name}.json").read_text())
    bundle = masterdata.bundle_from_json(data, name)
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)


def plant_what_the_importer_refuses(engine: Engine, zips: ZipDirectory) -> None:
    """Write defects straight to the database: legacy rows and another system's writes."""
    assert zips.lookup(UNKNOWN_ZIP) is None
    with writing(engine) as connection:
        columbus = repo.get_node(connection, "dc-columbus")
        ground = repo.list_services(connection, carrier="testco", service="ground")[0]
        assert columbus is not None
        unknown = replace(
            columbus,
            id="dc-unknown-zip",
            address=Address("1 Nowhere Rd", "Columbus", "OH", UNKNOWN_ZIP),
            location=Coordinates(39.96, -83.0),
        )
        repo.save_nodes(connection, [unknown])
        legacy = {"handling": [], "ship_alone": False, "stock_tracked": True}
        connection.execute(
            products.insert(),
            [
                {
                    "sku": "SKU-LEGACY-NO-WEIGHT",
                    "name": "Imported before weights were required",
                    "length_in": 12.0,
                    "width_in": 8.0,
                    "height_in": 4.0,
                    "weight_lb": None,
                    **legacy,
                },
                {
                    "sku": "SKU-LEGACY-FLAT",
                    "name": "Imported with a zero height",
                    "length_in": 12.0,
                    "width_in": 8.0,
                    "height_in": 0.0,
                    "weight_lb": 2.0,
                    **legacy,
                },
            ],
        )
        gap = {key: price for key, price in ground.rates.items() if key not in ((5, 3), (5, 4))}
        repo.save_services(connection, [replace(ground, service="gappy", rates=gap)])
    count_long_ago(engine)


def count_long_ago(engine: Engine) -> None:
    """A position counted 60 days ago and never since: a stale count at dc-columbus."""
    long_ago = datetime.now(UTC) - timedelta(days=60)
    event = InventoryEvent(EventKind.SNAPSHOT, "SKU-001", "dc-columbus", 12, "wms", long_ago)
    inventory.record_events(engine, LOCAL_OPERATOR, [inventory.EventRequest("count-1", event)])


@pytest.fixture
def clean(engine: Engine, zips: ZipDirectory) -> Engine:
    import_file(engine, zips, "clean")
    return engine


@pytest.fixture
def planted(clean: Engine, zips: ZipDirectory) -> Engine:
    import_file(clean, zips, "planted")
    plant_what_the_importer_refuses(clean, zips)
    return clean


def found(report: AuditReport) -> set[tuple[str, SubjectKind, str]]:
    return {(f.check, f.subject_kind, f.subject_id) for f in report.findings}


def test_the_clean_data_set_raises_nothing(clean: Engine, zips: ZipDirectory) -> None:
    report = run_audit(clean, LOCAL_OPERATOR, zips)

    assert report.findings == ()
    assert report.notes == ()
    assert report.examined == {"nodes": 3, "products": 41, "carrier_services": 1, "positions": 0}
    assert report.exit_code(Severity.WARNING) == 0


def test_every_planted_defect_is_found_and_nothing_else(
    planted: Engine, zips: ZipDirectory
) -> None:
    report = run_audit(planted, LOCAL_OPERATOR, zips)

    assert found(report) == PLANTED
    assert len(report.findings) == len(PLANTED)
    assert {kind for _, kind, _ in PLANTED} == set(SubjectKind) - UNPLANTABLE


def test_planted_defects_are_ranked_by_impact(planted: Engine, zips: ZipDirectory) -> None:
    report = run_audit(planted, LOCAL_OPERATOR, zips)
    rank = {(f.check, f.subject_id): i for i, f in enumerate(report.findings)}

    impacts = [f.impact for f in report.findings]
    assert impacts == sorted(impacts, reverse=True)
    severities = [f.severity.rank for f in report.findings]
    assert severities == sorted(severities, reverse=True)
    dc_far = rank[("node.coordinates_far_from_zip", "dc-denver-coords")]
    assert dc_far < rank[("node.zip_state_mismatch", "store-wrong-state")]
    no_weight = rank[("product.missing_measures", "SKU-LEGACY-NO-WEIGHT")]
    assert no_weight < rank[("product.outlier_measures", "SKU-HEAVY")]


def test_the_report_counts_and_exit_codes_follow_the_planted_severities(
    planted: Engine, zips: ZipDirectory
) -> None:
    report = run_audit(planted, LOCAL_OPERATOR, zips)

    assert report.counts == {Severity.ERROR: 11, Severity.WARNING: 9, Severity.INFO: 0}
    assert report.exit_code(Severity.ERROR) == 2
    assert report.exit_code(Severity.WARNING) == 2


def test_messages_say_what_is_wrong_and_what_to_do(planted: Engine, zips: ZipDirectory) -> None:
    report = run_audit(planted, LOCAL_OPERATOR, zips)
    messages = {f.subject_id: f.message for f in report.findings}

    assert "IN" in messages["store-wrong-state"] and "IL" in messages["store-wrong-state"]
    assert "zone 5 has no rate for 3-4 lb" in messages["testco/gappy"]
    assert "no weight" in messages["SKU-LEGACY-NO-WEIGHT"]
    assert all(";" in message for message in messages.values())


def test_warnings_alone_fail_only_a_run_that_fails_on_warnings(
    clean: Engine, zips: ZipDirectory
) -> None:
    with writing(clean) as connection:
        store = repo.get_node(connection, "store-chicago")
        assert store is not None
        repo.save_nodes(connection, [replace(store, timezone="America/Denver")])

    report = run_audit(clean, LOCAL_OPERATOR, zips)

    assert found(report) == {("node.timezone_mismatch", NODE, "store-chicago")}
    assert report.exit_code(Severity.WARNING) == 1
    assert report.exit_code(Severity.ERROR) == 0


def test_a_viewer_may_audit_and_a_channel_may_not(clean: Engine, zips: ZipDirectory) -> None:
    viewer = Principal("k1", "auditor", Role.VIEWER)
    channel = Principal("k2", "web shop", Role.CHANNEL, channel="web")

    assert run_audit(clean, viewer, zips).findings == ()
    with pytest.raises(Forbidden):
        run_audit(clean, channel, zips)


def test_a_stale_horizon_below_one_day_is_refused(clean: Engine, zips: ZipDirectory) -> None:
    with pytest.raises(InvalidField) as error:
        run_audit(clean, LOCAL_OPERATOR, zips, stale_days=0)

    assert error.value.field == "stale_days"
