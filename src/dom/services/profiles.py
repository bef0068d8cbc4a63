"""The sourcing profile registry: named, versioned profiles and selection rules, draft → active.

Profiles and rule sets are JSON documents (`dom.schemas.sourcing`). Saving one checks its shape,
then the domain's rules, and writes a new draft version, or nothing. Activating a version retires
the one active before it, under a lock, so a profile name — and the rule set — has at most one
active version; a retired version may be activated again (a rollback). Versions are never edited.
The shipped profiles are seeded active as version 1 by the migration that made these tables.

The routing service reads what is active with `active_routing`, and drafts with
`profile_version` or `trial_routing`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from dom.adapters import repositories as repo
from dom.adapters.database import database_key, reading, writing
from dom.adapters.tables import routing_rule_sets as rule_sets_table
from dom.adapters.tables import sourcing_profiles as profiles_table
from dom.domain.access import Action, Principal
from dom.domain.errors import Conflict, InvalidInput, NotFound, Problem
from dom.domain.sourcing.profiles import (
    LOWEST_COST,
    Conditions,
    Constraints,
    OrderFacts,
    Profile,
    Rule,
    Weights,
    rule_problems,
    select_profile,
)
from dom.schemas.sourcing import OrderFactsDoc, ProfileDoc, RuleSetDoc

DRAFT, ACTIVE, RETIRED = "draft", repo.ACTIVE, "retired"
#: The profile every order gets while no rule set was ever activated.
DEFAULT_FALLBACK = LOWEST_COST.name
#: Racing first saves of a new name (no row to lock yet) pick the same version: the losers
#: retry once, then queue on the row lock of the winner's version.
SAVE_ATTEMPTS = 3
T = TypeVar("T")
Doc = TypeVar("Doc", bound=BaseModel)


class VersionTaken(Conflict):
    code = "version_taken"
    title = "That version exists already"


class ProfileNotActive(InvalidInput):
    """A rule set names a profile that has no active version, so it cannot be activated."""

    code = "profile_not_active"
    title = "The rules name a profile with no active version"


@dataclass(frozen=True)
class Routing:
    """What routing uses now: active profiles by name, and the active selection rules."""

    profiles: Mapping[str, Profile]
    versions: Mapping[str, int]
    rules: tuple[Rule, ...]
    fallback: str


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    fallback: str


@dataclass(frozen=True)
class VersionInfo:
    version: int
    status: str
    created_at: datetime
    created_by: str
    activated_at: datetime | None


@dataclass(frozen=True)
class ProfileVersion:
    info: VersionInfo
    profile: Profile


@dataclass(frozen=True)
class ProfileHistory:
    name: str
    active: ProfileVersion | None
    versions: list[VersionInfo]  # newest first


@dataclass(frozen=True)
class ProfileSummary:
    name: str
    active_version: int | None
    latest_version: int
    description: str  # of the active version, else the latest


@dataclass(frozen=True)
class RuleSetVersion:
    info: VersionInfo
    rule_set: RuleSet


@dataclass(frozen=True)
class RuleSetHistory:
    active: RuleSetVersion | None
    versions: list[VersionInfo]  # newest first


@dataclass(frozen=True)
class Activation:
    version: int
    status: str
    activated_at: datetime
    retired: int | None  # the version active before, now retired
    changed: bool  # False: it was active already


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Selected:
    order: int
    rule: str | None
    profile: str
    version: int | None  # None: the profile has no active version and was not tried as a draft


@dataclass(frozen=True)
class DryRun:
    rules_version: int | None
    fallback: str
    selections: list[Selected]


# ---- documents ↔ domain --------------------------------------------------------------------


def _parse(model: type[Doc], raw: Any) -> Doc:
    """A document of `model` from parsed JSON, or every shape problem with its field path."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(_problems_of(error)) from None


def _problems_of(error: ValidationError) -> list[Problem]:
    found = []
    for issue in error.errors():
        reason = "unknown field" if issue["type"] == "extra_forbidden" else issue["msg"]
        found.append(Problem(".".join(str(p) for p in issue["loc"]) or "body", reason))
    return found


def profile_document(raw: Any) -> ProfileDoc:
    """A profile document from parsed JSON (a file, say); shape problems raise InvalidInput."""
    return _parse(ProfileDoc, raw)


def rule_set_document(raw: Any) -> RuleSetDoc:
    """A rule-set document from parsed JSON; shape problems raise InvalidInput."""
    return _parse(RuleSetDoc, raw)


def order_facts_documents(raw: Any) -> list[OrderFactsDoc]:
    """Sample orders from a parsed JSON array; shape problems raise InvalidInput."""
    try:
        return TypeAdapter(list[OrderFactsDoc]).validate_python(raw)
    except ValidationError as error:
        raise InvalidInput(_problems_of(error)) from None


def _frozen(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    """A domain value as JSON: sets as sorted lists, enums as their values."""
    if isinstance(value, frozenset):
        return sorted(str(item) for item in value)
    if isinstance(value, StrEnum):
        return value.value
    return value


def to_profile(document: ProfileDoc, version: int) -> Profile:
    """The domain profile a document describes, as `version`."""
    constraints = document.constraints.model_dump()
    return Profile(
        name=document.name,
        version=version,
        description=document.description,
        weights=Weights(**document.weights.model_dump()),
        constraints=Constraints(**{k: _frozen(v) for k, v in constraints.items()}),
    )


def profile_body(profile: Profile) -> dict[str, Any]:
    """What is stored of a profile version: everything but its name and version."""
    return {
        "description": profile.description,
        "weights": dict(vars(profile.weights)),
        "constraints": {k: _plain(v) for k, v in vars(profile.constraints).items()},
    }


def profile_as_document(profile: Profile) -> dict[str, Any]:
    """A profile in the document shape `save_draft` takes, with its version."""
    return {"name": profile.name, "version": profile.version, **profile_body(profile)}


def to_rule_set(document: RuleSetDoc) -> RuleSet:
    rules = tuple(
        Rule(
            rule.name,
            Conditions(**{k: _frozen(v) for k, v in rule.when.model_dump().items()}),
            rule.profile,
        )
        for rule in document.rules
    )
    return RuleSet(rules, document.fallback)


def rule_set_body(rule_set: RuleSet) -> dict[str, Any]:
    """A rule set as stored and shown: rules in order, each with the conditions it tests."""
    rules = [
        {
            "name": rule.name,
            "when": {k: _plain(v) for k, v in vars(rule.when).items() if v is not None},
            "profile": rule.profile,
        }
        for rule in rule_set.rules
    ]
    return {"rules": rules, "fallback": rule_set.fallback}


def to_order_facts(document: OrderFactsDoc) -> OrderFacts:
    return OrderFacts(**{k: _frozen(v) for k, v in document.model_dump().items()})


def _profile_of(row: Row[Any]) -> Profile:
    stored = ProfileDoc.model_validate({"name": row.name, **row.body})
    return to_profile(stored, row.version)


def _rule_set_of(row: Row[Any]) -> RuleSet:
    return to_rule_set(RuleSetDoc.model_validate(row.body))


def _info(row: Row[Any]) -> VersionInfo:
    return VersionInfo(row.version, row.status, row.created_at, row.created_by, row.activated_at)


# ---- saving and activating -----------------------------------------------------------------


def _retrying(attempt: Callable[[], T]) -> T:
    """Run a save again if a racing save took the same new version first."""
    for tries in range(1, SAVE_ATTEMPTS + 1):
        try:
            return attempt()
        except IntegrityError:
            if tries == SAVE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _next_version(
    connection: Connection, table: Table, scope: ColumnElement[bool], wanted: int | None
) -> int:
    """The version a save creates, after locking the scope's versions; `wanted` must be it."""
    connection.execute(select(table.c.version).where(scope).with_for_update()).all()
    # Read again in a new statement: on PostgreSQL it sees the versions saved while we waited.
    latest = connection.execute(select(func.max(table.c.version)).where(scope)).scalar()
    following = (latest or 0) + 1
    if wanted is not None and wanted != following:
        raise VersionTaken(
            f"version {wanted} cannot be saved: the next version is {following} "
            "(leave version out to take it)"
        )
    return following


def save_draft(engine: Engine, principal: Principal, document: ProfileDoc) -> int:
    """Validate a profile and save it as the next draft version of its name; nothing on error."""
    principal.require(Action.MANAGE_ROUTING)
    profile = to_profile(document, 1 if document.version is None else document.version)
    problems = profile.problems()
    if problems:
        raise InvalidInput(problems, f"profile {document.name!r} cannot be saved")
    return _retrying(lambda: _insert_profile(engine, principal, profile, document.version))


def _insert_profile(
    engine: Engine, principal: Principal, profile: Profile, wanted: int | None
) -> int:
    t = profiles_table
    with writing(engine) as connection:
        version = _next_version(connection, t, t.c.name == profile.name, wanted)
        connection.execute(
            insert(t).values(
                name=profile.name,
                version=version,
                status=DRAFT,
                body=profile_body(profile),
                created_at=datetime.now(UTC),
                created_by=principal.name,
            )
        )
    return version


def activate(engine: Engine, principal: Principal, name: str, version: int) -> Activation:
    """Make a version of a profile the active one; the version active before it retires."""
    principal.require(Action.MANAGE_ROUTING)
    t = profiles_table
    with writing(engine) as connection:
        missing = NotFound("profile version", f"{name} v{version}")
        return _activate(connection, t, t.c.name == name, version, missing)


def _activate(
    connection: Connection,
    table: Table,
    scope: ColumnElement[bool],
    version: int,
    missing: NotFound,
) -> Activation:
    """Swap the active version within `scope`, its rows locked; activating it again is a no-op."""
    query = select(table.c.version, table.c.status, table.c.activated_at).where(scope)
    rows = {row.version: row for row in connection.execute(query.with_for_update())}
    if version not in rows:
        raise missing
    current = next((v for v, row in rows.items() if row.status == ACTIVE), None)
    if current == version:
        return Activation(version, ACTIVE, rows[version].activated_at, None, changed=False)
    now = datetime.now(UTC)
    repo.routing_changed(connection)
    # Retire first: the partial unique index allows one active row at any moment.
    if current is not None:
        connection.execute(
            update(table).where(scope, table.c.version == current).values(status=RETIRED)
        )
    connection.execute(
        update(table)
        .where(scope, table.c.version == version)
        .values(status=ACTIVE, activated_at=now)
    )
    return Activation(version, ACTIVE, now, current, changed=True)


def save_rules_draft(engine: Engine, principal: Principal, document: RuleSetDoc) -> int:
    """Validate selection rules against the saved profile names and save them as a draft."""
    principal.require(Action.MANAGE_ROUTING)
    rule_set = to_rule_set(document)
    return _retrying(lambda: _insert_rule_set(engine, principal, rule_set, document.version))


def _insert_rule_set(
    engine: Engine, principal: Principal, rule_set: RuleSet, wanted: int | None
) -> int:
    t = rule_sets_table
    with writing(engine) as connection:
        known = set(connection.execute(select(profiles_table.c.name).distinct()).scalars())
        problems = rule_problems(rule_set.rules, rule_set.fallback, known)
        if problems:
            raise InvalidInput(problems, "the rules cannot be saved")
        version = _next_version(connection, t, true(), wanted)
        connection.execute(
            insert(t).values(
                version=version,
                status=DRAFT,
                body=rule_set_body(rule_set),
                created_at=datetime.now(UTC),
                created_by=principal.name,
            )
        )
    return version


def activate_rules(engine: Engine, principal: Principal, version: int) -> Activation:
    """Make a rule set the one routing uses; every profile it names needs an active version."""
    principal.require(Action.MANAGE_ROUTING)
    t = rule_sets_table
    with writing(engine) as connection:
        row = connection.execute(select(t.c.body).where(t.c.version == version)).first()
        if row is not None:
            _require_active_profiles(connection, _rule_set_of(row))
        missing = NotFound("rule set version", f"v{version}")
        return _activate(connection, t, true(), version, missing)


def _require_active_profiles(connection: Connection, rule_set: RuleSet) -> None:
    active = set(_active_profile_rows(connection))
    named = [(f"rules.{i}.profile", r.profile) for i, r in enumerate(rule_set.rules)]
    named.append(("fallback", rule_set.fallback))
    problems = [
        Problem(path, f"profile {name!r} has no active version; activate one first")
        for path, name in named
        if name not in active
    ]
    if problems:
        raise ProfileNotActive(problems, "the rules name profiles that are not active")


# ---- reading -------------------------------------------------------------------------------


def _active_profile_rows(connection: Connection) -> dict[str, Row[Any]]:
    t = profiles_table
    rows = connection.execute(select(t).where(t.c.status == ACTIVE))
    return {row.name: row for row in rows}


def _active_rule_set_row(connection: Connection) -> Row[Any] | None:
    t = rule_sets_table
    return connection.execute(select(t).where(t.c.status == ACTIVE)).first()


def list_profiles(engine: Engine, principal: Principal) -> list[ProfileSummary]:
    """Every profile name with its active and latest versions, by name."""
    principal.require(Action.READ_INVENTORY)
    t = profiles_table
    with reading(engine) as connection:
        rows = connection.execute(select(t).order_by(t.c.name, t.c.version.desc())).all()
    by_name: dict[str, list[Row[Any]]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    return [_summary(name, versions) for name, versions in by_name.items()]


def _summary(name: str, versions: list[Row[Any]]) -> ProfileSummary:
    """`versions` newest first."""
    active = next((row for row in versions if row.status == ACTIVE), None)
    shown = active or versions[0]
    return ProfileSummary(
        name,
        active.version if active else None,
        versions[0].version,
        str(shown.body.get("description", "")),
    )


def profile_history(engine: Engine, principal: Principal, name: str) -> ProfileHistory:
    """A profile's active version and all its versions, newest first."""
    principal.require(Action.READ_INVENTORY)
    t = profiles_table
    query = select(t).where(t.c.name == name).order_by(t.c.version.desc())
    with reading(engine) as connection:
        rows = connection.execute(query).all()
    if not rows:
        raise NotFound("profile", name)
    active = next((row for row in rows if row.status == ACTIVE), None)
    shown = ProfileVersion(_info(active), _profile_of(active)) if active else None
    return ProfileHistory(name, shown, [_info(row) for row in rows])


def get_profile(
    engine: Engine, principal: Principal, name: str, version: int | None = None
) -> ProfileVersion:
    """One version of a profile; without a version, the active one."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        row = _profile_row(connection, name, version)
    return ProfileVersion(_info(row), _profile_of(row))


def _profile_row(connection: Connection, name: str, version: int | None) -> Row[Any]:
    t = profiles_table
    which = t.c.status == ACTIVE if version is None else t.c.version == version
    row = connection.execute(select(t).where(t.c.name == name, which)).first()
    if row is None:
        raise NotFound(
            "profile version", f"{name} {'active' if version is None else f'v{version}'}"
        )
    return row


def profile_version(engine: Engine, name: str, version: int) -> Profile:
    """A version of a profile in any status (a draft, for a dry run); NotFound if none."""
    with reading(engine) as connection:
        return profile_version_in(connection, name, version)


def profile_version_in(connection: Connection, name: str, version: int) -> Profile:
    """The same, on the caller's connection (a writer never waits for a second one)."""
    return _profile_of(_profile_row(connection, name, version))


def diff(engine: Engine, principal: Principal, name: str, before: int, after: int) -> list[Change]:
    """Field-by-field changes from one version of a profile to another."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        old = _profile_row(connection, name, before)
        new = _profile_row(connection, name, after)
    # Through the domain and back: a version saved before a field existed reads its default.
    return changes(profile_body(_profile_of(old)), profile_body(_profile_of(new)))


def rule_history(engine: Engine, principal: Principal) -> RuleSetHistory:
    """The active rule set (None if none was ever activated) and every version, newest first."""
    principal.require(Action.READ_INVENTORY)
    t = rule_sets_table
    with reading(engine) as connection:
        rows = connection.execute(select(t).order_by(t.c.version.desc())).all()
    active = next((row for row in rows if row.status == ACTIVE), None)
    shown = RuleSetVersion(_info(active), _rule_set_of(active)) if active else None
    return RuleSetHistory(shown, [_info(row) for row in rows])


def get_rules(engine: Engine, principal: Principal, version: int) -> RuleSetVersion:
    """One version of the selection rules."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        row = _rule_set_row(connection, version)
    return RuleSetVersion(_info(row), _rule_set_of(row))


def _rule_set_row(connection: Connection, version: int) -> Row[Any]:
    t = rule_sets_table
    row = connection.execute(select(t).where(t.c.version == version)).first()
    if row is None:
        raise NotFound("rule set version", f"v{version}")
    return row


def diff_rules(engine: Engine, principal: Principal, before: int, after: int) -> list[Change]:
    """Field-by-field changes from one version of the rules to another (rules by position)."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        old = _rule_set_row(connection, before)
        new = _rule_set_row(connection, after)
    return changes(old.body, new.body)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Leaf-by-leaf differences of two JSON documents; a missing leaf reads as None."""
    old, new = _flatten(before), _flatten(after)
    paths = [*old, *(path for path in new if path not in old)]
    return [
        Change(path, old.get(path), new.get(path))
        for path in paths
        if old.get(path) != new.get(path)
    ]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaves; a list holding objects (rules) is walked by position."""
    if isinstance(value, Mapping):
        items: list[tuple[str, Any]] = list(value.items())
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        items = [(str(index), item) for index, item in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


# ---- routing -------------------------------------------------------------------------------


def active_routing(engine: Engine) -> Routing:
    """The active profiles and selection rules (no rules and lowest-cost if none was activated)."""
    with reading(engine) as connection:
        return active_routing_in(connection)


#: The last routing each process read per database, under the active versions it was built from.
_routing_cache: dict[str, tuple[frozenset[tuple[str, int]], Routing]] = {}
_routing_lock = threading.Lock()


def active_routing_in(connection: Connection) -> Routing:
    """The active routing, read on the caller's connection (a writer never waits for a second
    one): one small query for the active versions, the documents parsed again only when those
    changed."""
    versions = repo.active_routing_versions(connection)
    key = database_key(connection)
    cached = _routing_cache.get(key)
    if cached is not None and cached[0] == versions:
        return cached[1]
    routing, _ = _routing(connection, None, ())
    with _routing_lock:
        _routing_cache[key] = (versions, routing)
    return routing


def trial_routing(
    engine: Engine, rules_version: int | None, profiles: Sequence[tuple[str, int]] = ()
) -> Routing:
    """Routing with a rule-set version (None: the active) and profile versions tried instead."""
    # For dry runs of drafts. A profile the rules name that has neither an active version nor a
    # version given here is missing from `profiles`.
    with reading(engine) as connection:
        routing, _ = _routing(connection, rules_version, profiles)
    return routing


def _routing(
    connection: Connection, rules_version: int | None, overrides: Sequence[tuple[str, int]]
) -> tuple[Routing, int | None]:
    """The routing and the version of the rule set it uses (None: no rule set)."""
    rows = _active_profile_rows(connection)
    for name, version in overrides:
        rows[name] = _profile_row(connection, name, version)
    rule_row = (
        _active_rule_set_row(connection)
        if rules_version is None
        else _rule_set_row(connection, rules_version)
    )
    rule_set = _rule_set_of(rule_row) if rule_row else RuleSet((), DEFAULT_FALLBACK)
    routing = Routing(
        profiles={name: _profile_of(row) for name, row in rows.items()},
        versions={name: row.version for name, row in rows.items()},
        rules=rule_set.rules,
        fallback=rule_set.fallback,
    )
    return routing, rule_row.version if rule_row else None


def dry_run(
    engine: Engine,
    principal: Principal,
    orders: Sequence[OrderFacts],
    rules_version: int | None = None,
    profiles: Sequence[tuple[str, int]] = (),
) -> DryRun:
    """Which rule and profile version each sample order would get; nothing changes."""
    principal.require(Action.READ_INVENTORY)
    with reading(engine) as connection:
        routing, used = _routing(connection, rules_version, profiles)
    selections = []
    for index, order in enumerate(orders):
        chosen = select_profile(routing.rules, routing.fallback, order)
        version = routing.versions.get(chosen.profile)
        selections.append(Selected(index, chosen.rule, chosen.profile, version))
    return DryRun(used, routing.fallback, selections)
