"""Sourcing profiles and selection rules over real HTTP: drafts, activation, diffs, dry runs, bad
input named by field, unknown versions, idempotent saves and who may change what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dom.domain.access import Role
from dom.services.keys import create_key
from tests.conftest import client_for
from tests.e2e.test_inventory_api import problem

PROFILES = "/v1/sourcing/profiles"
RULES = "/v1/sourcing/rules"
FASTER = {
    "name": "fastest",
    "description": "earliest delivery; cost breaks ties",
    "weights": {"delivery_days": 30.0},
    "constraints": {"regions": ["OH"]},
}
RULE_SET = {
    "rules": [
        {"name": "rush-tag", "when": {"any_tags": ["rush"]}, "profile": "rush"},
        {"name": "free", "when": {"free_shipping": True}, "profile": "free-shipping"},
    ],
    "fallback": "lowest-cost",
}


def fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body["errors"]}


def versions(client: httpx.Client, name: str) -> list[tuple[int, str]]:
    found = client.get(f"{PROFILES}/{name}").json()["versions"]
    return [(v["version"], v["status"]) for v in found]


def test_the_shipped_profiles_are_listed_active_on_a_new_database(admin: httpx.Client) -> None:
    listed = admin.get(PROFILES)
    assert listed.status_code == 200
    assert {(p["name"], p["active_version"]) for p in listed.json()} == {
        ("lowest-cost", 1),
        ("fastest", 1),
        ("balanced-capacity", 1),
        ("rush", 1),
        ("free-shipping", 1),
    }
    rules = admin.get(RULES).json()
    assert rules == {"active": None, "versions": []}


def test_a_draft_is_saved_shown_diffed_and_activated_retiring_the_version_before(
    admin: httpx.Client,
) -> None:
    saved = admin.post(PROFILES, json=FASTER)
    assert saved.status_code == 201, saved.text
    draft = saved.json()
    assert (draft["version"], draft["status"], draft["created_by"]) == (2, "draft", "test admin")
    assert draft["profile"]["constraints"]["regions"] == ["OH"]
    assert admin.get(f"{PROFILES}/fastest").json()["active"]["version"] == 1

    shown = admin.get(f"{PROFILES}/fastest/versions/2").json()
    assert shown["profile"] == draft["profile"]
    changes = admin.get(f"{PROFILES}/fastest/diff", params={"from": 1, "to": 2}).json()["changes"]
    assert changes == [
        {"path": "weights.delivery_days", "before": 25.0, "after": 30.0},
        {"path": "constraints.regions", "before": None, "after": ["OH"]},
    ]

    activated = admin.post(f"{PROFILES}/fastest/versions/2/activate")
    assert activated.status_code == 200
    assert activated.json() | {"activated_at": None} == {
        "version": 2,
        "status": "active",
        "activated_at": None,
        "retired": 1,
        "changed": True,
    }
    assert versions(admin, "fastest") == [(2, "active"), (1, "retired")]


def test_activating_the_active_version_again_answers_200_and_changes_nothing(
    admin: httpx.Client,
) -> None:
    again = admin.post(f"{PROFILES}/rush/versions/1/activate")
    assert again.status_code == 200
    assert (again.json()["changed"], again.json()["retired"]) == (False, None)
    assert versions(admin, "rush") == [(1, "active")]


def test_a_contradictory_profile_is_refused_naming_each_field_and_nothing_is_saved(
    admin: httpx.Client,
) -> None:
    contradictory = {
        "name": "fastest",
        "weights": {"delivery_days": -5.0},
        "constraints": {"ship_complete": True, "max_shipments": 2, "min_store_stock_left": 1},
    }
    contradictory["constraints"]["node_types"] = ["dc"]
    body = problem(admin.post(PROFILES, json=contradictory), 422, "invalid_input")
    assert fields(body) == {
        "weights.delivery_days",
        "constraints.max_shipments",
        "constraints.on_short",
        "constraints.min_store_stock_left",
    }
    reasons = {error["field"]: error["reason"] for error in body["errors"]}
    assert reasons["constraints.max_shipments"] == "ship_complete means one shipment, not 2"
    assert versions(admin, "fastest") == [(1, "active")]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"constraints": {"max_shipment": 2}}, "constraints.max_shipment"),
        ({"weights": {"delivery_days": "fast"}}, "weights.delivery_days"),
        ({"constraints": {"ship_complete": "yes"}}, "constraints.ship_complete"),
        ({"constraints": {"node_types": ["warehouse"]}}, "constraints.node_types.0"),
        ({"constraints": {"regions": ["Ohio"]}}, "constraints.regions.0"),
        ({"name": "Fast Profile"}, "name"),
    ],
)
def test_a_badly_shaped_profile_is_refused_naming_the_field(
    admin: httpx.Client, changes: dict[str, Any], field: str
) -> None:
    body = problem(admin.post(PROFILES, json=FASTER | changes), 422, "invalid_input")
    assert field in fields(body)
    assert versions(admin, "fastest") == [(1, "active")]


def test_a_version_that_is_not_the_next_one_is_refused_with_409(admin: httpx.Client) -> None:
    body = problem(admin.post(PROFILES, json=FASTER | {"version": 1}), 409, "version_taken")
    assert "the next version is 2" in body["detail"]
    assert admin.post(PROFILES, json=FASTER | {"version": 2}).status_code == 201


def test_unknown_profiles_and_versions_are_404(admin: httpx.Client) -> None:
    problem(admin.get(f"{PROFILES}/nobody"), 404, "not_found")
    problem(admin.get(f"{PROFILES}/fastest/versions/9"), 404, "not_found")
    problem(admin.post(f"{PROFILES}/fastest/versions/9/activate"), 404, "not_found")
    problem(admin.get(f"{PROFILES}/fastest/diff", params={"from": 1, "to": 9}), 404, "not_found")
    problem(admin.get(f"{RULES}/versions/1"), 404, "not_found")
    problem(admin.post(f"{RULES}/versions/1/activate"), 404, "not_found")


def test_a_retried_save_with_its_idempotency_key_replays_the_draft(admin: httpx.Client) -> None:
    headers = {"Idempotency-Key": "save-fastest-1"}
    first = admin.post(PROFILES, json=FASTER, headers=headers)
    again = admin.post(PROFILES, json=FASTER, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = FASTER | {"description": "another"}
    problem(admin.post(PROFILES, json=other, headers=headers), 422, "idempotency_key_reused")
    assert versions(admin, "fastest") == [(2, "draft"), (1, "active")]


def test_rules_are_saved_activated_and_dry_run_on_sample_orders(admin: httpx.Client) -> None:
    saved = admin.post(RULES, json=RULE_SET, headers={"Idempotency-Key": "rules-1"})
    assert saved.status_code == 201, saved.text
    assert _without_nulls(saved.json()["rule_set"]) == {"version": 1, **RULE_SET}
    orders = [{"tags": ["rush"]}, {"free_shipping": True, "value": 40.0}, {"channel": "web"}]
    tried = admin.post(f"{RULES}/dry-run", json={"rules_version": 1, "orders": orders})
    assert tried.status_code == 200, tried.text
    assert [(s["rule"], s["profile"], s["version"]) for s in tried.json()["selections"]] == [
        ("rush-tag", "rush", 1),
        ("free", "free-shipping", 1),
        (None, "lowest-cost", 1),
    ]
    assert admin.post(f"{RULES}/versions/1/activate").json()["changed"] is True
    active = admin.get(RULES).json()["active"]
    assert (active["version"], active["rule_set"]["fallback"]) == (1, "lowest-cost")
    as_is = admin.post(f"{RULES}/dry-run", json={"orders": orders}).json()
    assert as_is["rules_version"] == 1


def test_a_dry_run_tries_a_draft_profile_in_place_of_the_active_one(admin: httpx.Client) -> None:
    admin.post(PROFILES, json=FASTER)
    body = {"profiles": [{"name": "fastest", "version": 2}], "orders": [{}]}
    admin.post(RULES, json={"rules": [], "fallback": "fastest"})
    tried = admin.post(f"{RULES}/dry-run", json=body | {"rules_version": 1}).json()
    assert tried["selections"] == [{"order": 0, "rule": None, "profile": "fastest", "version": 2}]
    missing = {"profiles": [{"name": "fastest", "version": 7}], "orders": [{}]}
    problem(admin.post(f"{RULES}/dry-run", json=missing), 404, "not_found")


def test_rules_naming_an_unknown_profile_are_refused_and_nothing_is_saved(
    admin: httpx.Client,
) -> None:
    bad = {**RULE_SET, "rules": [*RULE_SET["rules"], {"name": "vip", "profile": "ghost"}]}
    body = problem(admin.post(RULES, json=bad), 422, "invalid_input")
    assert fields(body) == {"rules.2.profile"}
    assert "ghost" in body["errors"][0]["reason"]
    assert admin.get(RULES).json()["versions"] == []


def test_rules_that_never_hold_or_hide_later_rules_are_refused(admin: httpx.Client) -> None:
    bad = {
        "rules": [
            {"name": "all", "when": {}, "profile": "fastest"},
            {"name": "band", "when": {"min_value": 100.0, "max_value": 50.0}, "profile": "rush"},
            {"name": "band", "when": {"channels": []}, "profile": "rush"},
        ],
        "fallback": "lowest-cost",
    }
    body = problem(admin.post(RULES, json=bad), 422, "invalid_input")
    assert fields(body) == {"rules.0.when", "rules.1.when", "rules.2.name", "rules.2.when.channels"}


def test_rules_activate_only_when_every_profile_they_name_is_active(admin: httpx.Client) -> None:
    assert admin.post(PROFILES, json={"name": "store-first"}).status_code == 201
    rules = {"rules": [{"name": "oh", "when": {"regions": ["OH"]}, "profile": "store-first"}]}
    assert admin.post(RULES, json=rules | {"fallback": "lowest-cost"}).status_code == 201
    body = problem(admin.post(f"{RULES}/versions/1/activate"), 422, "profile_not_active")
    assert fields(body) == {"rules.0.profile"}
    assert admin.get(RULES).json()["active"] is None
    assert admin.post(f"{PROFILES}/store-first/versions/1/activate").status_code == 200
    assert admin.post(f"{RULES}/versions/1/activate").status_code == 200


def test_viewers_and_channels_read_profiles_but_cannot_change_them(
    server: str, engine: Engine, admin: httpx.Client
) -> None:
    admin.post(PROFILES, json=FASTER)
    admin.post(RULES, json=RULE_SET)
    readers = {
        "viewer": create_key(engine, "viewer", Role.VIEWER).token,
        "channel": create_key(engine, "shop", Role.CHANNEL, channel="web").token,
    }
    for who, token in readers.items():
        with client_for(server, token) as client:
            assert client.get(PROFILES).status_code == 200, who
            assert client.get(f"{PROFILES}/fastest/diff?from=1&to=2").status_code == 200, who
            dry = client.post(f"{RULES}/dry-run", json={"rules_version": 1, "orders": [{}]})
            assert dry.status_code == 200, who
            for method, path, body in (
                ("POST", PROFILES, FASTER),
                ("POST", f"{PROFILES}/fastest/versions/2/activate", None),
                ("POST", RULES, RULE_SET),
                ("POST", f"{RULES}/versions/1/activate", None),
            ):
                refused = client.request(method, path, json=body)
                problem(refused, 403, "forbidden")
    assert versions(admin, "fastest") == [(2, "draft"), (1, "active")]
    assert [v["status"] for v in admin.get(RULES).json()["versions"]] == ["draft"]
    with client_for(server, None) as anonymous:
        problem(anonymous.get(PROFILES), 401, "unauthenticated")


def _without_nulls(document: Any) -> Any:
    """A document as posted: the fields it left out read back as null."""
    if isinstance(document, dict):
        return {k: _without_nulls(v) for k, v in document.items() if v is not None}
    if isinstance(document, list):
        return [_without_nulls(v) for v in document]
    return document
