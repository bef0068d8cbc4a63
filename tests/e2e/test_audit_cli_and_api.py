"""`dom audit` as a scheduled job runs it, and GET /v1/audit over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dom.adapters.database import make_engine
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.services import masterdata
from dom.services.keys import create_key
from dom.services.schema import migrate
from tests.conftest import client_for

DATA = Path(__file__).resolve().parent.parent / "data" / "audit"
DOM = Path(sys.executable).with_name("dom")


def import_file(engine: Engine, zips: ZipDirectory, name: str) -> None:
    data = json.loads((DATA / f"{name}.json").read_text())
    bundle = masterdata.bundle_from_json(data, name)
    masterdata.import_master_data(engine, LOCAL_OPERATOR, bundle, zips)


# ---- the command line --------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated SQLite file and its URL, as `dom` would find it through DOM_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    yield url, engine
    engine.dispose()


def dom_audit(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DOM_DATABASE_URL": url, "COLUMNS": "250"}
    return subprocess.run(
        [str(DOM), "audit", *options],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_exits_0_and_reports_nothing_on_clean_data(
    database: tuple[str, Engine], zips: ZipDirectory
) -> None:
    url, engine = database
    import_file(engine, zips, "clean")

    run = dom_audit(url, "--format", "json")

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["findings"] == []
    assert report["summary"] == {"error": 0, "warning": 0, "info": 0, "total": 0}
    assert report["examined"] == {"nodes": 3, "products": 41, "carrier_services": 1, "positions": 0}


def test_the_command_exits_2_on_errors_and_lists_them_as_json(
    database: tuple[str, Engine], zips: ZipDirectory
) -> None:
    url, engine = database
    import_file(engine, zips, "clean")
    import_file(engine, zips, "planted")

    run = dom_audit(url, "--format", "json", "--fail-on", "error")

    assert run.returncode == 2, run.stderr
    report = json.loads(run.stdout)
    assert report["exit_code"] == 2
    subjects = {(f["check"], f["subject"]["id"]) for f in report["findings"]}
    assert ("node.coordinates_far_from_zip", "dc-denver-coords") in subjects
    assert ("carrier.rate_inversion", "testco/inverted") in subjects
    assert len(subjects) == report["summary"]["total"] == 15
    impacts = [f["impact"] for f in report["findings"]]
    assert impacts == sorted(impacts, reverse=True)


def test_warnings_fail_the_command_only_when_it_fails_on_warnings(
    database: tuple[str, Engine], zips: ZipDirectory
) -> None:
    url, engine = database
    data = json.loads((DATA / "clean.json").read_text())
    data["nodes"][1]["city"] = "Evanston"  # 60614 is Chicago: a city mismatch is a warning
    masterdata.import_master_data(engine, LOCAL_OPERATOR, masterdata.bundle_from_json(data), zips)

    on_warning = dom_audit(url, "--format", "json", "--fail-on", "warning")
    on_error = dom_audit(url, "--format", "json", "--fail-on", "error")

    assert on_warning.returncode == 1, on_warning.stderr
    assert on_error.returncode == 0, on_error.stderr
    assert json.loads(on_error.stdout)["summary"]["warning"] == 1


def test_the_table_ranks_findings_and_sums_them_up(
    database: tuple[str, Engine], zips: ZipDirectory
) -> None:
    url, engine = database
    import_file(engine, zips, "clean")
    import_file(engine, zips, "planted")

    run = dom_audit(url)

    assert run.returncode == 2, run.stderr
    lines = run.stdout.splitlines()
    denver = next(i for i, line in enumerate(lines) if "dc-denver-coords" in line)
    no_labour = next(i for i, line in enumerate(lines) if "store-no-labour" in line)
    assert denver < no_labour
    assert "node.coordinates_far_from_zip" in lines[denver]
    assert (
        "7 errors, 8 warnings, 0 info (examined: nodes 12, products 45, carrier services 3, positions 0)"
        in run.stdout
    )


def test_the_table_on_clean_data_says_there_are_no_findings(
    database: tuple[str, Engine], zips: ZipDirectory
) -> None:
    url, engine = database
    import_file(engine, zips, "clean")

    run = dom_audit(url, "--format", "table")

    assert run.returncode == 0, run.stderr
    assert (
        "no findings (examined: nodes 3, products 41, carrier services 1, positions 0)"
        in run.stdout
    )


@pytest.mark.parametrize(
    ("option", "value"), [("--fail-on", "fatal"), ("--format", "xml"), ("--stale-days", "0")]
)
def test_a_bad_option_is_a_usage_error(
    database: tuple[str, Engine], option: str, value: str
) -> None:
    url, _ = database

    run = dom_audit(url, option, value)

    assert run.returncode == 2
    assert run.stdout == ""
    assert option in run.stderr


def test_an_unmigrated_database_fails_instead_of_passing(tmp_path: Path) -> None:
    run = dom_audit(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "--format", "json")

    assert run.returncode == 2
    assert run.stdout == ""
    assert "dom migrate" in run.stderr


# ---- the API -----------------------------------------------------------------------------------


@pytest.fixture
def planted(engine: Engine, zips: ZipDirectory) -> Engine:
    import_file(engine, zips, "clean")
    import_file(engine, zips, "planted")
    return engine


def test_an_admin_gets_the_ranked_report(planted: Engine, admin: httpx.Client) -> None:
    response = admin.get("/v1/audit")

    assert response.status_code == 200
    report: dict[str, Any] = response.json()
    assert report["fail_on"] == "warning"
    assert report["exit_code"] == 2
    assert report["summary"] == {"error": 7, "warning": 8, "info": 0, "total": 15}
    first = report["findings"][0]
    assert set(first) == {"check", "severity", "subject", "message", "impact"}
    assert first["severity"] == "error"
    assert first["subject"]["kind"] in ("node", "carrier_service")


def test_a_viewer_may_audit(planted: Engine, server: str) -> None:
    token = create_key(planted, "auditor", Role.VIEWER).token
    with client_for(server, token) as viewer:
        response = viewer.get("/v1/audit", params={"fail_on": "error", "stale_days": 7})

    assert response.status_code == 200
    assert response.json()["fail_on"] == "error"
    assert response.json()["summary"]["total"] == 15


def test_a_channel_may_not_audit(planted: Engine, server: str) -> None:
    token = create_key(planted, "web shop", Role.CHANNEL, channel="web").token
    with client_for(server, token) as channel:
        response = channel.get("/v1/audit")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("params", [{"fail_on": "fatal"}, {"stale_days": "0"}])
def test_a_bad_parameter_is_a_422_problem(admin: httpx.Client, params: dict[str, str]) -> None:
    response = admin.get("/v1/audit", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert [error["field"] for error in problem["errors"]] == list(params)


def test_without_a_key_the_audit_is_refused(server: str) -> None:
    with client_for(server, None) as anonymous:
        assert anonymous.get("/v1/audit").status_code == 401
