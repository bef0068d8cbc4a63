"""Summaries of repeated timings: the median and the spread around it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds taken by each run of one measurement."""

    seconds: tuple[float, ...]

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        if not seconds:
            raise ValueError("a timing needs at least one run")
        return cls(tuple(seconds))

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def fastest(self) -> float:
        return min(self.seconds)

    @property
    def slowest(self) -> float:
        return max(self.seconds)

    @property
    def spread_pct(self) -> float:
        """Range of the runs as a percentage of the median."""
        return 100 * (self.slowest - self.fastest) / self.median

    def describe(self) -> str:
        """'0.412 s (0.398-0.455, n=5)'."""
        return f"{self.median:.3f} s ({self.fastest:.3f}-{self.slowest:.3f}, n={len(self.seconds)})"

    def rate(self, items: int) -> float:
        """Items per second at the median time."""
        return items / self.median


def paired_ratio(slower: Timing, faster: Timing) -> float:
    """Median of the run-by-run ratios of two timings taken alternately, side by side."""
    return statistics.median(s / f for s, f in zip(slower.seconds, faster.seconds, strict=True))


@dataclass(frozen=True)
class Latencies:
    """Seconds taken by each of many requests: the tail matters as much as the middle."""

    seconds: tuple[float, ...]

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latencies:
        if len(seconds) < 2:
            raise ValueError("latencies need at least two samples")
        return cls(tuple(seconds))

    def percentile(self, pct: int) -> float:
        """The `pct`-th percentile (1-99), interpolated between the samples around it."""
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[pct - 1]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def slowest(self) -> float:
        return max(self.seconds)

    def cells(self) -> str:
        """Markdown cells: samples | median | p95 | p99 | max (milliseconds)."""
        return (
            f"{len(self.seconds):,} | {1000 * self.median:.1f} | {1000 * self.p95:.1f} "
            f"| {1000 * self.p99:.1f} | {1000 * self.slowest:.1f}"
        )
