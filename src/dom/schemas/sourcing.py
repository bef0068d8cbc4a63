"""Sourcing profiles and selection rules as documents (JSON), and their API views.

Field names are the domain's (`dom.domain.sourcing.profiles`). The shapes check types only: value
rules (no negative weights, no contradictions) are the domain's, so they are stated once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dom.domain.network import NodeType
from dom.domain.sourcing.profiles import OnShort

# Strict scalars: a quoted "2" or "true" in a profile is a mistake, not a number or a flag.
Amount = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Flag = Annotated[bool, Field(strict=True)]
Whole = Annotated[int, Field(strict=True)]
#: Profile names appear in URLs and rules: a short slug.
PROFILE_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
ProfileName = Annotated[str, Field(pattern=PROFILE_NAME, description="lower-case slug")]
Code = Annotated[str, Field(min_length=1, max_length=64)]
State = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="US state code")]
ServiceKey = Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+$", description="carrier/service")]

Document = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WeightsDoc(BaseModel):
    """Dollars per unit of each part of the objective."""

    model_config = Document

    shipping_cost: Amount = Field(default=1.0, description="per dollar of carrier charges")
    handling_cost: Amount = Field(default=1.0, description="per dollar of pick/pack cost")
    delivery_days: Amount = Field(default=0.0, description="per day until delivery, per shipment")
    split_penalty: Amount = Field(default=0.0, description="per shipment beyond the first")
    capacity_balance: Amount = Field(
        default=0.0, description="per share of a node's units left today that a plan uses"
    )
    inventory_protection: Amount = Field(
        default=0.0, description="per dollar of future value of the units taken"
    )


class ConstraintsDoc(BaseModel):
    """Hard limits; null means no limit."""

    model_config = Document

    max_shipments: Whole | None = Field(default=None, description="null: as many as it takes")
    ship_complete: Flag = Field(default=False, description="one shipment with every line, or none")
    node_types: list[NodeType] | None = Field(default=None, max_length=10)
    regions: list[State] | None = Field(
        default=None, max_length=100, description="states the shipping nodes may be in"
    )
    min_store_stock_left: Whole = Field(
        default=0, description="units a store keeps of a SKU after the plan"
    )
    carriers: list[Code] | None = Field(default=None, max_length=100)
    services: list[ServiceKey] | None = Field(default=None, max_length=500)
    max_distance_miles: Amount | None = None
    on_short: OnShort = Field(default=OnShort.SPLIT, description="split, backorder or reject")
    wave: Flag = Field(
        default=False, description="orders wait for the next batch wave instead of routing at once"
    )
    transfers_to_pickup: Flag = Field(
        default=False,
        description=(
            "pickup and curbside lines come from the store's shelf or are transferred to it"
            " from another node, whichever the profile's objective prefers"
        ),
    )


class ProfileDoc(BaseModel):
    """A sourcing profile as saved: its name, and what it optimizes and respects."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "holiday-rush",
                    "description": "two shipments at most, DCs only, speed first",
                    "weights": {"delivery_days": 40.0, "split_penalty": 5.0},
                    "constraints": {"max_shipments": 2, "node_types": ["dc"]},
                }
            ]
        },
    )

    name: ProfileName
    version: Whole | None = Field(
        default=None,
        description="leave out to take the next version; if given, it must be the next one",
    )
    description: str = Field(default="", max_length=500)
    weights: WeightsDoc = Field(default_factory=WeightsDoc)
    constraints: ConstraintsDoc = Field(default_factory=ConstraintsDoc)


class ConditionsDoc(BaseModel):
    """All given conditions must hold; leave one out (or null) not to test it."""

    model_config = Document

    channels: list[Code] | None = Field(default=None, max_length=100)
    segments: list[Code] | None = Field(default=None, max_length=100)
    any_tags: list[Code] | None = Field(default=None, max_length=100)
    service_levels: list[Code] | None = Field(default=None, max_length=20)
    free_shipping: Flag | None = None
    min_value: Amount | None = None
    max_value: Amount | None = None
    regions: list[State] | None = Field(default=None, max_length=100, description="destination")


class RuleDoc(BaseModel):
    model_config = Document

    name: Code
    when: ConditionsDoc = Field(
        default_factory=ConditionsDoc, description="empty: every order (a catch-all)"
    )
    profile: ProfileName


class RuleSetDoc(BaseModel):
    """Selection rules, tried in order; the first that holds names the profile."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "rules": [
                        {"name": "rush", "when": {"any_tags": ["rush"]}, "profile": "rush"},
                        {
                            "name": "overnight",
                            "when": {"service_levels": ["overnight"]},
                            "profile": "fastest",
                        },
                    ],
                    "fallback": "lowest-cost",
                }
            ]
        },
    )

    version: Whole | None = Field(
        default=None,
        description="leave out to take the next version; if given, it must be the next one",
    )
    rules: list[RuleDoc] = Field(max_length=1000)
    fallback: ProfileName = Field(description="the profile when no rule holds")


class OrderFactsDoc(BaseModel):
    """What selection rules look at in an order."""

    model_config = Document

    channel: Code | None = None
    segment: Code | None = None
    tags: list[Code] = Field(default_factory=list, max_length=100)
    service_level: Code = "ground"
    free_shipping: Flag = False
    value: Amount = 0.0
    region: State | None = Field(default=None, description="destination state")


class ProfileVersionRef(BaseModel):
    model_config = Document

    name: ProfileName
    version: Whole = Field(ge=1)


class DryRunIn(BaseModel):
    """Which profile each sample order would get under a rule set, with draft profiles tried."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "rules_version": 2,
                    "profiles": [{"name": "rush", "version": 3}],
                    "orders": [{"tags": ["rush"]}, {"channel": "web", "value": 80.0}],
                }
            ]
        },
    )

    rules_version: Whole | None = Field(
        default=None, ge=1, description="a rule-set version (a draft, say); default: the active"
    )
    profiles: list[ProfileVersionRef] = Field(
        default_factory=list,
        max_length=100,
        description="profile versions to use instead of the active ones",
    )
    orders: list[OrderFactsDoc] = Field(min_length=1, max_length=10_000)


class SelectionView(BaseModel):
    order: int = Field(description="position of the sample order, from 0")
    rule: str | None = Field(description="null: no rule held, the fallback applies")
    profile: str
    version: int | None = Field(description="null: the profile has no active version")


class DryRunView(BaseModel):
    rules_version: int | None = Field(description="null: no rule set was ever saved")
    fallback: str
    selections: list[SelectionView]


class VersionSummaryView(BaseModel):
    version: int
    status: str = Field(description="draft, active or retired")
    created_at: datetime
    created_by: str
    activated_at: datetime | None


class ProfileVersionView(VersionSummaryView):
    name: str
    profile: ProfileDoc


class ProfileSummaryView(BaseModel):
    name: str
    active_version: int | None
    latest_version: int
    description: str = Field(description="of the active version, else the latest")


class ProfileHistoryView(BaseModel):
    name: str
    active: ProfileVersionView | None
    versions: list[VersionSummaryView] = Field(description="newest first")


class RuleSetVersionView(VersionSummaryView):
    rule_set: RuleSetDoc


class RuleSetHistoryView(BaseModel):
    active: RuleSetVersionView | None = Field(
        description="null: none was ever activated; no rules, the fallback is lowest-cost"
    )
    versions: list[VersionSummaryView] = Field(description="newest first")


class ActivationView(BaseModel):
    version: int
    status: str
    activated_at: datetime
    retired: int | None = Field(description="the version that was active before, now retired")
    changed: bool = Field(description="false: this version was active already")


class ChangeView(BaseModel):
    path: str = Field(description="dotted path of the field, e.g. constraints.max_shipments")
    before: Any
    after: Any


class DiffView(BaseModel):
    from_version: int
    to_version: int
    changes: list[ChangeView]
