"""Loading the demo network stores all of it, and its CSV export imports back to the same data;
its seeded stock makes availability and promises answer in a fresh demo."""

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
from dom.domain.network import Handling, NodeType
from dom.domain.promise import CartLine
from dom.services import inventory, masterdata, promising, supply
from dom.services.audit import run_audit
from dom.services.demo import demo_network, load_demo
from dom.services.demo_stock import load_demo_stock
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


@pytest.fixture
def stocked(engine: Engine, zips: ZipDirectory) -> Engine:
    load_demo(engine, LOCAL_OPERATOR, zips, stores=10, skus=300)
    load_demo_stock(engine, LOCAL_OPERATOR)
    return engine


def test_the_demo_stock_puts_positions_at_every_dc_and_some_at_stores_and_vendors(
    stocked: Engine,
) -> None:
    nodes = masterdata.export_master_data(stocked, LOCAL_OPERATOR).nodes
    for node in nodes:
        held = inventory.positions(stocked, LOCAL_OPERATOR, node_id=node.id, limit=10_000)
        if node.type is NodeType.DISTRIBUTION_CENTRE:
            assert sum(1 for p in held if p.on_hand > 0) > 0.8 * len(held) > 200, node.id
        elif node.type is NodeType.STORE:
            assert 0 < len(held) < 100, node.id
        else:
            assert any(p.on_hand > 0 for p in held), node.id
    stores = {n.id for n in nodes if n.type is NodeType.STORE}
    kept = [
        p
        for store in sorted(stores)
        for p in inventory.positions(stocked, LOCAL_OPERATOR, node_id=store)
        if p.safety_stock > 0
    ]
    assert kept and all(p.available == p.on_hand - p.safety_stock for p in kept)
    assert {s.node_id for s in supply.open_supply(stocked, LOCAL_OPERATOR)} == {
        n.id for n in nodes if n.type is NodeType.DISTRIBUTION_CENTRE
    }


def test_a_stocked_sku_is_available_and_a_cart_of_it_is_promised_to_a_real_zip(
    stocked: Engine, zips: ZipDirectory
) -> None:
    products = masterdata.export_master_data(stocked, LOCAL_OPERATOR).products
    everyday = [p.sku for p in products if p.stock_tracked and not p.handling]
    [found] = inventory.availability(stocked, LOCAL_OPERATOR, [everyday[0]])
    assert found.available > 0 and len(found.nodes) >= 2
    cart = [CartLine(everyday[0], 1), CartLine(everyday[1], 1)]
    promised = promising.promise_cart(stocked, LOCAL_OPERATOR, zips, cart, zip_code="10001")
    assert promised.promises, promised.unavailable
    ground = next(p for p in promised.promises if p.service_level == "ground")
    assert ground.deliver_on > ground.shipments[0].ship_on and ground.cost > 0


def test_loading_the_demo_stock_again_recounts_it_and_places_no_more_orders(
    stocked: Engine,
) -> None:
    nodes = masterdata.export_master_data(stocked, LOCAL_OPERATOR).nodes
    dc = next(n.id for n in nodes if n.type is NodeType.DISTRIBUTION_CENTRE)
    before = inventory.positions(stocked, LOCAL_OPERATOR, node_id=dc, limit=10_000)
    lines = len(supply.open_supply(stocked, LOCAL_OPERATOR))
    again = load_demo_stock(stocked, LOCAL_OPERATOR)
    assert again.inbound_lines == 0
    assert len(supply.open_supply(stocked, LOCAL_OPERATOR)) == lines
    after = inventory.positions(stocked, LOCAL_OPERATOR, node_id=dc, limit=10_000)
    assert [(p.sku, p.on_hand) for p in after] == [(p.sku, p.on_hand) for p in before]


def test_the_stocked_demo_still_passes_the_audit(stocked: Engine, zips: ZipDirectory) -> None:
    report = run_audit(stocked, LOCAL_OPERATOR, zips)
    assert [f"{f.subject_id}: {f.message}" for f in report.findings] == []


def test_high_value_items_stay_out_of_stores_that_cannot_handle_them(stocked: Engine) -> None:
    data = masterdata.export_master_data(stocked, LOCAL_OPERATOR)
    valuable = {p.sku for p in data.products if Handling.HIGH_VALUE in p.handling}
    for node in data.nodes:
        if node.type is NodeType.STORE and Handling.HIGH_VALUE not in node.handling:
            held = inventory.positions(stocked, LOCAL_OPERATOR, node_id=node.id)
            assert not valuable & {p.sku for p in held}
