"""Reconciling the engine's ledger with Asterisk's queue_log, call by call.

For every call that entered a queue in the period, in either source, the two must agree on:
that it exists, each queue stay's outcome, and its wait (within `tolerance_s`, 1 s by default:
queue_log keeps whole seconds). `differences()` lists every disagreement; on a clean run the
list is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from acd.history.queue_log import LogCall, read_file

# queue_log and the ledger name some outcomes differently; both sides are mapped to these.
_SAME = {"exit_empty": "timeout", "exit_key": "timeout"}


@dataclass(frozen=True)
class Difference:
    callid: str
    queue: str
    what: str          # missing_in_ledger / missing_in_queue_log / outcome / wait
    ledger: str = ""
    queue_log: str = ""

    def __str__(self) -> str:
        return (f"{self.callid} {self.queue}: {self.what} "
                f"(ledger {self.ledger or '-'}, queue_log {self.queue_log or '-'})")


def _epoch(dt: datetime) -> float:
    from datetime import UTC
    return dt.replace(tzinfo=UTC).timestamp()


def ledger_stays(engine: Engine, since: float, until: float,
                 node: str | None = None) -> dict[tuple[str, str], QueueCall]:
    """The ledger's queue stays in the period; of one node's calls if `node` is given (each
    node has its own queue_log)."""
    with Session(engine) as s:
        query = select(QueueCall)
        if node is not None:
            query = query.join(Call, Call.uniqueid == QueueCall.uniqueid).where(Call.node == node)
        rows = s.scalars(query).all()
        return {(r.uniqueid, r.queue): r for r in rows
                if since <= _epoch(r.entered_at) <= until + 1}


def differences(engine: Engine, queue_log: Path, since: float, until: float,
                tolerance_s: float = 1.0, node: str | None = None) -> list[Difference]:
    """Every disagreement; with several nodes, name the node whose queue_log this is."""
    logged: dict[str, LogCall] = read_file(queue_log, since=int(since), until=int(until))
    mine = ledger_stays(engine, since - 1, until, node)
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
            theirs = _SAME.get(stay.outcome, stay.outcome)
            ours = _SAME.get(row.outcome, row.outcome)
            if ours != theirs:
                out.append(Difference(callid, queue, "outcome", ours, theirs))
            elif stay.wait_s is not None and (
                    row.wait_s is None or abs(row.wait_s - stay.wait_s) > tolerance_s):
                out.append(Difference(callid, queue, "wait", str(row.wait_s), str(stay.wait_s)))
    for key, row in sorted(mine.items()):
        if key not in seen and row.outcome != "waiting":
            out.append(Difference(key[0], key[1], "missing_in_queue_log", ledger=row.outcome))
    return out
