"""Retention of call recordings: kept at least one year (seed 001). The job lists what it would
delete before it deletes anything, and never touches a file younger than the limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

MIN_DAYS = 365


@dataclass(frozen=True)
class Plan:
    files: list[Path]
    bytes: int


def plan(directory: Path, keep_days: int = MIN_DAYS, now: float | None = None) -> Plan:
    """Recordings (WAV) under `directory` last written more than `keep_days` ago."""
    if keep_days < MIN_DAYS:
        raise ValueError(f"recordings are kept at least {MIN_DAYS} days")
    cutoff = (now or time.time()) - keep_days * 86400
    old = sorted(p for p in directory.rglob("*.wav") if p.is_file() and p.stat().st_mtime < cutoff)
    return Plan(old, sum(p.stat().st_size for p in old))


def delete(directory: Path, keep_days: int = MIN_DAYS, now: float | None = None) -> int:
    """Delete what `plan` lists, checking each file's age again; how many."""
    cutoff = (now or time.time()) - max(keep_days, MIN_DAYS) * 86400
    n = 0
    for path in plan(directory, keep_days, now).files:
        if path.stat().st_mtime < cutoff:
            path.unlink()
            n += 1
    return n
