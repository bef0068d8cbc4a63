"""Full-count syncs served from a process of its own, for `bench.inventory_sync`.

python -m bench.inventory_sync_worker

Reads one command per line on stdin (`sync URL NODE SEED`, `quit`): counts the node again as
`bench.inventory_data.recount` does (a share of SKUs off by a few units), calls `sync_node`
once, and answers with one JSON line: positions counted, wall and CPU seconds of the call, and
whether every position's on hand now equals its count. Run with another tree's `src` first on
PYTHONPATH to time that code instead.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

import dom
from bench.inventory_data import RECOUNT_SHARE, recount
from dom.adapters.database import make_engine, reading
from dom.adapters.tables import positions
from dom.domain.access import LOCAL_OPERATOR
from dom.services.inventory import sync_node


def _on_hand(engine: Engine, node_id: str) -> dict[str, int]:
    query = select(positions.c.sku, positions.c.on_hand).where(positions.c.node_id == node_id)
    with reading(engine) as connection:
        return {sku: int(on_hand) for sku, on_hand in connection.execute(query)}


def _sync(engine: Engine, node_id: str, seed: str) -> dict[str, Any]:
    counts = recount(engine, node_id, RECOUNT_SHARE, seed)
    gc.collect()
    started, started_cpu = time.perf_counter(), time.process_time()
    sync_node(
        engine,
        LOCAL_OPERATOR,
        node_id,
        counts,
        source="bench",
        source_time=datetime.now(UTC),
        idempotency_key=f"bench-sync-{uuid.uuid4().hex[:12]}",
    )
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started
    return {
        "positions": len(counts),
        "wall": wall,
        "cpu": cpu,
        "counted": _on_hand(engine, node_id) == counts,
    }


def main() -> None:
    engines: dict[str, Engine] = {}
    print(json.dumps({"dom": str(Path(dom.__file__).parent)}), flush=True)
    for line in sys.stdin:
        what, *arguments = line.split()
        if what == "quit":
            return
        url, node_id, seed = arguments
        if url not in engines:
            engines[url] = make_engine(url)
        print(json.dumps(_sync(engines[url], node_id, seed)), flush=True)


if __name__ == "__main__":
    main()
