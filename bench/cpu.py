"""CPU time spent by processes, from /proc (Linux): where a benchmark's cycles went."""

from __future__ import annotations

import os
import time
from pathlib import Path


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants, live or ended: an ended
    child's time is added to its parent's when the parent reaps it, so the total only grows."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # After the command name in parentheses: state, ppid, ... then utime, stime and the
            # reaped children's cutime, cstime (proc(5): fields 14-17).
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        used[pid] = sum(int(value) for value in fields[11:15]) / tick
    total = 0.0
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        total += used.get(pid, 0.0)
        waiting += children.get(pid, [])
    return total


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, all threads."""
    times = os.times()
    return times.user + times.system


def wait_until_idle(
    root: int, *, share: float = 0.05, step: float = 0.5, limit: float = 60
) -> float:
    """Wait until a process tree uses under `share` of one CPU for `step` seconds (a server warms
    its caches in the background once it answers); returns the seconds waited."""
    began = time.perf_counter()
    used = tree_cpu_seconds(root)
    while time.perf_counter() - began < limit:
        time.sleep(step)
        now = tree_cpu_seconds(root)
        if now - used < share * step:
            break
        used = now
    return time.perf_counter() - began
