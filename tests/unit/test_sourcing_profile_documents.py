"""Profiles and selection rules as JSON documents: every profile survives the trip to JSON and
back, shape problems name their field, diffs name each changed leaf, only admins manage them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dom.domain.access import Action, Principal, Role
from dom.domain.errors import InvalidInput
from dom.domain.network import NodeType
from dom.domain.sourcing.profiles import (
    SHIPPED_PROFILES,
    Conditions,
    Constraints,
    OnShort,
    OrderFacts,
    Profile,
    Rule,
    Weights,
)
from dom.services.profiles import (
    Change,
    RuleSet,
    changes,
    order_facts_documents,
    profile_as_document,
    profile_document,
    rule_set_body,
    rule_set_document,
    to_order_facts,
    to_profile,
    to_rule_set,
)

amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
codes = st.text(alphabet="abcdefghij-", min_size=1, max_size=8)
states = st.sampled_from(["OH", "CA", "NY", "TX"])


def some(items: st.SearchStrategy[Any]) -> st.SearchStrategy[frozenset[Any] | None]:
    return st.none() | st.frozensets(items, min_size=1, max_size=4)


profiles_ = st.builds(
    Profile,
    name=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    version=st.integers(1, 50),
    description=st.text(max_size=40).map(str.strip),  # documents strip whitespace
    weights=st.builds(
        Weights,
        shipping_cost=amounts,
        handling_cost=amounts,
        delivery_days=amounts,
        split_penalty=amounts,
        capacity_balance=amounts,
        inventory_protection=amounts,
    ),
    constraints=st.builds(
        Constraints,
        max_shipments=st.none() | st.integers(1, 9),
        ship_complete=st.booleans(),
        node_types=some(st.sampled_from(list(NodeType))),
        regions=some(states),
        min_store_stock_left=st.integers(0, 9),
        carriers=some(codes),
        services=some(st.builds(lambda c, s: f"{c}/{s}", codes, codes)),
        max_distance_miles=st.none() | amounts,
        on_short=st.sampled_from(list(OnShort)),
    ),
)


@given(profiles_)
def test_every_profile_survives_the_trip_to_json_and_back(profile: Profile) -> None:
    text = json.dumps(profile_as_document(profile))
    assert to_profile(profile_document(json.loads(text)), profile.version) == profile


@pytest.mark.parametrize("profile", SHIPPED_PROFILES, ids=lambda p: p.name)
def test_the_shipped_profiles_have_no_problems(profile: Profile) -> None:
    assert profile.problems() == []


def test_rules_survive_the_trip_to_json_and_back_listing_only_the_conditions_they_test() -> None:
    rule_set = RuleSet(
        (
            Rule("big-web", Conditions(channels=frozenset({"web"}), min_value=200.0), "fastest"),
            Rule("free", Conditions(free_shipping=False), "lowest-cost"),
        ),
        "balanced-capacity",
    )
    body = rule_set_body(rule_set)
    assert body["rules"][0]["when"] == {"channels": ["web"], "min_value": 200.0}
    assert body["rules"][1]["when"] == {"free_shipping": False}
    assert to_rule_set(rule_set_document(json.loads(json.dumps(body)))) == rule_set


def test_sample_orders_read_from_json_become_order_facts() -> None:
    [order] = order_facts_documents([{"tags": ["rush", "gift"], "value": 12, "region": "OH"}])
    assert to_order_facts(order) == OrderFacts(
        tags=frozenset({"rush", "gift"}), value=12.0, region="OH"
    )


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"name": "x", "weights": {"delivery_days": "1"}}, "weights.delivery_days"),
        ({"name": "x", "constraints": {"max_shipments": 1.5}}, "constraints.max_shipments"),
        ({"name": "x", "constraints": {"ship_complete": 1}}, "constraints.ship_complete"),
        ({"name": "x", "constraints": {"services": ["parcelco"]}}, "constraints.services.0"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"weights": {}}, "name"),
    ],
)
def test_a_badly_shaped_document_names_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        profile_document(document)
    assert field in {p.field for p in refused.value.problems}


def test_a_bad_sample_order_names_its_position_and_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        order_facts_documents([{}, {"free_shipping": "yes"}])
    assert [p.field for p in refused.value.problems] == ["1.free_shipping"]


def test_changes_name_each_leaf_that_differs_and_rules_by_position() -> None:
    before = {"rules": [{"name": "a", "when": {"channels": ["web"]}}], "fallback": "x"}
    after = {"rules": [{"name": "a", "when": {}}, {"name": "b", "when": {}}], "fallback": "x"}
    assert changes(before, after) == [
        Change("rules.0.when.channels", ["web"], None),
        Change("rules.1.name", None, "b"),
    ]
    assert changes(after, after) == []


def test_only_admins_manage_routing() -> None:
    allowed = [r for r in Role if Principal("k", "x", r).may(Action.MANAGE_ROUTING)]
    assert allowed == [Role.ADMIN]
