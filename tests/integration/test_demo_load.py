"""Loading the demo network stores all of it, and its CSV export imports back to the same data."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dom.adapters.database import make_engine
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Principal, Role
from dom.domain.errors import Forbidden
from dom.services import masterdata
from dom.services.audit import run_audit
from dom.services.demo import demo_network, load_demo
from dom.services.schema import migrate
from tests.support.postgres import Cluster


@pytest.fixture
def fresh_engine(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Engine]:
    """A second empty, migrated database on the same backend as `engine`."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
        migrate(other)
        yield other
        other.dispose()
        return
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    other = make_engine(cluster.url(name))
    migrate(other)
    yield other
    other.dispose()
    cluster.drop_database(name)


def _sorted(data: masterdata.MasterData) -> masterdata.MasterData:
    return masterdata.MasterData(
        nodes=sorted(data.nodes, key=lambda n: n.id),
        products=sorted(data.products, key=lambda p: p.sku),
        services=sorted(data.services, key=lambda s: s.key),
    )


def test_loading_the_demo_stores_every_node_product_and_service(
    engine: Engine, zips: ZipDirectory
) -> None:
    report = load_demo(engine, LOCAL_OPERATOR, zips, seed=3, stores=25, skus=600)

    assert (report.nodes.created, report.products.created, report.carrier_services.created) == (
        33,
        600,
        3,
    )
    stored = masterdata.export_master_data(engine, LOCAL_OPERATOR)
    assert stored == _sorted(demo_network(zips, seed=3, stores=25, skus=600))


def test_loading_the_demo_again_updates_instead_of_adding(
    engine: Engine, zips: ZipDirectory
) -> None:
    load_demo(engine, LOCAL_OPERATOR, zips, stores=10, skus=100)
    again = load_demo(engine, LOCAL_OPERATOR, zips, stores=10, skus=100)

    assert (again.nodes.created, again.nodes.updated) == (0, 18)
    assert (again.products.created, again.products.updated) == (0, 100)
    assert len(masterdata.export_master_data(engine, LOCAL_OPERATOR).nodes) == 18


def test_loading_the_demo_leaves_the_garbage_collector_running(
    engine: Engine, zips: ZipDirectory
) -> None:
    # The bulk import pauses the collector for speed; it must start it again.
    load_demo(engine, LOCAL_OPERATOR, zips, stores=3, skus=50)
    assert gc.isenabled()


def test_a_viewer_may_not_load_the_demo(engine: Engine, zips: ZipDirectory) -> None:
    viewer = Principal("k1", "someone", Role.VIEWER)
    with pytest.raises(Forbidden):
        load_demo(engine, viewer, zips, stores=1, skus=1)
    assert masterdata.export_master_data(engine, LOCAL_OPERATOR).nodes == []


def test_the_full_demo_network_survives_a_csv_round_trip_into_a_fresh_database(
    engine: Engine, fresh_engine: Engine, zips: ZipDirectory
) -> None:
    load_demo(engine, LOCAL_OPERATOR, zips)
    exported = masterdata.export_master_data(engine, LOCAL_OPERATOR)

    files = masterdata.csv_files(exported)
    report = masterdata.import_master_data(
        fresh_engine, LOCAL_OPERATOR, masterdata.bundle_from_csv(files), zips
    )

    assert report.rows == 68 + 2000 + 3
    assert masterdata.export_master_data(fresh_engine, LOCAL_OPERATOR) == exported
    assert exported == _sorted(demo_network(zips))


def test_the_stored_demo_network_passes_the_data_quality_audit(
    engine: Engine, zips: ZipDirectory
) -> None:
    load_demo(engine, LOCAL_OPERATOR, zips)

    report = run_audit(engine, LOCAL_OPERATOR, zips)

    assert [f"{f.subject_id}: {f.message}" for f in report.findings] == []
    assert report.examined["products"] == 2000
