"""Inventory reads served from a process of its own, for `bench.inventory_reads`.

python -m bench.inventory_reads_worker URL REQUESTS.json

Reads one command per line on stdin (`promise FIRST COUNT`, `availability FIRST COUNT`,
`quit`), calls the service function for requests FIRST … FIRST+COUNT-1 of the file one after
another, and answers with one JSON line: wall and CPU seconds of each call, and a digest of the
answers (the same requests must get the same answers from every tree). Run with another
tree's `src` first on PYTHONPATH to time that code instead; it imports only `dom`.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import dom
from dom.adapters.database import make_engine
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.promise import CartLine
from dom.services.inventory import availability
from dom.services.promising import promise_cart

Call = tuple[Callable[[], Any], Callable[[Any], str]]  # the request, and its answer as text


def _calls(url: str, requests: dict[str, Any]) -> dict[str, list[Call]]:
    engine = make_engine(url)
    zips = zip_directory()
    now = datetime.fromisoformat(requests["now"])

    def promise(zip_code: str, lines: list[tuple[str, int]]) -> Call:
        cart = [CartLine(sku, quantity) for sku, quantity in lines]
        call = partial(promise_cart, engine, LOCAL_OPERATOR, zips, cart, zip_code=zip_code, now=now)
        return call, repr

    def available(skus: list[str]) -> Call:
        def text(found: Any) -> str:
            return repr(
                [(a.sku, a.available, [(n.node_id, n.available) for n in a.nodes]) for a in found]
            )

        return partial(availability, engine, LOCAL_OPERATOR, skus, now=now), text

    return {
        "promise": [promise(zip_code, cart) for zip_code, cart in requests["carts"]],
        "availability": [available(skus) for skus in requests["sku_lists"]],
    }


def _run(calls: list[Call]) -> dict[str, Any]:
    wall: list[float] = []
    cpu: list[float] = []
    digest = hashlib.sha256()
    for call, text in calls:
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = call()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        digest.update(text(answer).encode())
    return {"wall": wall, "cpu": cpu, "digest": digest.hexdigest()}


def main(url: str, requests_file: Path) -> None:
    calls = _calls(url, json.loads(requests_file.read_text(encoding="utf-8")))
    gc.collect()
    gc.freeze()  # as a long-running server's start-up objects are old by the time it serves
    print(json.dumps({"dom": str(Path(dom.__file__).parent)}), flush=True)
    for line in sys.stdin:
        what, *bounds = line.split()
        if what == "quit":
            return
        first, count = (int(x) for x in bounds)
        print(json.dumps(_run(calls[what][first : first + count])), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
