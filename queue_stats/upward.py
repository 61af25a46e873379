"""Reporting upward to the provincial platform, and the two indicators that measure it.

- 通话记录报送率 call-record reporting rate = calls (started in the period) whose record was
  written into an upload file / calls started in the period (counted with the order
  indicators, in their pass over the calls: `OrderIndicators.call_record_reporting`).
- 数据报送及时率 timely reporting = reports due in the period that were submitted by their due
  time / reports due in the period. A monthly report is due before the 3rd of the next month,
  an annual report before 10 January, a special-event report within 2 days after the event
  (seed 001, DOMAIN.md). Every month of a center with calls is due whether or not a report was
  made; special events count once a report for them exists.
Times are UTC in the ledger; due dates are the center's local midnights.

Pushing to the platform (issue 15): with `[exchange] platform_url` in the center file, call
records and reports go to the platform's endpoint through the outbox (acd/outbox/: retried,
idempotency keys, resumed after an outage). A record or a report counts as reported when the
platform acknowledged it (acd/outbox/acks.py writes the `call_record_uploads` /
`report_submissions` row then), so both rates count what the receiver acknowledged. The
platform link's outages (`outages` rows of node `link:platform`) are the assessment's 断网.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, exists, insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Call
from acd.history.upward import CallRecordUpload, ReportSubmission
from acd.outbox import sender
from acd.outbox.models import OutboxMessage
from acd.outbox.queue import enqueue
from hotline.center import Center
from queue_stats.indicators import Ratio, next_month

KINDS = ("month", "year", "special")


def due_at(kind: str, period_start: datetime, period_end: datetime) -> datetime:
    """When a report of a period (local times; end exclusive) is due, local time."""
    if kind == "month":
        return period_end.replace(day=3, hour=0, minute=0, second=0, microsecond=0)
    if kind == "year":
        return period_end.replace(month=1, day=10, hour=0, minute=0, second=0, microsecond=0)
    if kind == "special":
        return period_end + timedelta(days=2)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def submit(engine: Engine, center: str, kind: str, title: str, period_start: datetime,
           period_end: datetime, at: datetime | None = None) -> ReportSubmission:
    """Record that a report was handed in (by `hotline report --submit`)."""
    row = ReportSubmission(center=center, kind=kind, title=title, period_start=period_start,
                           period_end=period_end, due_at=due_at(kind, period_start, period_end),
                           submitted_at=at or datetime.now(UTC).replace(tzinfo=None))
    with Session(engine, expire_on_commit=False) as s:
        s.add(row)
        s.commit()
    return row


@dataclass(frozen=True)
class Upload:
    path: Path
    records: int


FIELDS = ("uniqueid", "center", "caller_number", "dialed", "started_at", "ended_at",
          "final_queue", "outcome", "seat_id", "wait_s", "talk_s", "survey_score")


def upload(engine: Engine, since: datetime, until: datetime, out_dir: Path,
           center: str | None = None, now: datetime | None = None) -> Upload:
    """Write the call records of [since, until) not yet uploaded into one JSON-lines file for
    the platform, and record each as uploaded. Ended calls only: a call still going is sent
    by the next upload."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    done = select(CallRecordUpload.uniqueid)
    q = (select(*(getattr(Call, f) for f in FIELDS))
         .where(Call.started_at >= since, Call.started_at < until, Call.ended_at.is_not(None),
                Call.uniqueid.not_in(done),
                Call.callback_of.is_(None))   # a callback's leg: its call is the record
         .order_by(Call.started_at))
    if center:
        q = q.where(Call.center == center)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"calls-{now:%Y%m%dT%H%M%S}.jsonl"
    n = 0
    with engine.begin() as conn, path.open("w", encoding="utf-8") as f:
        rows = conn.execute(q).all()
        for row in rows:
            rec = dict(zip(FIELDS, row, strict=True))
            for k in ("started_at", "ended_at"):
                rec[k] = rec[k].isoformat() + "Z" if rec[k] else None
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        for i in range(0, len(rows), 5000):
            conn.execute(insert(CallRecordUpload), [
                {"uniqueid": r[0], "uploaded_at": now, "batch": path.name}
                for r in rows[i:i + 5000]])
        n = len(rows)
    return Upload(path, n)


def _months(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    out, m = [], since.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while m < until:
        out.append((m, next_month(m)))
        m = next_month(m)
    return out


def timely_reporting_by_center(engine: Engine, since: datetime, until: datetime,
                               centers: list[str],
                               timezone: str = "Asia/Shanghai") -> dict[str, Ratio]:
    """Reports due in [since, until) (UTC), per center: the monthly report of every month
    whose due time falls in the period, plus annual and special reports made with a due time
    in the period."""
    tz = ZoneInfo(timezone)

    def local(t: datetime) -> datetime:
        return t.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)

    lo, hi = local(since), local(until)
    with engine.connect() as conn:
        subs = conn.execute(select(ReportSubmission.center, ReportSubmission.kind,
                                   ReportSubmission.period_start, ReportSubmission.due_at,
                                   ReportSubmission.submitted_at)).all()
    out: dict[str, Ratio] = {}
    for c in centers:
        mine = [s for s in subs if s.center == c]
        due = on_time = 0
        # The monthly reports due in the period: months that end up to a month before it.
        for start, end in _months(lo - timedelta(days=31), hi):
            d = due_at("month", start, end)
            if not lo <= d < hi:
                continue
            due += 1
            made = [s.submitted_at for s in mine if s.kind == "month" and s.period_start == start]
            on_time += any(local_submitted <= d for local_submitted in map(local, made))
        for s in mine:
            if s.kind != "month" and lo <= s.due_at < hi:
                due += 1
                on_time += local(s.submitted_at) <= s.due_at
        out[c] = Ratio(on_time, due)
    return out


# --- pushing to the platform (through the outbox) ------------------------------------------------

def enqueue_calls(engine: Engine, center: str, now: datetime | None = None,
                  chunk: int = 5000) -> int:
    """Every ended call of the center not yet acknowledged by the platform nor waiting in the
    outbox, as one outbox message each (key `call:<uniqueid>`): the number enqueued."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    queued = exists().where(OutboxMessage.key == literal("call:") + Call.uniqueid)
    q = (select(*(getattr(Call, f) for f in FIELDS))
         .where(Call.center == center, Call.ended_at.is_not(None),
                Call.uniqueid.not_in(select(CallRecordUpload.uniqueid)), ~queued,
                Call.callback_of.is_(None))
         .order_by(Call.started_at))
    n = 0
    with engine.begin() as conn:
        rows = conn.execute(q).all()
        for i in range(0, len(rows), chunk):
            batch = []
            for row in rows[i:i + chunk]:
                rec = dict(zip(FIELDS, row, strict=True))
                for k in ("started_at", "ended_at"):
                    rec[k] = rec[k].isoformat() + "Z" if rec[k] else None
                batch.append({"center": center, "channel": "platform", "kind": "call",
                              "key": f"call:{rec['uniqueid']}",
                              "payload": json.dumps(rec, ensure_ascii=False),
                              "created_at": now, "next_at": now, "attempts": 0,
                              "state": "pending", "last_error": ""})
            conn.execute(insert(OutboxMessage), batch)
            n += len(batch)
    return n


def enqueue_report(engine: Engine, center: str, kind: str, title: str, period_start: datetime,
                   period_end: datetime) -> bool:
    """A report for the platform (key: center, kind, period): False if it was queued before."""
    payload = {"center": center, "kind": kind, "title": title,
               "period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
               "due_at": due_at(kind, period_start, period_end).isoformat()}
    with Session(engine) as s, s.begin():
        return enqueue(s, center=center, channel="platform", kind="report",
                       key=f"report:{center}:{kind}:{period_start:%Y%m%d}:{period_end:%Y%m%d}",
                       payload=payload) is not None


async def push(engine: Engine, center: Center) -> tuple[int, sender.Delivery]:
    """Enqueue the call records not yet reported (of every center of the deployment), then
    deliver the platform's outbox (with whatever earlier rounds left: a push after an outage
    resumes)."""
    # Every center of the deployment reports its own calls (docs/province.md).
    n = sum(enqueue_calls(engine, code) for code in center.codes)
    done = await sender.deliver(sessionmaker(engine, expire_on_commit=False), center,
                                channels=("platform",))
    return n, done
