"""The demand forecast as admins reach it: refresh it and see when it was computed, over real
HTTP and with `dom forecast`; a non-positive number of days is refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import Engine

from dom.domain.access import Role
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.e2e.test_cli import run
from tests.e2e.test_inventory_api import problem


def test_an_admin_refreshes_the_forecast_and_sees_when_it_was_computed(
    admin: httpx.Client,
) -> None:
    before = admin.get("/v1/forecast")
    assert before.status_code == 200
    assert before.json()["refreshed_at"] is None and before.json()["forecast_id"] is None
    done = admin.post("/v1/forecast/refresh", json={"days": 7})
    assert done.status_code == 200, done.text
    assert done.json()["refreshed_at"] is not None
    assert done.json()["forecast_id"] is None  # no orders yet: nothing to protect
    assert admin.get("/v1/forecast").json() == done.json()
    assert admin.post("/v1/forecast/refresh").status_code == 200  # no body: 28 days


def test_a_refresh_over_no_days_is_a_problem_naming_the_field(admin: httpx.Client) -> None:
    for days in (0, -1):
        body = problem(
            admin.post("/v1/forecast/refresh", json={"days": days}), 422, "invalid_input"
        )
        assert [e["field"] for e in body["errors"]] == ["days"]
    body = problem(admin.post("/v1/forecast/refresh", json={"weeks": 4}), 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["weeks"]
    assert admin.get("/v1/forecast").json()["refreshed_at"] is None


def test_a_viewer_sees_the_forecast_but_cannot_refresh_it(server: str, engine: Engine) -> None:
    with client_for(server, create_key(engine, "viewer", Role.VIEWER).token) as viewer:
        assert viewer.get("/v1/forecast").status_code == 200
        problem(viewer.post("/v1/forecast/refresh", json={}), 403, "forbidden")


def test_dom_forecast_refresh_and_show(tmp_path: Path) -> None:
    never = run(tmp_path, "forecast", "show")
    assert never.returncode == 0, never.stderr
    assert "never refreshed" in never.stdout
    refused = run(tmp_path, "forecast", "refresh", "--days", "0")
    assert refused.returncode == 2
    assert "days" in refused.stderr and "at least 1" in refused.stderr
    done = run(tmp_path, "forecast", "refresh", "--days", "14", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["refreshed_at"] is not None and found["forecast_id"] is None
    shown = run(tmp_path, "forecast", "show")
    assert "no order history" in shown.stdout


def test_the_worker_refreshes_the_forecast_in_its_rounds(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    ran = run(tmp_path, "worker", "--once")
    assert ran.returncode == 0, ran.stderr
    assert "demand forecast cells refreshed: 0" in ran.stdout
    assert "no order history when last refreshed" in run(tmp_path, "forecast", "show").stdout
