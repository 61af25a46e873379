"""Retention of call recordings: kept at least one year (seed 001). The job lists what it would
delete before it deletes anything, and never touches a file younger than the limit: neither
`keep_days` days nor one calendar year (365 days across a 29 February is a day short of a
year)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotline.dates import years_before

MIN_DAYS = 365


@dataclass(frozen=True)
class Plan:
    files: list[Path]
    bytes: int


def _cutoff(now: float, keep_days: int) -> float:
    """Older than `keep_days` days and than one calendar year, whichever is earlier."""
    year_ago = years_before(datetime.fromtimestamp(now, UTC), 1).timestamp()
    return min(now - keep_days * 86400, year_ago)


def plan(directory: Path, keep_days: int = MIN_DAYS, now: float | None = None) -> Plan:
    """Recordings (WAV) under `directory` last written more than `keep_days` ago."""
    if keep_days < MIN_DAYS:
        raise ValueError(f"recordings are kept at least {MIN_DAYS} days")
    cutoff = _cutoff(now or time.time(), keep_days)
    old = sorted(p for p in directory.rglob("*.wav") if p.is_file() and p.stat().st_mtime < cutoff)
    return Plan(old, sum(p.stat().st_size for p in old))


def delete(directory: Path, keep_days: int = MIN_DAYS, now: float | None = None) -> int:
    """Delete what `plan` lists, checking each file's age again; how many."""
    cutoff = _cutoff(now or time.time(), max(keep_days, MIN_DAYS))
    n = 0
    for path in plan(directory, keep_days, now).files:
        if path.stat().st_mtime < cutoff:
            path.unlink()
            n += 1
    return n
