"""Tuning the online benchmark's policy: only on the tuning seeds, never the held-out ones."""

from __future__ import annotations

import sys

import pytest
from bench import online, online_tuning


def test_tuning_refuses_a_held_out_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["online_tuning", "--seeds", "1", str(online.SEEDS[0])])
    with pytest.raises(SystemExit):
        online_tuning.main()


def test_the_tuning_seeds_are_none_of_the_benchmarks_reported_seeds() -> None:
    assert not set(online_tuning.TUNING_SEEDS) & set(online.SEEDS)
    assert set(online.TRAINING_SEEDS) <= set(online_tuning.TUNING_SEEDS)
