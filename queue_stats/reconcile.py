"""Reconciling the engine's ledger with Asterisk's queue_log, call by call.

For every call that entered a queue in the period, in either source, every queue stay must
agree: that it exists, its outcome, its wait, and for an answered stay its seat and its talk
time. queue_log keeps whole seconds (a wait is the whole second it left minus the whole second
it entered), so the ledger's times are compared the same way: floor(left) - floor(entered)
against queue_log's wait, floor(ended) - floor(answered) against its talk, within
`tolerance_s` (1 s: Asterisk's event and its queue_log line may fall either side of a second's
edge). A
stay the ledger still has open (waiting, or answered with no talk time) is reported too
(`open`): run the reconcile once the period's calls have ended. `differences()` lists every
disagreement; on a clean run the list is empty. A missing or unreadable queue_log is
`QueueLogError`, naming the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from acd.history.queue_log import LogCall, LogStay, read_file

# queue_log and the ledger name some outcomes differently; both sides are mapped to these.
# A caller who pressed 1 for a callback left with a key (EXITWITHKEY): its stay is "callback",
# then "callback_answered" once the callback reached it.
_SAME = {"exit_empty": "timeout", "exit_key": "timeout", "callback": "timeout",
         "callback_answered": "timeout"}
_CALLBACKS = ("callback", "callback_answered")
WHAT = ("missing_in_ledger", "missing_in_queue_log", "open", "outcome", "wait", "seat", "talk")


@dataclass(frozen=True)
class Difference:
    callid: str
    queue: str
    what: str          # one of WHAT
    ledger: str = ""
    queue_log: str = ""

    def __str__(self) -> str:
        return (f"{self.callid} {self.queue}: {self.what} "
                f"(ledger {self.ledger or '-'}, queue_log {self.queue_log or '-'})")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def ledger_stays(engine: Engine, since: float, until: float,
                 node: str | None = None) -> dict[tuple[str, str], QueueCall]:
    """The ledger's stays of calls whose first queue entry is in [since, until); of one
    node's calls if `node` is given (each node has its own queue_log)."""
    lo, hi = _utc(since), _utc(until)
    with Session(engine) as s:
        query = select(QueueCall).where(QueueCall.entered_at >= lo - timedelta(days=1),
                                        QueueCall.entered_at < hi)
        if node is not None:
            query = query.join(Call, Call.uniqueid == QueueCall.uniqueid).where(Call.node == node)
        rows = s.scalars(query)
        keep = {uid for uid, stays in _by_call(rows).items()
                if lo <= min(r.entered_at for r in stays) < hi}
        found = s.scalars(select(QueueCall).where(QueueCall.uniqueid.in_(keep))) if keep else []
        return {(r.uniqueid, r.queue): r for r in found}


def _by_call(rows) -> dict[str, list[QueueCall]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[QueueCall]] = {}
    for r in rows:
        out.setdefault(r.uniqueid, []).append(r)
    return out


def _off(a: float | None, b: float | None, tolerance: float) -> bool:
    return b is not None and (a is None or abs(a - b) > tolerance)


def _seconds(start: datetime | None, end: datetime | None, fallback: float | None
             ) -> float | None:
    """end - start in whole seconds as queue_log counts them (else the ledger's own figure)."""
    if start is None or end is None:
        return fallback
    return float(int(_epoch(end)) - int(_epoch(start)))


def _epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp()


def compare(callid: str, stay: LogStay, row: QueueCall, tolerance_s: float) -> list[Difference]:
    """How one stay of the ledger differs from queue_log's."""
    theirs = _SAME.get(stay.outcome, stay.outcome)
    ours = _SAME.get(row.outcome, row.outcome)
    talking = row.answered_at is not None and row.talk_s is None
    if ours == "waiting" or talking:
        return [Difference(callid, stay.queue, "open", "talking" if talking else ours,
                           stay.outcome + (" (talking)" if stay.open and theirs != "waiting"
                                           else ""))]
    if ours != theirs:
        return [Difference(callid, stay.queue, "outcome", ours, theirs)]
    out = []
    # A callback's stay waited until the caller pressed 1 (queue_log's EXITWITHKEY), not
    # until the callback reached it (its answered_at).
    left = row.left_at if row.outcome in _CALLBACKS else row.answered_at or row.left_at
    wait = _seconds(row.entered_at, left, row.wait_s)
    if _off(wait, stay.wait_s, tolerance_s):
        out.append(Difference(callid, stay.queue, "wait", str(row.wait_s), str(stay.wait_s)))
    if stay.seat and row.seat_id != stay.seat:
        out.append(Difference(callid, stay.queue, "seat", row.seat_id, stay.seat))
    talk = _seconds(row.answered_at, row.ended_at, row.talk_s) if row.talk_s is not None \
        else None
    if _off(talk, stay.talk_s, tolerance_s):
        out.append(Difference(callid, stay.queue, "talk", str(row.talk_s), str(stay.talk_s)))
    return out


def differences(engine: Engine, queue_log: Path, since: float, until: float,
                tolerance_s: float = 1.0, node: str | None = None) -> list[Difference]:
    """Every disagreement; with several nodes, name the node whose queue_log this is."""
    logged: dict[str, LogCall] = read_file(queue_log, since=int(since), until=int(until))
    # queue_log keeps the whole second a call entered: the ledger's calls of the same seconds.
    mine = ledger_stays(engine, int(since), int(until) + 1, node)
    out: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    for callid, call in sorted(logged.items()):
        for queue, stay in sorted(call.stays.items()):
            key = (callid, queue)
            seen.add(key)
            row = mine.get(key)
            if row is None:
                out.append(Difference(callid, queue, "missing_in_ledger",
                                      queue_log=stay.outcome))
                continue
            out.extend(compare(callid, stay, row, tolerance_s))
    for key, row in sorted(mine.items()):
        if key not in seen:
            out.append(Difference(key[0], key[1], "missing_in_queue_log", ledger=row.outcome))
    return out
