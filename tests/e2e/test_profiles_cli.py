"""`dom profiles` and `dom rules` as a user runs them: show a profile, edit it, save the draft,
diff and activate it; save, dry-run and activate selection rules; bad files exit 2 and save
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DOM = str(Path(sys.executable).parent / "dom")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "COLUMNS": "200",
    }
    return subprocess.run([DOM, *args], capture_output=True, text=True, env=env, timeout=120)


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_profile_is_shown_edited_saved_diffed_and_activated(tmp_path: Path) -> None:
    listed = run(tmp_path, "profiles", "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("lowest-cost", "fastest", "balanced-capacity", "rush", "free-shipping"):
        assert name in listed.stdout
    shown = run(tmp_path, "profiles", "show", "rush")
    assert shown.returncode == 0, shown.stderr
    assert "rush v1: active" in shown.stderr
    document = json.loads(shown.stdout)
    document["constraints"]["max_shipments"] = 3
    saved = run(tmp_path, "profiles", "save", str(write(tmp_path / "rush.json", document)))
    assert saved.returncode == 0, saved.stderr
    assert "saved rush v2 as a draft" in saved.stdout

    diffed = run(tmp_path, "profiles", "diff", "rush", "1", "2")
    assert diffed.returncode == 0, diffed.stderr
    assert "constraints.max_shipments" in diffed.stdout
    assert "no differences" in run(tmp_path, "profiles", "diff", "rush", "2", "2").stdout

    activated = run(tmp_path, "profiles", "activate", "rush", "2")
    assert activated.returncode == 0, activated.stderr
    assert "rush v2 is active; v1 retired" in activated.stdout
    again = run(tmp_path, "profiles", "activate", "rush", "2")
    assert "was active already" in again.stdout
    assert json.loads(run(tmp_path, "profiles", "show", "rush").stdout) == document
    old = run(tmp_path, "profiles", "show", "rush", "--version", "1")
    assert "rush v1: retired" in old.stderr


def test_a_contradictory_profile_file_exits_2_naming_each_field_and_saves_nothing(
    tmp_path: Path,
) -> None:
    bad = {"name": "fastest", "constraints": {"ship_complete": True, "max_shipments": 2}}
    refused = run(tmp_path, "profiles", "save", str(write(tmp_path / "bad.json", bad)))
    assert refused.returncode == 2
    assert "constraints.max_shipments" in refused.stderr
    assert "constraints.on_short" in refused.stderr
    shaped = {"name": "fastest", "weights": {"delivery_days": "soon"}}
    refused = run(tmp_path, "profiles", "save", str(write(tmp_path / "shape.json", shaped)))
    assert refused.returncode == 2 and "weights.delivery_days" in refused.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert run(tmp_path, "profiles", "save", str(broken)).returncode == 2
    missing = run(tmp_path, "profiles", "show", "fastest", "--version", "2")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_rules_are_saved_dry_run_and_activated_from_files(tmp_path: Path) -> None:
    assert run(tmp_path, "rules", "show").stdout.strip().startswith("{")
    rules = {
        "rules": [{"name": "rush-tag", "when": {"any_tags": ["rush"]}, "profile": "rush"}],
        "fallback": "lowest-cost",
    }
    saved = run(tmp_path, "rules", "save", str(write(tmp_path / "rules.json", rules)))
    assert saved.returncode == 0, saved.stderr
    assert "saved rules v1 as a draft" in saved.stdout
    orders = write(tmp_path / "orders.json", [{"tags": ["rush"]}, {"channel": "web"}])
    tried = run(tmp_path, "rules", "dry-run", str(orders), "--rules-version", "1", "--json")
    assert tried.returncode == 0, tried.stderr
    picks = [(s["rule"], s["profile"]) for s in json.loads(tried.stdout)["selections"]]
    assert picks == [("rush-tag", "rush"), (None, "lowest-cost")]

    activated = run(tmp_path, "rules", "activate", "1")
    assert activated.returncode == 0, activated.stderr
    assert "rules v1 is active" in activated.stdout
    assert json.loads(run(tmp_path, "rules", "show").stdout) == rules
    table = run(tmp_path, "rules", "dry-run", str(orders))
    assert "rush-tag" in table.stdout and "2 orders under rules v1" in table.stdout
    listed = run(tmp_path, "rules", "list")
    assert "v1" in listed.stdout and "active" in listed.stdout


def test_rules_naming_an_unknown_profile_exit_2_and_save_nothing(tmp_path: Path) -> None:
    rules = {"rules": [{"name": "vip", "profile": "ghost"}], "fallback": "lowest-cost"}
    refused = run(tmp_path, "rules", "save", str(write(tmp_path / "rules.json", rules)))
    assert refused.returncode == 2
    assert "rules.0.profile" in refused.stderr and "ghost" in refused.stderr
    assert "no rules saved yet" in run(tmp_path, "rules", "list").stdout


def test_a_dry_run_profile_option_must_be_name_colon_version(tmp_path: Path) -> None:
    orders = write(tmp_path / "orders.json", [{}])
    refused = run(tmp_path, "rules", "dry-run", str(orders), "--profile", "fastest")
    assert refused.returncode == 2
    assert "NAME:VERSION" in refused.stderr
