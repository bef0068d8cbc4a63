"""The demo's stock plan: seeded, deep at distribution centres, a fraction at stores, only where
a node can handle the item, and purchase orders for the emptiest DC positions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.network import NodeType
from dom.services.demo import demo_network
from dom.services.demo_stock import StockPlan, plan_demo_stock
from dom.services.masterdata import MasterData

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def network(zips: ZipDirectory) -> MasterData:
    return demo_network(zips)


@pytest.fixture(scope="module")
def plan(network: MasterData) -> StockPlan:
    return plan_demo_stock(network.nodes, network.products, seed=7, now=NOW)


def of_type(network: MasterData, node_type: NodeType) -> list[str]:
    return [n.id for n in network.nodes if n.type is node_type]


def test_the_same_seed_gives_the_same_stock_and_another_seed_other_stock(
    network: MasterData, plan: StockPlan
) -> None:
    assert plan_demo_stock(network.nodes, network.products, seed=7, now=NOW) == plan
    other = plan_demo_stock(network.nodes, network.products, seed=8, now=NOW)
    assert other.counts != plan.counts


def test_every_dc_holds_a_position_for_each_tracked_sku_it_handles_most_in_stock(
    network: MasterData, plan: StockPlan
) -> None:
    for node in network.nodes:
        if node.type is not NodeType.DISTRIBUTION_CENTRE:
            continue
        handled = {p.sku for p in network.products if p.stock_tracked and node.handles(p.handling)}
        counts = plan.counts[node.id]
        assert set(counts) == handled
        in_stock = sum(1 for units in counts.values() if units > 0)
        assert 0.85 < in_stock / len(counts) < 0.98
        assert 50 < sorted(counts.values())[len(counts) // 2] < 250  # median units


def test_nothing_is_stocked_where_it_cannot_be_handled_or_is_not_tracked(
    network: MasterData, plan: StockPlan
) -> None:
    products = {p.sku: p for p in network.products}
    nodes = {n.id: n for n in network.nodes}
    for node_id, counts in plan.counts.items():
        for sku in counts:
            assert products[sku].stock_tracked
            assert nodes[node_id].handles(products[sku].handling), (sku, node_id)


def test_stores_carry_a_fraction_a_few_units_deep_and_some_keep_safety_stock(
    network: MasterData, plan: StockPlan
) -> None:
    stores = of_type(network, NodeType.STORE)
    ranged = [len(plan.counts[s]) / len(network.products) for s in stores]
    assert all(0.03 < share < 0.2 for share in ranged)
    units = sorted(u for s in stores for u in plan.counts[s].values())
    assert 2 <= units[len(units) // 2] <= 8
    keeping = {node for _, node, _ in plan.safety_stock}
    assert keeping <= set(stores) and 0 < len(keeping) < len(stores)
    for sku, node, kept in plan.safety_stock:
        assert 1 <= kept < plan.counts[node][sku]


def test_vendors_and_the_third_party_warehouse_hold_stock(
    network: MasterData, plan: StockPlan
) -> None:
    for node_id in of_type(network, NodeType.DROPSHIP_VENDOR) + of_type(
        network, NodeType.THIRD_PARTY_WAREHOUSE
    ):
        assert sum(plan.counts[node_id].values()) > 0, node_id


def test_purchase_orders_replenish_the_emptiest_dc_positions_in_the_coming_weeks(
    network: MasterData, plan: StockPlan
) -> None:
    dcs = set(of_type(network, NodeType.DISTRIBUTION_CENTRE))
    assert plan.inbound and {line.node_id for line in plan.inbound} == dcs
    for line in plan.inbound:
        assert plan.counts[line.node_id][line.sku] < 25 and line.quantity >= 100
        assert 3 <= (line.expected_on - NOW.date()).days <= 25
    assert len({line.reference for line in plan.inbound}) == 2 * len(dcs)


def test_counts_were_taken_lately(plan: StockPlan) -> None:
    assert all(0 < (NOW - at).total_seconds() <= 3 * 86400 for at in plan.counted_at.values())
