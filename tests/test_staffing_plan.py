"""The staffing plan of a day to come (seed 000 §四: seats moved between centers at holiday
peaks): its counterpart of last year chosen by the official calendar (the same day of the same
holiday, else the same weekday 52 weeks before that was no holiday), that day's calls per
queue and hour from the ledger (a call counts in its last queue), Erlang C per hour with the
queue's handle time (talk + wrap-up), printed by `hotline staffing-plan`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from acd.history import db
from acd.history.models import Call, QueueCall
from acd.history.traffic import plan_day
from acd.live.staffing import PlanError, counterpart, seats_needed
from hotline import center as center_mod

CENTER = center_mod.load(center_mod.EXAMPLE)


def test_the_calendar_chooses_the_counterpart() -> None:
    # National Day, 2nd day -> 2025's 2nd day; Spring Festival 2026's 3rd day (Feb 17) ->
    # 2025's 3rd (Jan 30); an ordinary Wednesday -> the Wednesday 52 weeks before.
    assert counterpart(date(2026, 10, 2)).reference == date(2025, 10, 2)
    spring = counterpart(date(2026, 2, 17))
    assert (spring.reference, spring.holiday) == (date(2025, 1, 30), "春节")
    assert spring.label == "春节第3天 ← 2025-01-30"
    plain = counterpart(date(2026, 12, 2))
    assert plain.reference == date(2025, 12, 3) and plain.reference.weekday() == 2
    assert plain.holiday == ""
    # A day 52 weeks before that was a holiday is skipped for the week before it.
    assert counterpart(date(2026, 10, 7 + 7)).reference == date(2025, 10, 15)
    with pytest.raises(PlanError, match="does not know 2031"):
        counterpart(date(2031, 10, 1))


def _add(s: Session, n: int, queue: str, at: datetime, outcome: str, talk: float | None) -> None:
    uid = f"pbx1-{at.timestamp():.0f}.{n}"
    naive = at.astimezone(UTC).replace(tzinfo=None)
    s.add(Call(uniqueid=uid, linkedid=uid, node="pbx1", center=CENTER.code, started_at=naive))
    s.add(QueueCall(uniqueid=uid, center=CENTER.code, queue=queue, entered_at=naive,
                    outcome=outcome, talk_s=talk))


def test_a_holiday_is_planned_from_last_years_hours(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    db.create_schema(engine)
    ref = date(2025, 10, 2)  # National Day's 2nd day, last year
    nine = datetime.combine(ref, time(9, 10), CENTER.tz)
    with Session(engine) as s, s.begin():
        # 09:00-10:00 local: 120 calls into manual (talk 200 s), 10 abandoned there; 3 stays
        # overflowed out of highway (a call counts in the queue it ended in, not there);
        # 23:00: 4 into highway.
        for i in range(120):
            _add(s, i, "manual", nine + timedelta(seconds=20 * i), "answered", 200.0)
        for i in range(3):
            _add(s, 200 + i, "highway", nine + timedelta(seconds=7 * i), "overflowed", None)
        for i in range(10):
            _add(s, 300 + i, "manual", nine + timedelta(seconds=9 * i), "abandoned", None)
        late = datetime.combine(ref, time(23, 30), CENTER.tz)
        for i in range(4):
            _add(s, 400 + i, "highway", late + timedelta(seconds=i), "answered", 100.0)
        # The day before and after do not count.
        _add(s, 500, "manual", nine - timedelta(days=1), "answered", 50.0)
        _add(s, 501, "manual", nine + timedelta(days=1), "answered", 50.0)
    plan = plan_day(db.session_factory(engine), CENTER, date(2026, 10, 2), growth=1.25)
    assert plan.counterpart.reference == ref and plan.counterpart.holiday == "国庆节"
    manual, highway = plan.queues["manual"], plan.queues["highway"]
    wrapup = {q.name: q.wrapup_s for q in CENTER.queues}
    assert manual[9].calls == 130 * 1.25
    assert manual[9].handle_s == 200 + wrapup["manual"]
    assert manual[9].seats == seats_needed(130 * 1.25, 200 + wrapup["manual"]).seats
    assert manual[9].seats >= 10  # 162.5 calls of 205 s: about 9.3 erlangs
    assert [h.seats for h in manual if h.hour != 9] == [0] * 23
    assert highway[9].calls == 0
    assert highway[23].calls == 5 and highway[23].seats == seats_needed(5, 100 +
                                                                        wrapup["highway"]).seats
    assert plan.queues["urban"][9].seats is None  # no answered call: no handle time, no plan
    # The same from the command line, as a person reads it and as JSON.
    base = [sys.executable, "-m", "hotline.shell.cli", "staffing-plan", "--database",
            f"sqlite:///{tmp_path / 'ledger.sqlite'}", "--day", "2026-10-02", "--growth", "1.25"]
    out = subprocess.run([*base, "--queue", "manual"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "国庆节第2天 ← 2025-10-02" in out.stdout
    nine_line = next(line for line in out.stdout.splitlines() if line.startswith("09 "))
    assert nine_line.split() == ["09", str(manual[9].seats), "seats", "162.5"]
    js = json.loads(subprocess.run([*base, "--json", "--days", "2"], capture_output=True,
                                   text=True, timeout=60).stdout)
    assert [d["reference"] for d in js] == ["2025-10-02", "2025-10-03"]
    assert js[0]["queues"]["manual"][9]["seats"] == manual[9].seats
    bad = subprocess.run([*base, "--queue", "nope"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "no queue named 'nope'" in bad.stderr
    engine.dispose()
