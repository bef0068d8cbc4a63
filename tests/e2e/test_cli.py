"""The `dom` command as a user runs it: import and export files, keys, inventory reports, exit
codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dom.adapters.database import make_engine
from dom.domain.access import LOCAL_OPERATOR
from dom.services import inventory, masterdata
from tests.support.factories import node_record, product_record, service_record, store_record

DOM = str(Path(sys.executable).parent / "dom")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "COLUMNS": "200",
    }
    return subprocess.run([DOM, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    path = tmp_path / "network.json"
    bundle = {
        "nodes": [node_record(), store_record()],
        "products": [product_record("A"), product_record("B")],
        "carrier_services": [service_record()],
    }
    path.write_text(json.dumps(bundle))
    return path


def test_import_then_export_as_csv_then_reimport_into_a_new_database(
    tmp_path: Path, bundle_file: Path
) -> None:
    imported = run(tmp_path, "import", str(bundle_file))
    assert imported.returncode == 0, imported.stderr
    assert "nodes" in imported.stdout and "products" in imported.stdout
    exported = run(tmp_path, "export", str(tmp_path / "csv"), "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(
        f"{k}.csv" for k in masterdata.CSV_KINDS
    )
    elsewhere = tmp_path / "second"
    elsewhere.mkdir()
    again = run(elsewhere, "import", str(tmp_path / "csv"))
    assert again.returncode == 0, again.stderr
    run(tmp_path, "export", str(tmp_path / "one.json"))
    run(elsewhere, "export", str(tmp_path / "two.json"))
    assert json.loads((tmp_path / "one.json").read_text()) == json.loads(
        (tmp_path / "two.json").read_text()
    )


def test_a_bad_file_exits_non_zero_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text("sku,name,length,width,height,weight,colour\nA,a,1,1,1,1,red\n")
    refused = run(tmp_path, "import", str(products))
    assert refused.returncode == 2
    assert "colour" in refused.stderr and "unknown column" in refused.stderr
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(
        masterdata.csv_files(masterdata.MasterData([], [], []))["nodes"]
        + "x,,dc,,,,99999,,,,,,-1,,,,,,,,,,,\n"
    )
    refused = run(tmp_path, "import", str(nodes))
    assert refused.returncode == 2
    for field in ("name", "unknown ZIP code 99999", "capacity_orders", "cost_per_unit"):
        assert field in refused.stderr
    run(tmp_path, "export", str(tmp_path / "after.json"))
    after = json.loads((tmp_path / "after.json").read_text())
    assert after == {"nodes": [], "products": [], "carrier_services": []}


def test_a_file_whose_kind_cannot_be_told_is_refused(tmp_path: Path) -> None:
    stray = tmp_path / "stuff.csv"
    stray.write_text("a,b\n1,2\n")
    refused = run(tmp_path, "import", str(stray))
    assert refused.returncode != 0
    assert "cannot tell what stuff.csv holds" in refused.stderr


def test_a_large_import_shows_progress(tmp_path: Path) -> None:
    big = tmp_path / "products.csv"
    big.write_text(
        masterdata.write_csv(
            masterdata.PRODUCT_COLUMNS, [product_record(f"P{i:05d}") for i in range(6000)]
        )
    )
    done = run(tmp_path, "import", str(big))
    assert done.returncode == 0, done.stderr
    assert "6000/6000" in done.stderr


def test_keys_are_created_listed_and_revoked_and_secrets_never_listed(tmp_path: Path) -> None:
    created = run(tmp_path, "keys", "create", "--name", "ops", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("dom_")
    key_id = token.split("_")[1]
    listed = run(tmp_path, "keys", "list")
    assert key_id in listed.stdout and "viewer" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout
    assert run(tmp_path, "keys", "revoke", key_id).returncode == 0
    assert run(tmp_path, "keys", "revoke", "nosuchkey").returncode == 2


def test_a_node_key_needs_an_existing_node(tmp_path: Path) -> None:
    refused = run(tmp_path, "keys", "create", "--name", "s", "--role", "node", "--node", "ghost")
    assert refused.returncode == 2
    assert "node 'ghost' does not exist" in refused.stderr


def test_a_node_count_syncs_from_a_csv_file_and_shows_in_positions(
    tmp_path: Path, bundle_file: Path
) -> None:
    assert run(tmp_path, "import", str(bundle_file)).returncode == 0
    counts = tmp_path / "count.csv"
    counts.write_text("sku,quantity\nA,7\nB,0\n")
    synced = run(
        tmp_path,
        "inventory",
        "sync",
        "dc-columbus",
        str(counts),
        "--as-of",
        "2026-11-25T06:00:00+00:00",
    )
    assert synced.returncode == 0, synced.stderr
    assert "2 positions counted, 2 applied" in synced.stdout
    again = run(
        tmp_path,
        "inventory",
        "sync",
        "dc-columbus",
        str(counts),
        "--as-of",
        "2026-11-25T06:00:00+00:00",
    )
    assert "0 applied" in again.stdout
    shown = run(tmp_path, "inventory", "positions", "--node", "dc-columbus")
    assert shown.returncode == 0 and "dc-columbus" in shown.stdout


def test_a_count_file_with_a_bad_quantity_changes_nothing(
    tmp_path: Path, bundle_file: Path
) -> None:
    assert run(tmp_path, "import", str(bundle_file)).returncode == 0
    counts = tmp_path / "count.csv"
    counts.write_text("sku,quantity\nA,seven\n")
    refused = run(tmp_path, "inventory", "sync", "dc-columbus", str(counts))
    assert refused.returncode == 2
    assert "line 2" in refused.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("sku,quantity\nNOPE,1\n")
    refused = run(tmp_path, "inventory", "sync", "dc-columbus", str(unknown))
    assert refused.returncode == 2 and "unknown SKU 'NOPE'" in refused.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert inventory.positions(engine, LOCAL_OPERATOR, node_id="dc-columbus") == []
    engine.dispose()


def test_inventory_events_import_from_csv_once_and_bad_rows_are_listed(
    tmp_path: Path, bundle_file: Path
) -> None:
    assert run(tmp_path, "import", str(bundle_file)).returncode == 0
    events = tmp_path / "events.csv"
    events.write_text(
        "idempotency_key,kind,sku,node_id,quantity,source,source_time,reason\n"
        "e1,snapshot,A,dc-columbus,9,wms,2026-11-25T06:00:00+00:00,\n"
        "e2,adjustment,A,dc-columbus,-2,wms,2026-11-25T07:00:00+00:00,damaged-in-aisle\n"
    )
    done = run(tmp_path, "inventory", "events", str(events))
    assert done.returncode == 0, done.stderr
    assert "2 events: 2 applied, 0 already recorded" in done.stdout
    again = run(tmp_path, "inventory", "events", str(events))
    assert "0 applied, 2 already recorded" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "idempotency_key,kind,sku,node_id,quantity,source,source_time\n"
        "b1,teleport,A,dc-columbus,1,wms,2026-11-25T08:00:00+00:00\n"
        "b2,receipt,A,dc-columbus,0,wms,2026-11-25T08:00:00+00:00\n"
    )
    refused = run(tmp_path, "inventory", "events", str(bad))
    assert refused.returncode == 2
    assert "kind" in refused.stderr and "quantity" in refused.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    [position] = inventory.positions(engine, LOCAL_OPERATOR, node_id="dc-columbus")
    engine.dispose()
    assert position.on_hand == 7


@pytest.fixture
def counted(tmp_path: Path, bundle_file: Path) -> Path:
    """The DC counted 40 days ago (A 7, B 0), the store today (A 3)."""
    assert run(tmp_path, "import", str(bundle_file)).returncode == 0
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    dc_counts = tmp_path / "dc.csv"
    dc_counts.write_text("sku,quantity\nA,7\nB,0\n")
    synced = run(tmp_path, "inventory", "sync", "dc-columbus", str(dc_counts), "--as-of", long_ago)
    assert synced.returncode == 0, synced.stderr
    store_counts = tmp_path / "store.csv"
    store_counts.write_text("sku,quantity\nA,3\n")
    assert run(tmp_path, "inventory", "sync", "store-0001", str(store_counts)).returncode == 0
    return tmp_path


def test_low_stock_lists_positions_at_or_below_the_threshold_as_a_table_or_json(
    counted: Path,
) -> None:
    empty = run(counted, "inventory", "low-stock", "--json")
    assert empty.returncode == 0, empty.stderr
    assert [(p["sku"], p["node_id"], p["available"]) for p in json.loads(empty.stdout)] == [
        ("B", "dc-columbus", 0)
    ]
    low = run(counted, "inventory", "low-stock", "--threshold", "5", "--json")
    assert [(p["sku"], p["node_id"]) for p in json.loads(low.stdout)] == [
        ("B", "dc-columbus"),
        ("A", "store-0001"),
    ]
    at_store = run(counted, "inventory", "low-stock", "--threshold", "5", "--node", "store-0001")
    assert at_store.returncode == 0, at_store.stderr
    assert "store-0001" in at_store.stdout and "dc-columbus" not in at_store.stdout
    assert "1 positions at or below 5 available" in at_store.stdout


def test_stale_lists_positions_holding_stock_not_counted_within_the_days(counted: Path) -> None:
    stale = run(counted, "inventory", "stale", "--json")
    assert stale.returncode == 0, stale.stderr
    [position] = json.loads(stale.stdout)  # B holds nothing, the store was counted today
    assert (position["sku"], position["node_id"], position["on_hand"]) == ("A", "dc-columbus", 7)
    assert position["snapshot_at"] is not None
    table = run(counted, "inventory", "stale")
    assert "dc-columbus" in table.stdout and "1 positions not counted in 30 days" in table.stdout
    assert json.loads(run(counted, "inventory", "stale", "--days", "60", "--json").stdout) == []


def test_totals_sum_each_sku_over_the_network(counted: Path) -> None:
    totals = run(counted, "inventory", "totals", "--sku", "A", "--sku", "B", "--json")
    assert totals.returncode == 0, totals.stderr
    by_sku = {t["sku"]: t for t in json.loads(totals.stdout)}
    assert (by_sku["A"]["nodes"], by_sku["A"]["on_hand"], by_sku["A"]["available"]) == (2, 10, 10)
    assert by_sku["B"]["on_hand"] == 0
    table = run(counted, "inventory", "totals", "--sku", "A")
    assert table.returncode == 0 and "10" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stale", "--days", "-3"], "--days"),
        (["stale", "--days", "0"], "--days"),
        (["low-stock", "--threshold", "-1"], "--threshold"),
        (["totals"], "give at least one --sku"),
    ],
)
def test_bad_report_options_are_refused_with_exit_code_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    refused = run(tmp_path, "inventory", *args)
    assert refused.returncode == 2
    assert message in refused.stderr


def test_the_demo_loads_with_stock_unless_told_not_to(tmp_path: Path) -> None:
    loaded = run(tmp_path, "demo", "--stores", "3", "--skus", "50")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo stock:" in loaded.stdout and "purchase-order lines inbound" in loaded.stdout
    totals = run(tmp_path, "inventory", "totals", "--sku", "SKU-000001", "--json")
    assert json.loads(totals.stdout)[0]["nodes"] > 0
    bare = tmp_path / "bare"
    bare.mkdir()
    plain = run(bare, "demo", "--stores", "3", "--skus", "50", "--no-stock")
    assert plain.returncode == 0, plain.stderr
    assert "demo stock" not in plain.stdout
    empty = run(bare, "inventory", "totals", "--sku", "SKU-000001", "--json")
    assert json.loads(empty.stdout)[0]["nodes"] == 0
