"""Retention of personal data as one scheduled job: `hotline retention run` (a dry run that
lists what would go) and `hotline retention run --apply` (from cron or a systemd timer, e.g.
daily at 03:00).

What goes, by the seed's rules (seed 001: text records at least 5 years, recordings at least 1
year), and never anything younger:
- work orders, with their events and revisits, whose every trace is older than 5 years
  (acd/orders/service.py's `retention_plan` and `purge`);
- a call's personal data (the caller's number and name) once the call is older than 1 year:
  the call itself stays, anonymous, so the figures of past months do not change;
- recordings (WAV) older than 1 year, in every node's recordings directory; and the ledger is
  kept consistent: no call keeps a `recording` pointing at a file that is gone (deleted now
  or missing before).
Every cutoff is "the same moment N years ago" (hotline.dates: 29 February is safe).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Call
from acd.orders import service as orders
from hotline.dates import years_before
from recordings import retention as files

CALL_YEARS = 1  # a call's number, name and recording: kept at least one year


@dataclass
class Plan:
    """What a run would do (or did)."""

    now: datetime
    orders: list[int] = field(default_factory=list)          # work orders to purge
    calls: list[str] = field(default_factory=list)           # calls whose caller to forget
    recordings: dict[str, list[Path]] = field(default_factory=dict)  # node -> files to delete
    dangling: list[str] = field(default_factory=list)        # calls naming a file to unlink
    applied: bool = False
    purged_orders: int = 0
    deleted_files: int = 0

    @property
    def files(self) -> int:
        return sum(len(v) for v in self.recordings.values())

    def summary(self) -> str:
        return (f"{len(self.orders)} work order(s) older than {orders.TEXT_YEARS} years, "
                f"{len(self.calls)} call(s) with a caller older than {CALL_YEARS} year, "
                f"{self.files} recording(s) older than {CALL_YEARS} year, "
                f"{len(self.dangling)} call(s) naming a recording that is or will be gone")


def _naive(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _relative(path: Path, directory: Path) -> str:
    return path.relative_to(directory).as_posix()


def plan(sessions: sessionmaker[Session], center: str | tuple[str, ...],
         directories: dict[str, Path | None], now: datetime | None = None) -> Plan:
    """What `apply` would do at `now` (naive UTC, default now). Changes nothing. `center`: a
    center's code, or every center of a deployment (docs/province.md)."""
    centers = (center,) if isinstance(center, str) else tuple(center)
    now = _naive(now or datetime.now(UTC))
    call_cutoff = years_before(now, CALL_YEARS)
    p = Plan(now=now)
    with sessions() as s:
        p.orders = orders.retention_plan(s, now)
        p.calls = list(s.scalars(select(Call.uniqueid).where(
            Call.center.in_(centers), Call.started_at < call_cutoff,
            or_(Call.caller_number != "", Call.caller_name != ""))))
        gone: set[tuple[str, str]] = set()
        for node, directory in directories.items():
            if directory is None or not directory.exists():
                continue
            old = files.plan(directory, files.MIN_DAYS, now.replace(tzinfo=UTC).timestamp())
            p.recordings[node] = old.files
            gone |= {(node, _relative(f, directory)) for f in old.files}
        # Calls that name a recording: one being deleted, one already missing, or any call
        # past the year (its file goes now or went before).
        for uid, node, rec, started in s.execute(select(
                Call.uniqueid, Call.node, Call.recording, Call.started_at)
                .where(Call.center.in_(centers), Call.recording != "")):
            directory = directories.get(node)
            missing = directory is not None and directory.exists() and \
                not (directory / rec).is_file()
            if (node, rec) in gone or missing or started < call_cutoff:
                p.dangling.append(uid)
    return p


def apply(sessions: sessionmaker[Session], center: str | tuple[str, ...],
          directories: dict[str, Path | None], now: datetime | None = None) -> Plan:
    """Do it: purge the orders, forget the callers, delete the files, unlink the calls. Every
    item is checked again as it goes (nothing younger than its limit is ever touched)."""
    p = plan(sessions, center, directories, now)
    call_cutoff = years_before(p.now, CALL_YEARS)
    with sessions.begin() as s:
        p.purged_orders = orders.purge(s, p.orders, p.now)
        for chunk in _chunks(p.calls):
            s.execute(update(Call).where(Call.uniqueid.in_(chunk), Call.started_at < call_cutoff)
                      .values(caller_number="", caller_name="")
                      .execution_options(synchronize_session=False))
        # The ledger first: a call never names a file that is about to disappear.
        for chunk in _chunks(p.dangling):
            s.execute(update(Call).where(Call.uniqueid.in_(chunk)).values(recording="")
                      .execution_options(synchronize_session=False))
    for node in p.recordings:
        directory = directories[node]
        assert directory is not None
        p.deleted_files += files.delete(directory, files.MIN_DAYS,
                                        p.now.replace(tzinfo=UTC).timestamp())
    p.applied = True
    return p


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
