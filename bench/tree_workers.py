"""Worker processes that each import `dom` from another tree, for side-by-side benchmarks.

A worker is `python -m <module> [args…]` with that tree's `src` first on PYTHONPATH; it answers
each line written to its stdin with one JSON line on its stdout (its first line says which `dom`
it imported) and stops on `quit`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


class TreeWorker:
    def __init__(self, src: Path, module: str, *args: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT)])
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.dom = self._answer()["dom"]

    def ask(self, *words: object) -> dict[str, Any]:
        """Send one request (words joined by spaces) and wait for its answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join(str(word) for word in words) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        out: IO[str] | None = self.process.stdout
        assert out is not None
        line = out.readline()
        if not line:
            raise RuntimeError(f"worker ended: {self.process.wait()}")
        return dict(json.loads(line))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait(timeout=60)


def add_tree_arguments(parser: argparse.ArgumentParser) -> None:
    """`--baseline-src` and `--src`: the trees a side-by-side benchmark times."""
    parser.add_argument("--baseline-src", type=Path, help="another tree's src folder")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the src folder to time against it"
    )


def tree_sources(options: argparse.Namespace) -> list[tuple[str, Path]]:
    """(name in the report, src folder) of the trees `add_tree_arguments` chose, the baseline
    first."""
    current = options.src.resolve()
    sources = [("this tree" if current == ROOT / "src" else f"`{options.src}`", current)]
    if options.baseline_src is not None:
        sources.insert(0, (f"`{options.baseline_src}`", options.baseline_src.resolve()))
    return sources


@contextmanager
def tree_workers(sources: Sequence[Path], module: str, *args: str) -> Iterator[list[TreeWorker]]:
    """One worker per tree, all stopped when the block ends."""
    with ExitStack() as stack:
        started = []
        for src in sources:
            worker = TreeWorker(src, module, *args)
            stack.callback(worker.close)
            started.append(worker)
        yield started
