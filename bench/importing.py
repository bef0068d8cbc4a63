"""Import throughput: a 500-node × 20,000-SKU network as CSV files into a fresh database.

Every run imports into a new, migrated database in a fresh process (`bench.import_worker`), so
no run profits from another's caches. With a baseline source tree, baseline and current runs
alternate, so that both see the same machine load and their ratio is fair.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import Cluster, start_cluster

from bench.stats import Timing, paired_ratio
from dom.adapters.zip_directory import zip_directory
from dom.services import masterdata
from dom.services.demo import demo_network

ROOT = Path(__file__).resolve().parent.parent
DOM = Path(sys.executable).parent / "dom"
SCENARIOS: dict[str, tuple[str, ...]] = {
    "nodes": ("nodes",),
    "products": ("products",),
    "everything": tuple(masterdata.CSV_KINDS),
}


@dataclass(frozen=True)
class ScenarioResult:
    backend: str
    scenario: str
    rows: int
    current: Timing
    baseline: Timing | None


@dataclass(frozen=True)
class ImportResults:
    stores: int
    skus: int
    files: dict[str, int]  # rows per CSV file
    build: Timing  # demo_network(...) in this process
    scenarios: list[ScenarioResult]
    cli: Timing  # `dom import <folder>`, end to end
    cli_migrate: Timing  # `dom migrate` on an empty file: the start-up share of the above


def write_network(
    folder: Path, stores: int, skus: int, repeat: int
) -> tuple[dict[str, int], Timing]:
    """Write the demo network as CSV files; returns rows per file and the build timings."""
    zips = zip_directory()
    builds: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        data = demo_network(zips, stores=stores, skus=skus)
        builds.append(time.perf_counter() - started)
    rows: dict[str, int] = {}
    for kind, text in masterdata.csv_files(data).items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8")
        rows[kind] = text.count("\n") - 1
    return rows, Timing.of(builds)


def _worker(folder: Path, url: str, kinds: tuple[str, ...], src: Path | None) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_worker", str(folder), url, *kinds],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    expected = Path(src if src is not None else ROOT / "src") / "dom"
    if Path(str(result["dom"])).resolve() != expected.resolve():
        raise RuntimeError(f"worker ran {result['dom']}, expected {expected}")
    return result


@contextmanager
def _databases(backend: str, scratch: Path) -> Iterator[Callable[[], str]]:
    """Yields a function that makes a new, empty database on the backend and returns its URL."""
    if backend == "sqlite":
        counter = iter(range(1_000_000))
        yield lambda: f"sqlite:///{scratch / f'bench-{next(counter)}.sqlite3'}"
        return
    cluster: Cluster = start_cluster()
    created: list[str] = []

    def new() -> str:
        created.append(cluster.create_database())
        return cluster.url(created[-1])

    try:
        yield new
    finally:
        for name in created:
            cluster.drop_database(name)
        cluster.stop()


def _time_scenario(
    folder: Path,
    new_database: Callable[[], str],
    kinds: tuple[str, ...],
    repeat: int,
    baseline_src: Path | None,
) -> tuple[int, Timing, Timing | None]:
    current: list[float] = []
    baseline: list[float] = []
    rows = 0
    for _ in range(repeat):
        # Alternate, so both code versions see the same machine load.
        if baseline_src is not None:
            baseline.append(
                float(str(_worker(folder, new_database(), kinds, baseline_src)["seconds"]))
            )
        result = _worker(folder, new_database(), kinds, None)
        current.append(float(str(result["seconds"])))
        rows = int(str(result["rows"]))
    return rows, Timing.of(current), Timing.of(baseline) if baseline else None


def _time_cli(folder: Path, scratch: Path, repeat: int) -> tuple[Timing, Timing]:
    """Wall time of `dom import <folder>` and of `dom migrate`, each on a new SQLite file."""
    imports: list[float] = []
    migrations: list[float] = []
    for run in range(repeat):
        for command, times in ((["import", str(folder)], imports), (["migrate"], migrations)):
            env = {
                **os.environ,
                "DOM_DATABASE_URL": f"sqlite:///{scratch / f'cli-{command[0]}-{run}.sqlite3'}",
            }
            started = time.perf_counter()
            subprocess.run(
                [str(DOM), *command], env=env, check=True, capture_output=True, timeout=600
            )
            times.append(time.perf_counter() - started)
    return Timing.of(imports), Timing.of(migrations)


def run_import_benchmark(
    *,
    stores: int,
    skus: int,
    repeat: int,
    postgres: bool,
    baseline_src: Path | None,
    log: Callable[[str], None],
) -> ImportResults:
    with tempfile.TemporaryDirectory(prefix="dom-bench-") as tmp:
        scratch = Path(tmp)
        folder = scratch / "network"
        folder.mkdir()
        files, build = write_network(folder, stores, skus, repeat)
        log(f"network written: {files} (built in {build.describe()})")
        results: list[ScenarioResult] = []
        for backend in ("sqlite", "postgresql") if postgres else ("sqlite",):
            with _databases(backend, scratch) as new_database:
                for scenario, kinds in SCENARIOS.items():
                    rows, current, baseline = _time_scenario(
                        folder, new_database, kinds, repeat, baseline_src
                    )
                    results.append(ScenarioResult(backend, scenario, rows, current, baseline))
                    log(f"{backend} {scenario}: {rows} rows in {current.describe()}")
        cli, cli_migrate = _time_cli(folder, scratch, max(3, repeat // 2))
        log(f"dom import: {cli.describe()}; dom migrate: {cli_migrate.describe()}")
    return ImportResults(stores, skus, files, build, results, cli, cli_migrate)


def report_lines(results: ImportResults, baseline_label: str | None) -> list[str]:
    total = sum(results.files.values())
    lines = [
        f"### Import throughput: {results.stores} stores, {results.skus:,} SKUs, carrier tables",
        "",
        "Rows per file: "
        + ", ".join(f"{kind} {rows:,}" for kind, rows in results.files.items())
        + f" — {total:,} rows in all.",
        "",
        f"Building the network with `demo_network` (in process): {results.build.describe()}.",
        "",
        "Timed: `bundle_from_csv` + `import_master_data` into a fresh migrated database, "
        "each run in a new process.",
        "",
    ]
    if baseline_label is None:
        lines += [
            "| backend | files imported | rows | median time (min-max, runs) | rows/s at median |",
            "|---|---|---:|---|---:|",
        ]
        for r in results.scenarios:
            lines.append(
                f"| {r.backend} | {r.scenario} | {r.rows:,} | {r.current.describe()} "
                f"| {r.current.rate(r.rows):,.0f} |"
            )
    else:
        lines += [
            f"| backend | files imported | rows | {baseline_label}: median | rows/s "
            "| this tree: median | rows/s | speed-up (paired runs) |",
            "|---|---|---:|---|---:|---|---:|---:|",
        ]
        for r in results.scenarios:
            assert r.baseline is not None
            lines.append(
                f"| {r.backend} | {r.scenario} | {r.rows:,} | {r.baseline.describe()} "
                f"| {r.baseline.rate(r.rows):,.0f} | {r.current.describe()} "
                f"| {r.current.rate(r.rows):,.0f} | {paired_ratio(r.baseline, r.current):.2f}× |"
            )
    lines += [
        "",
        f"`dom import <folder>` end to end (start-up, migration, reading files, import, "
        f"report) on a new SQLite file: {results.cli.describe()}; `dom migrate` alone on a "
        f"new file (start-up share): {results.cli_migrate.describe()}.",
        "",
    ]
    return lines
