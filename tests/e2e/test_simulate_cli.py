"""`dom simulate` as a user runs it: generate a small scenario, validate it, replay it under two
profiles and both baselines as a table with charts and as JSON; bad files exit 2 naming the
place of each problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dom import cli
from dom.simulation.report import ROWS

DOM = str(Path(sys.executable).parent / "dom")
POLICIES = ["nearest", "myopic", "lowest-cost", "fastest"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([DOM, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("simulate") / "scenario.json"
    made = run(
        "simulate", "generate", "--nodes", "12", "--skus", "120", "--orders", "80",
        "--capacity", "tight", "--seed", "3", "-o", str(path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"wrote {path}" in made.stdout
    return path


def test_a_generated_scenario_validates(scenario: Path) -> None:
    checked = run("simulate", "validate", str(scenario))
    assert checked.returncode == 0, checked.stderr
    assert "a valid dom scenario (format version 1)" in checked.stdout
    assert "12 nodes" in checked.stdout and "80 orders over 1 day(s)" in checked.stdout


def test_two_profiles_and_both_baselines_side_by_side_as_json(scenario: Path) -> None:
    replayed = run(
        "simulate", "run", str(scenario), "--policy", "lowest-cost", "--policy", "fastest",
        "--baseline", "nearest", "--baseline", "myopic", "--json",
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    report = json.loads(replayed.stdout)
    assert report["scenario"]["orders"] == 80
    assert [p["name"] for p in report["policies"]] == POLICIES
    for policy in report["policies"]:
        metrics = policy["metrics"]
        assert {name for _, name, _ in ROWS} <= set(metrics)
        assert metrics["orders"] == 80
        assert metrics["violations"] == 0
        assert metrics["unfilled_units"] + metrics["units_shipped"] == metrics["units_ordered"]
    by_name = {p["name"]: p["metrics"] for p in report["policies"]}
    # The myopic baseline is the engine under lowest-cost, order by order: the same plans.
    assert by_name["myopic"]["cost"] == by_name["lowest-cost"]["cost"]
    assert by_name["fastest"]["delivery_days_mean"] <= by_name["lowest-cost"]["delivery_days_mean"]


def test_the_table_shows_every_metric_and_the_charts_are_written(
    scenario: Path, tmp_path: Path
) -> None:
    replayed = run(
        "simulate", "run", str(scenario), "--policy", "fastest", "--baseline", "nearest",
        "--plots", str(tmp_path / "plots"),
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    for label, _, _ in ROWS:
        assert label in replayed.stdout
    assert "nearest" in replayed.stdout and "fastest" in replayed.stdout
    charts = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert charts == ["cost.svg", "delivery.svg", "shipments.svg", "utilization.svg"]
    assert "0 violation(s)" in replayed.stderr


def break_deep_type(document: dict[str, Any]) -> None:
    document["orders"][7]["lines"][0]["quantity"] = "two"


def break_sku(document: dict[str, Any]) -> None:
    document["orders"][3]["lines"][0]["sku"] = "SKU-999999"


def break_quantity(document: dict[str, Any]) -> None:
    document["inventory"][5]["quantity"] = -1


def break_version(document: dict[str, Any]) -> None:
    document["version"] = 2


@pytest.mark.parametrize(
    ("damage", "path", "reason"),
    [
        (break_deep_type, "orders[7].lines[0].quantity", "must be an integer, not a string"),
        (break_sku, "orders[3].lines[0].sku", "unknown SKU 'SKU-999999'"),
        (break_quantity, "inventory[5].quantity", "must be at least 0, not -1"),
        (break_version, "version", "version 2 is not supported"),
    ],
)
def test_a_bad_scenario_exits_2_naming_the_place_of_the_problem(
    scenario: Path,
    tmp_path: Path,
    damage: Callable[[dict[str, Any]], None],
    path: str,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = json.loads(scenario.read_text())
    damage(document)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document, indent=1))
    # In process, to keep the suite fast; a wide console so that no cell wraps.
    monkeypatch.setattr(cli, "err", Console(stderr=True, width=200))
    checked = CliRunner().invoke(cli.app, ["simulate", "run", str(broken)])
    assert checked.exit_code == 2
    assert path in checked.stderr
    assert reason in checked.stderr
    assert "broken.json" in checked.stderr


def test_a_scenario_with_pickups_and_history_replays_a_protecting_profile(tmp_path: Path) -> None:
    path = tmp_path / "pickup.json"
    made = run(
        "simulate", "generate", "--nodes", "12", "--skus", "60", "--orders", "60", "--seed", "4",
        "--pickup-share", "0.5", "--history-days", "3", "-o", str(path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "180 past orders" in made.stdout
    checked = run("simulate", "validate", str(path))
    assert "60 orders over 1 day(s), 180 past orders" in checked.stdout
    replayed = run(
        "simulate", "run", str(path), "--baseline", "myopic", "--policy", "lowest-cost+protect",
        "--json",
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    policies = {p["name"]: p for p in json.loads(replayed.stdout)["policies"]}
    protected = policies["lowest-cost+protect"]
    assert "future value" in protected["description"]
    assert protected["metrics"]["violations"] == 0
    assert protected["metrics"]["orders"] == 60
