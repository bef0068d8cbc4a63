"""One timed import in a fresh process: `python -m bench.import_worker FOLDER URL KIND...`.

Migrates the (empty) database, reads the CSV files of the given kinds, then times exactly the
import path a user runs: `bundle_from_csv` then `import_master_data`. Prints one JSON line.
Run with another checkout's `src` first on PYTHONPATH to time that code instead.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import dom
from dom.adapters.database import make_engine
from dom.adapters.zip_directory import zip_directory
from dom.domain.access import LOCAL_OPERATOR
from dom.services import masterdata
from dom.services.schema import migrate


def main(folder: Path, url: str, kinds: list[str]) -> dict[str, object]:
    zips = zip_directory()
    engine = make_engine(url)
    migrate(engine)
    texts = {kind: (folder / f"{kind}.csv").read_text(encoding="utf-8") for kind in kinds}
    started = time.perf_counter()
    bundle = masterdata.bundle_from_csv(texts)
    report = masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": seconds,
        "rows": bundle.size,
        "stored": report.rows,
        "dom": str(Path(dom.__file__).parent),
    }


if __name__ == "__main__":
    folder, url, *kinds = sys.argv[1:]
    print(json.dumps(main(Path(folder), url, kinds)))
