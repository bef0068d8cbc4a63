"""Policies by the names a user gives: shipped profiles, profile files, baselines, waves; and
`NAME+protect`, a shipped profile that also prices the future value of the units it takes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

from dom.domain.errors import InvalidField, InvalidInput, Problem
from dom.domain.sourcing.profiles import SHIPPED_PROFILES, Profile
from dom.services.profiles import profile_document, to_profile
from dom.simulation.replay import (
    Policy,
    myopic_policy,
    nearest_policy,
    profile_policy,
    wave_policy,
)

SHIPPED = {profile.name: profile for profile in SHIPPED_PROFILES}
PROTECT = "+protect"
#: `inventory_protection` of a `NAME+protect` profile whose own weight is zero.
PROTECT_WEIGHT = 1.0


class Baseline(StrEnum):
    NEAREST = "nearest"
    MYOPIC = "myopic"


def profile_named(spec: str) -> Profile:
    """A shipped profile by name, `NAME+protect` for a shipped profile that protects stock, or
    the profile in a JSON profile document (`dom profiles show NAME > file.json`, edited)."""
    if spec in SHIPPED:
        return SHIPPED[spec]
    if spec.endswith(PROTECT) and spec.removesuffix(PROTECT) in SHIPPED:
        return protecting(SHIPPED[spec.removesuffix(PROTECT)])
    path = Path(spec)
    if spec.endswith(".json") and path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InvalidInput(
                [Problem("(the document)", f"not valid JSON: {error.msg}", error.lineno, spec)]
            ) from None
        document = profile_document(raw)
        profile = to_profile(document, document.version or 1)
        problems = profile.problems()
        if problems:
            raise InvalidInput(
                [Problem(p.field, p.reason, source=spec) for p in problems],
                f"profile file {spec} cannot be used",
            )
        return profile
    known = ", ".join(SHIPPED)
    raise InvalidField(
        "policy",
        f"{spec!r} is neither a shipped profile ({known}), one of them with {PROTECT}, "
        "nor a .json file",
    )


def protecting(profile: Profile) -> Profile:
    """The profile, named `NAME+protect`, weighing inventory protection (`PROTECT_WEIGHT` unless
    it already does)."""
    weight = profile.weights.inventory_protection or PROTECT_WEIGHT
    return replace(
        profile,
        name=profile.name + PROTECT,
        description=f"{profile.description}; keeps units where the forecast expects demand",
        weights=replace(profile.weights, inventory_protection=weight),
    )


def policies(
    profiles: Sequence[str], baselines: Sequence[Baseline], wave_size: int | None
) -> list[Policy]:
    """The policies to compare, baselines first; `lowest-cost` and `nearest` when none is named."""
    if not profiles and not baselines and wave_size is None:
        profiles, baselines = ["lowest-cost"], [Baseline.NEAREST]
    found: list[Policy] = []
    for baseline in baselines:
        found.append(nearest_policy() if baseline is Baseline.NEAREST else myopic_policy())
    found.extend(profile_policy(profile_named(spec)) for spec in profiles)
    if wave_size is not None:
        found.append(wave_policy(wave_size))
    names = [p.name for p in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidField("policy", f"named twice: {', '.join(repeated)}")
    return found
