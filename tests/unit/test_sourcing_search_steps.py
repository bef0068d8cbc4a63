"""The exact search's steps on orders as wide as the real-time benchmark's (9-12 lines after
splits): later steps are taken from the few pairs the last one changed, and must give the
levels of every pair at every step, bit for bit."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from dom.domain.sourcing import search


def split_like_single(rng: random.Random, lines: int) -> search.Floats:
    """Per subset, a cheapest single shipment where some lines never ship together, as the
    parts of a split line: plans need several shipments, so the search takes many steps."""
    parts = rng.sample(range(lines), rng.randint(3, 5))  # of one line: no two together
    apart = [(i, j) for i in parts for j in parts if i < j]
    apart += [(i, j) for i in range(lines) for j in range(i + 1, lines) if rng.random() < 0.05]
    single = np.empty(1 << lines)
    for group in range(1 << lines):
        together = not any(group >> i & 1 and group >> j & 1 for i, j in apart)
        cost = 5 + 1.5 * group.bit_count() + rng.uniform(0, 4)
        single[group] = round(cost, rng.choice([0, 2])) if together else math.inf
    return single


def every_pair_every_step(single: search.Floats, count: int) -> list[search.Floats]:
    """best_k(S) the plain way: each S from every group T holding its lowest line, at every
    step, until a step changes nothing."""
    levels = [np.where(np.arange(1 << count) == 0, 0.0, np.inf), single.copy()]
    levels[1][0] = 0.0
    while len(levels) <= count:
        previous, current = levels[-1], levels[-1].copy()
        for s in range(1, 1 << count):
            low = s & -s
            rest = s ^ low
            sub = rest
            while True:  # every T = low | sub, sub ⊆ rest
                current[s] = min(current[s], single[sub | low] + previous[rest ^ sub])
                if sub == 0:
                    break
                sub = (sub - 1) & rest
        if np.array_equal(current, previous):
            break
        levels.append(current)
    return levels


@pytest.mark.parametrize("lines", [9, 10, 11])
def test_wide_levels_are_those_of_every_pair_at_every_step(lines: int) -> None:
    for seed in range(6):
        rng = random.Random(seed)
        single = split_like_single(rng, lines)
        expected = every_pair_every_step(single, lines)
        got = search._levels(single, lines, lines)
        assert len(got) == len(expected), f"seed {seed}"
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True)), f"seed {seed}"
