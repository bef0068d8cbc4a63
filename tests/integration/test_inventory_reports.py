"""The stale-count report over stored positions: the audit's rule, per position, scoped by key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Principal, Role
from dom.domain.errors import Forbidden, InvalidInput
from dom.services import inventory, masterdata
from dom.services.inventory_reports import stale_positions
from tests.support.factories import node_record, product_record, store_record

NOW = datetime.now(UTC)


@pytest.fixture
def counted(engine: Engine, zips: ZipDirectory) -> Engine:
    """The DC counted 40 days ago, the store 10 days ago."""
    bundle = masterdata.bundle_from_json(
        {
            "nodes": [node_record("dc-1"), store_record("store-1")],
            "products": [product_record("A"), product_record("B")],
        }
    )
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)
    for node, age, counts in (("dc-1", 40, {"A": 4, "B": 2}), ("store-1", 10, {"A": 1})):
        inventory.sync_node(
            engine,
            LOCAL_OPERATOR,
            node,
            counts,
            source="test",
            source_time=NOW - timedelta(days=age),
            idempotency_key=f"count-{node}",
        )
    return engine


def test_positions_last_counted_before_the_horizon_are_stale(counted: Engine) -> None:
    found = stale_positions(counted, LOCAL_OPERATOR)
    assert [(p.sku, p.node_id) for p in found] == [("A", "dc-1"), ("B", "dc-1")]
    nine_days = stale_positions(counted, LOCAL_OPERATOR, days=9)
    assert [(p.sku, p.node_id) for p in nine_days][-1] == ("A", "store-1")  # oldest first
    assert stale_positions(counted, LOCAL_OPERATOR, days=9, limit=1)[0].node_id == "dc-1"


def test_a_node_key_sees_only_its_own_node(counted: Engine) -> None:
    store = Principal("k1", "store 1", Role.NODE, node_id="store-1")
    assert [p.node_id for p in stale_positions(counted, store, days=5)] == ["store-1"]
    with pytest.raises(Forbidden):
        stale_positions(counted, store, node_id="dc-1")


def test_days_must_be_positive(counted: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        stale_positions(counted, LOCAL_OPERATOR, days=0)
    assert [p.field for p in refused.value.problems] == ["days"]
