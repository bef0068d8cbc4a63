"""/v1/sourcing/profiles and /v1/sourcing/rules: the versioned profiles and selection rules that
routing uses, their drafts, activation, diffs and dry runs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dom.api.deps import EngineDep, PrincipalDep
from dom.api.idempotency import RESPONSES, IdempotencyKeyDep, run_once
from dom.schemas.sourcing import (
    PROFILE_NAME,
    ActivationView,
    DiffView,
    DryRunIn,
    DryRunView,
    ProfileDoc,
    ProfileHistoryView,
    ProfileSummaryView,
    ProfileVersionView,
    RuleSetDoc,
    RuleSetHistoryView,
    RuleSetVersionView,
)
from dom.services import profiles

router = APIRouter(tags=["sourcing"])

NameDep = Annotated[str, Path(pattern=PROFILE_NAME, description="the profile's name")]
VersionDep = Annotated[int, Path(ge=1)]
FromDep = Annotated[int, Query(alias="from", ge=1, description="the older version")]
ToDep = Annotated[int, Query(alias="to", ge=1, description="the newer version")]
ACTIVATE = (
    "Activating the version that is active already changes nothing and answers 200 with "
    "`changed: false`, so a retry is safe. A retired version may be activated again (a rollback)."
)


def profile_version_view(found: profiles.ProfileVersion) -> dict[str, Any]:
    return {
        **asdict(found.info),
        "name": found.profile.name,
        "profile": profiles.profile_as_document(found.profile),
    }


def rule_set_version_view(found: profiles.RuleSetVersion) -> dict[str, Any]:
    body = profiles.rule_set_body(found.rule_set)
    return {**asdict(found.info), "rule_set": {"version": found.info.version, **body}}


def diff_view(before: int, after: int, found: list[profiles.Change]) -> dict[str, Any]:
    return {
        "from_version": before,
        "to_version": after,
        "changes": [asdict(change) for change in found],
    }


@router.get(
    "/v1/sourcing/profiles",
    response_model=list[ProfileSummaryView],
    summary="Every sourcing profile with its active and latest versions",
)
def list_profiles(engine: EngineDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return [asdict(s) for s in profiles.list_profiles(engine, principal)]


@router.post(
    "/v1/sourcing/profiles",
    response_model=ProfileVersionView,
    status_code=201,
    summary="Save a profile as the next draft version of its name (validated; activate it after)",
    description="Every problem is listed with its field, e.g. `constraints.max_shipments`; "
    "nothing is saved unless the whole profile is valid.",
    responses={**RESPONSES, 409: {"description": "the version given is not the next one"}},
)
def save_profile(
    body: ProfileDoc,
    engine: EngineDep,
    principal: PrincipalDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        version = profiles.save_draft(engine, principal, body)
        return profile_version_view(profiles.get_profile(engine, principal, body.name, version))

    return run_once(
        engine, principal, idempotency_key, request, body, 201, produce, ProfileVersionView
    )


@router.get(
    "/v1/sourcing/profiles/{name}",
    response_model=ProfileHistoryView,
    summary="A profile's active version and all its versions",
)
def profile_history(name: NameDep, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    found = profiles.profile_history(engine, principal, name)
    return {
        "name": found.name,
        "active": profile_version_view(found.active) if found.active else None,
        "versions": [asdict(info) for info in found.versions],
    }


@router.get(
    "/v1/sourcing/profiles/{name}/versions/{version}",
    response_model=ProfileVersionView,
    summary="One version of a profile",
)
def profile_version(
    name: NameDep, version: VersionDep, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return profile_version_view(profiles.get_profile(engine, principal, name, version))


@router.post(
    "/v1/sourcing/profiles/{name}/versions/{version}/activate",
    response_model=ActivationView,
    summary="Make a version the active one; the version active before it retires",
    description=ACTIVATE,
)
def activate_profile(
    name: NameDep, version: VersionDep, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return asdict(profiles.activate(engine, principal, name, version))


@router.get(
    "/v1/sourcing/profiles/{name}/diff",
    response_model=DiffView,
    summary="Field-by-field changes between two versions of a profile",
)
def diff_profile(
    name: NameDep, before: FromDep, after: ToDep, engine: EngineDep, principal: PrincipalDep
) -> dict[str, Any]:
    return diff_view(before, after, profiles.diff(engine, principal, name, before, after))


@router.get(
    "/v1/sourcing/rules",
    response_model=RuleSetHistoryView,
    summary="The active selection rules and all their versions",
)
def rule_history(engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    found = profiles.rule_history(engine, principal)
    return {
        "active": rule_set_version_view(found.active) if found.active else None,
        "versions": [asdict(info) for info in found.versions],
    }


@router.post(
    "/v1/sourcing/rules",
    response_model=RuleSetVersionView,
    status_code=201,
    summary="Save selection rules as the next draft version (validated; activate it after)",
    description="Rules must name saved profiles, have distinct names, be able to hold and not "
    "hide the rules after them; every problem is listed with its field, e.g. `rules.2.profile`.",
    responses={**RESPONSES, 409: {"description": "the version given is not the next one"}},
)
def save_rules(
    body: RuleSetDoc,
    engine: EngineDep,
    principal: PrincipalDep,
    request: Request,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    def produce() -> Any:
        version = profiles.save_rules_draft(engine, principal, body)
        return rule_set_version_view(profiles.get_rules(engine, principal, version))

    return run_once(
        engine, principal, idempotency_key, request, body, 201, produce, RuleSetVersionView
    )


@router.get(
    "/v1/sourcing/rules/versions/{version}",
    response_model=RuleSetVersionView,
    summary="One version of the selection rules",
)
def rules_version(version: VersionDep, engine: EngineDep, principal: PrincipalDep) -> Any:
    return rule_set_version_view(profiles.get_rules(engine, principal, version))


@router.post(
    "/v1/sourcing/rules/versions/{version}/activate",
    response_model=ActivationView,
    summary="Make a version of the rules the one routing uses; the one before retires",
    description=ACTIVATE + " Every profile the rules name needs an active version (422 if not).",
)
def activate_rules(version: VersionDep, engine: EngineDep, principal: PrincipalDep) -> Any:
    return asdict(profiles.activate_rules(engine, principal, version))


@router.get(
    "/v1/sourcing/rules/diff",
    response_model=DiffView,
    summary="Field-by-field changes between two versions of the rules (rules by position)",
)
def diff_rules(before: FromDep, after: ToDep, engine: EngineDep, principal: PrincipalDep) -> Any:
    return diff_view(before, after, profiles.diff_rules(engine, principal, before, after))


@router.post(
    "/v1/sourcing/rules/dry-run",
    response_model=DryRunView,
    summary="Which rule and profile version each sample order would get; nothing changes",
    description="Try a draft rule set (`rules_version`) and draft profiles (`profiles`) before "
    "activating them. Selection only: no order is routed.",
)
def dry_run(body: DryRunIn, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    found = profiles.dry_run(
        engine,
        principal,
        [profiles.to_order_facts(order) for order in body.orders],
        rules_version=body.rules_version,
        profiles=[(ref.name, ref.version) for ref in body.profiles],
    )
    return asdict(found)
