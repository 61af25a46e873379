"""Retention as one command, on SQLite and on a real PostgreSQL, run on 29 February 2028 (the
day `retention_plan` used to crash): orders past 5 years go, calls past 1 year lose their
caller and their recording, younger data stays, and no call is left naming a recording that is
gone. Then `hotline retention run` itself: a dry run by default, --apply to do it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.history import db
from acd.history.models import Call
from acd.orders import service
from acd.orders.models import WorkOrder
from recordings import purge

NOW = datetime(2028, 2, 29, 12, 0)     # naive UTC; a year ago is 2027-02-28 12:00


def _call(s: Session, uid: str, started: datetime, recording: str = "") -> None:
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center="shenyang",
               caller_number="13800001234", caller_name="张三", started_at=started,
               recording=recording))


def _file(directory: Path, rel: str, when: datetime) -> Path:
    path = directory / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    stamp = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _order(s: Session, accepted: datetime) -> WorkOrder:
    order = service.create(s, center="shenyang", type="consultation", domain="highway",
                           content="ETC", caller_number="13800001234", subject="",
                           call_uniqueid=None, source="web", accepted_at=accepted)
    service.refuse(s, order, "x", "out_of_remit")
    for ev in order.history:
        ev.at = accepted
    return order


def test_retention_on_29_february_keeps_the_ledger_consistent(db_engine, tmp_path) -> None:
    sessions = sessionmaker(db_engine, expire_on_commit=False)
    rec = tmp_path / "monitor"
    with sessions.begin() as s:
        old_order = _order(s, datetime(2022, 6, 1, 9))
        kept_order = _order(s, datetime(2023, 3, 1, 9))    # 4 years 364 days: kept
        _call(s, "old", datetime(2026, 6, 1, 9), "shenyang/20260601/old.wav")
        _call(s, "edge", datetime(2027, 2, 28, 13), "shenyang/20270228/edge.wav")
        _call(s, "young", datetime(2027, 12, 1, 9), "shenyang/20271201/young.wav")
        _call(s, "lost", datetime(2027, 12, 2, 9), "shenyang/20271202/lost.wav")  # no file
    old_file = _file(rec, "shenyang/20260601/old.wav", datetime(2026, 6, 1, 9, 5))
    edge_file = _file(rec, "shenyang/20270228/edge.wav", datetime(2027, 2, 28, 13, 5))
    young_file = _file(rec, "shenyang/20271201/young.wav", datetime(2027, 12, 1, 9, 5))
    stray = _file(rec, "shenyang/20250101/stray.wav", datetime(2025, 1, 1))  # no call names it

    plan = purge.plan(sessions, "shenyang", {"pbx1": rec}, NOW)  # the dry run changes nothing
    assert plan.orders == [old_order.id] and plan.calls == ["old"]
    assert sorted(plan.dangling) == ["lost", "old"]
    assert sorted(plan.recordings["pbx1"]) == sorted([old_file, stray])
    assert old_file.exists() and stray.exists()

    done = purge.apply(sessions, "shenyang", {"pbx1": rec}, NOW)
    assert (done.purged_orders, done.deleted_files) == (1, 2)
    with sessions() as s:
        assert s.get(WorkOrder, old_order.id) is None
        assert s.get(WorkOrder, kept_order.id) is not None
        calls = {c.uniqueid: c for c in s.scalars(select(Call))}
    assert (calls["old"].caller_number, calls["old"].caller_name, calls["old"].recording) == \
        ("", "", "")
    assert calls["edge"].caller_number == "13800001234" and calls["edge"].recording
    assert calls["young"].caller_number == "13800001234" and calls["young"].recording
    assert calls["lost"].recording == ""
    assert not old_file.exists() and not stray.exists()
    assert edge_file.exists() and young_file.exists()
    # The ledger and the files agree: every recording a call names is there.
    for c in calls.values():
        assert not c.recording or (rec / c.recording).is_file(), c.uniqueid
    # Run again: nothing more to do.
    again = purge.plan(sessions, "shenyang", {"pbx1": rec}, NOW)
    assert (again.orders, again.calls, again.dangling, again.files) == ([], [], [], 0)


def test_the_retention_command_is_a_dry_run_unless_told(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    engine = db.make_engine(url)
    db.create_schema(engine)
    with sessionmaker(engine).begin() as s:
        _call(s, "ancient", datetime(2020, 1, 1, 9))
    env = {**os.environ, "HOTLINE_VAR": str(tmp_path)}
    base = [sys.executable, "-m", "hotline.shell.cli", "retention", "run", "--database", url,
            "--recordings", f"pbx1={tmp_path / 'none'}"]
    dry = subprocess.run(base, env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0 and "dry run" in dry.stdout and "1 call(s)" in dry.stdout
    with Session(engine) as s:
        assert s.get(Call, "ancient").caller_number == "13800001234"  # type: ignore[union-attr]
    done = subprocess.run([*base, "--apply"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "1 call(s) anonymised" in done.stdout, done.stderr
    with Session(engine) as s:
        assert s.get(Call, "ancient").caller_number == ""  # type: ignore[union-attr]
    engine.dispose()
