"""The sourcing profile registry on SQLite and PostgreSQL: drafts, activation, retirement, diffs,
selection rules, dry runs and what routing reads, including racing writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from dom.adapters.database import reading, writing
from dom.adapters.network_cache import network
from dom.adapters.tables import sourcing_profiles
from dom.domain.access import LOCAL_OPERATOR, Principal, Role
from dom.domain.errors import Forbidden, InvalidInput, NotFound
from dom.domain.sourcing.profiles import (
    SHIPPED_PROFILES,
    Conditions,
    OrderFacts,
    Rule,
    Weights,
)
from dom.schemas.sourcing import ProfileDoc, RuleSetDoc
from dom.services import profiles
from dom.services.profiles import (
    Change,
    ProfileNotActive,
    Selected,
    VersionTaken,
    activate,
    activate_rules,
    active_routing,
    diff,
    dry_run,
    save_draft,
    save_rules_draft,
)

ADMIN = LOCAL_OPERATOR
VIEWER = Principal("v", "viewer", Role.VIEWER)
RULES = {
    "rules": [
        {"name": "rush-tag", "when": {"any_tags": ["rush"]}, "profile": "rush"},
        {"name": "overnight", "when": {"service_levels": ["overnight"]}, "profile": "fastest"},
    ],
    "fallback": "lowest-cost",
}


def profile(name: str = "fastest", **changes: Any) -> ProfileDoc:
    body: dict[str, Any] = {"name": name, "weights": {"delivery_days": 30.0}}
    body.update(changes)
    return ProfileDoc.model_validate(body)


def rules(body: dict[str, Any] | None = None) -> RuleSetDoc:
    return RuleSetDoc.model_validate(body or RULES)


def statuses(engine: Engine, name: str) -> dict[int, str]:
    history = profiles.profile_history(engine, ADMIN, name)
    return {info.version: info.status for info in history.versions}


def test_a_fresh_database_routes_with_the_shipped_profiles_and_no_rules(engine: Engine) -> None:
    routing = active_routing(engine)
    assert dict(routing.profiles) == {p.name: p for p in SHIPPED_PROFILES}
    assert dict(routing.versions) == {p.name: 1 for p in SHIPPED_PROFILES}
    assert routing.rules == ()
    assert routing.fallback == "lowest-cost"
    assert [s.active_version for s in profiles.list_profiles(engine, VIEWER)] == [1] * 5


def test_a_draft_is_kept_aside_until_activated_then_the_version_before_retires(
    engine: Engine,
) -> None:
    version = save_draft(engine, ADMIN, profile())
    assert version == 2
    assert active_routing(engine).versions["fastest"] == 1
    assert profiles.profile_version(engine, "fastest", 2).weights == Weights(delivery_days=30.0)
    done = activate(engine, ADMIN, "fastest", 2)
    assert (done.changed, done.retired) == (True, 1)
    routing = active_routing(engine)
    assert routing.versions["fastest"] == 2
    assert routing.profiles["fastest"].weights.delivery_days == 30.0
    assert statuses(engine, "fastest") == {2: "active", 1: "retired"}


def test_a_version_activated_after_the_network_was_read_is_routed_in_the_same_transaction(
    engine: Engine,
) -> None:
    save_draft(engine, ADMIN, profile())
    assert active_routing(engine).versions["fastest"] == 1  # kept by the process
    with writing(engine) as connection:
        network(connection)  # reads the active routing versions with the network's token
        t = sourcing_profiles
        missing = NotFound("profile version", "fastest v2")
        profiles._activate(connection, t, t.c.name == "fastest", 2, missing)
        assert profiles.active_routing_in(connection).versions["fastest"] == 2


def test_activating_the_active_version_again_changes_nothing(engine: Engine) -> None:
    first = activate(engine, ADMIN, "rush", 1)
    again = activate(engine, ADMIN, "rush", 1)
    assert (first.changed, again.changed) == (False, False)
    assert again.activated_at == first.activated_at


def test_a_retired_version_is_activated_again_to_roll_back(engine: Engine) -> None:
    save_draft(engine, ADMIN, profile())
    activate(engine, ADMIN, "fastest", 2)
    rollback = activate(engine, ADMIN, "fastest", 1)
    assert rollback.retired == 2
    assert active_routing(engine).profiles["fastest"] == SHIPPED_PROFILES[1]
    assert statuses(engine, "fastest") == {2: "retired", 1: "active"}


def test_a_new_name_starts_at_version_1_with_no_active_version(engine: Engine) -> None:
    assert save_draft(engine, ADMIN, profile("store-first")) == 1
    assert "store-first" not in active_routing(engine).profiles
    history = profiles.profile_history(engine, ADMIN, "store-first")
    assert history.active is None and [v.status for v in history.versions] == ["draft"]


def test_a_contradictory_profile_is_refused_with_every_problem_and_nothing_is_saved(
    engine: Engine,
) -> None:
    bad = profile(
        weights={"shipping_cost": -1.0},
        constraints={"ship_complete": True, "max_shipments": 3, "node_types": []},
    )
    with pytest.raises(InvalidInput) as refused:
        save_draft(engine, ADMIN, bad)
    assert {p.field for p in refused.value.problems} == {
        "weights.shipping_cost",
        "constraints.max_shipments",
        "constraints.on_short",
        "constraints.node_types",
    }
    assert statuses(engine, "fastest") == {1: "active"}


def test_a_version_given_on_save_must_be_the_next_one(engine: Engine) -> None:
    with pytest.raises(VersionTaken) as taken:
        save_draft(engine, ADMIN, profile(version=1))
    assert "the next version is 2" in taken.value.detail
    assert save_draft(engine, ADMIN, profile(version=2)) == 2


def test_a_missing_version_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        activate(engine, ADMIN, "fastest", 9)
    with pytest.raises(NotFound):
        activate(engine, ADMIN, "nobody", 1)
    with pytest.raises(NotFound):
        profiles.profile_version(engine, "fastest", 2)


def test_a_diff_lists_each_changed_field_with_before_and_after(engine: Engine) -> None:
    changed = profile(
        description="faster, DCs only",
        constraints={"node_types": ["dc"], "max_distance_miles": 900.0},
    )
    save_draft(engine, ADMIN, changed)
    assert diff(engine, VIEWER, "fastest", 1, 2) == [
        Change("description", "earliest delivery; cost breaks ties", "faster, DCs only"),
        Change("weights.delivery_days", 25.0, 30.0),
        Change("constraints.node_types", None, ["dc"]),
        Change("constraints.max_distance_miles", None, 900.0),
    ]
    assert diff(engine, VIEWER, "fastest", 2, 2) == []


def test_rules_naming_an_unknown_profile_are_refused_and_nothing_is_saved(engine: Engine) -> None:
    body = {**RULES, "fallback": "cheapest"}
    body["rules"] = [*RULES["rules"], {"name": "vip", "when": {}, "profile": "ghost"}]
    with pytest.raises(InvalidInput) as refused:
        save_rules_draft(engine, ADMIN, rules(body))
    assert {p.field for p in refused.value.problems} == {"rules.2.profile", "fallback"}
    assert profiles.rule_history(engine, ADMIN).versions == []


def test_rules_naming_a_draft_profile_are_saved_but_activate_only_once_it_is_active(
    engine: Engine,
) -> None:
    save_draft(engine, ADMIN, profile("store-first"))
    body = {"rules": [{"name": "local", "when": {"regions": ["OH"]}, "profile": "store-first"}]}
    version = save_rules_draft(engine, ADMIN, rules({**body, "fallback": "lowest-cost"}))
    with pytest.raises(ProfileNotActive) as refused:
        activate_rules(engine, ADMIN, version)
    assert [p.field for p in refused.value.problems] == ["rules.0.profile"]
    assert active_routing(engine).rules == ()
    activate(engine, ADMIN, "store-first", 1)
    assert activate_rules(engine, ADMIN, version).changed
    routing = active_routing(engine)
    assert routing.rules == (Rule("local", Conditions(regions=frozenset({"OH"})), "store-first"),)
    assert routing.versions["store-first"] == 1


def test_activating_rules_retires_the_rules_before_and_the_diff_shows_why(engine: Engine) -> None:
    first = save_rules_draft(engine, ADMIN, rules())
    activate_rules(engine, ADMIN, first)
    second = save_rules_draft(engine, ADMIN, rules({**RULES, "fallback": "balanced-capacity"}))
    assert activate_rules(engine, ADMIN, second).retired == first
    assert active_routing(engine).fallback == "balanced-capacity"
    history = profiles.rule_history(engine, ADMIN)
    assert [(v.version, v.status) for v in history.versions] == [(2, "active"), (1, "retired")]
    assert profiles.diff_rules(engine, ADMIN, first, second) == [
        Change("fallback", "lowest-cost", "balanced-capacity")
    ]


def test_a_dry_run_shows_the_rule_and_version_each_order_gets_with_drafts_tried(
    engine: Engine,
) -> None:
    draft_rules = save_rules_draft(engine, ADMIN, rules())
    draft_rush = save_draft(engine, ADMIN, profile("rush"))
    orders = [
        OrderFacts(tags=frozenset({"rush"})),
        OrderFacts(service_level="overnight"),
        OrderFacts(channel="web"),
    ]
    as_is = dry_run(engine, VIEWER, orders)
    assert as_is.rules_version is None
    assert {s.profile for s in as_is.selections} == {"lowest-cost"}
    tried = dry_run(engine, VIEWER, orders, draft_rules, [("rush", draft_rush)])
    assert tried.rules_version == draft_rules
    assert tried.selections == [
        Selected(0, "rush-tag", "rush", 2),
        Selected(1, "overnight", "fastest", 1),
        Selected(2, None, "lowest-cost", 1),
    ]
    assert active_routing(engine).versions["rush"] == 1  # a dry run changes nothing
    with pytest.raises(NotFound):
        dry_run(engine, VIEWER, orders, rules_version=7)


def test_readers_read_but_only_admins_save_or_activate(engine: Engine) -> None:
    channel = Principal("c", "web", Role.CHANNEL, channel="web")
    for reader in (VIEWER, channel):
        assert profiles.list_profiles(engine, reader)
        with pytest.raises(Forbidden):
            save_draft(engine, reader, profile())
        with pytest.raises(Forbidden):
            activate(engine, reader, "fastest", 1)
        with pytest.raises(Forbidden):
            save_rules_draft(engine, reader, rules())
    assert statuses(engine, "fastest") == {1: "active"}


def test_the_database_refuses_a_second_active_version_of_a_name(engine: Engine) -> None:
    now = datetime.now(UTC)
    row = {
        "name": "fastest",
        "version": 2,
        "status": "active",
        "body": {},
        "created_at": now,
        "created_by": "test",
        "activated_at": now,
    }
    with pytest.raises(IntegrityError), writing(engine) as connection:
        connection.execute(insert(sourcing_profiles).values(**row))


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together; every result or error, in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def test_racing_first_saves_of_a_new_name_each_get_their_own_version(engine: Engine) -> None:
    results = race(8, lambda i: save_draft(engine, ADMIN, profile("racer")))
    assert sorted(results) == list(range(1, 9))


def test_racing_activations_leave_exactly_one_active_version(engine: Engine) -> None:
    for _ in range(5):
        save_draft(engine, ADMIN, profile())
    results = race(6, lambda i: activate(engine, ADMIN, "fastest", i + 1))
    assert not [r for r in results if isinstance(r, Exception)]
    with reading(engine) as connection:
        active = connection.execute(
            select(sourcing_profiles.c.version).where(
                sourcing_profiles.c.name == "fastest", sourcing_profiles.c.status == "active"
            )
        ).all()
    assert len(active) == 1
    assert sum(1 for r in results if r.retired is None and r.changed) == 0
