"""Writes the live model's changes to the database, idempotently.

A call is keyed by its Uniqueid and a queue stay by (Uniqueid, queue): writing the same call
twice (a resync, a replay of queue_log after a restart) updates the same rows. Fields the
writer does not know (None, "") never overwrite what is already there.

The engine does not call this from its event loop: it keeps each batch of changes as a record
of its journal (acd/history/journal.py) and the writer thread (acd/history/writer.py) hands
the records to `apply`, which writes them in one transaction with the last record's number,
so a record is applied once. What a restarted engine needs back (the calls still open, each
seat's open interval, where queue_log was read to) comes from `resume`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from acd.ami.events import utc
from acd.calls.state import CallState, QueueOutcome, Stay
from acd.history import spy
from acd.history.models import (
    Call,
    EngineCursor,
    Outage,
    QueueCall,
    SeatInterval,
)
from acd.history.queue_log import Position
from acd.history.spy import SpyEvent
from acd.orders.models import WorkOrder
from acd.seats.state import SeatState
from hotline.center import Center

CLOSED_S = 600.0


def _t(ts: float | None) -> datetime | None:
    return None if ts is None else utc(ts)


def _set(row: object, **values: object) -> None:
    """Set only what is known: None and "" leave the stored value alone."""
    for key, value in values.items():
        if value is not None and value != "":
            setattr(row, key, value)


@dataclass(frozen=True)
class Transition:
    """A seat transition as the journal keeps it (acd.model.SeatTransition's fields)."""

    seat: str
    new: SeatState
    at: float
    reason: str = ""
    queue: str = ""
    uniqueid: str = ""


@dataclass(frozen=True)
class OpenSeat:
    """A seat's interval still open in the ledger: where a restarted engine takes it up."""

    seat: str
    state: SeatState
    since: float
    reason: str
    queue: str
    uniqueid: str


@dataclass(frozen=True)
class Resume:
    """What a restarted engine reads back: the node's calls still open, every seat's open
    interval, where queue_log was read to and the last event the engine had applied."""

    calls: list[CallState]
    seats: list[OpenSeat]
    position: Position | None
    last_event_at: float | None
    closed: list[CallState]    # calls that ended shortly before the last event, or that
    #                            ended with their callback still to come


class Ledger:
    def __init__(self, sessions: sessionmaker[Session], center: str, node: str,
                 deployment: Center | None = None) -> None:
        self.sessions = sessions
        self.center = center
        self.node = node
        # Several centers in one deployment ([[hosted]]): a call is counted for the center
        # whose queue it was (before any queue, the center whose number it dialled), a seat's
        # intervals for the seat's own center, lent or not.
        self.deployment = deployment
        self.centers = deployment.codes if deployment is not None else (center,)

    def _call_center(self, call: CallState, first_queue: str) -> str:
        d = self.deployment
        if d is None:
            return self.center
        return d.center_of_queue(first_queue) if first_queue else \
            d.center_of_extension(call.dialed)

    def _seat_center(self, seat: str) -> str:
        return self.deployment.center_of_seat(seat) if self.deployment is not None \
            else self.center

    def write(self, calls: list[CallState], seats: list[Any], cursor: float | None) -> None:
        """A batch of changes in one transaction: calls (each in its last state), seat
        transitions in order, and the replay cursor (tools and tests; the engine goes
        through the journal and `apply`)."""
        if not calls and not seats and cursor is None:
            return
        with self.sessions.begin() as s:
            self._write_calls(s, calls)
            self._seat_transitions(s, seats)
            if cursor is not None:
                self._advance_cursor(s, cursor)

    # --- journal records -------------------------------------------------------------------------

    def applied_seq(self) -> int:
        with self.sessions() as s:
            row = s.get(EngineCursor, self.node)
            return row.journal_seq if row is not None else 0

    def apply(self, records: list[dict[str, Any]]) -> int:
        """Journal records, in order, in one transaction; those the database already has
        (numbered up to its `journal_seq`) are skipped. How many were written."""
        with self.sessions.begin() as s:
            row = s.get(EngineCursor, self.node)
            done = row.journal_seq if row is not None else 0
            todo = [r for r in records if int(r["seq"]) > done]
            if not todo:
                return 0
            self._write_calls(s, [CallState.from_dict(c) for r in todo
                                  for c in r.get("calls", ())])
            self._seat_transitions(s, [Transition(t["seat"], SeatState(t["new"]), t["at"],
                                                  t.get("reason", ""), t.get("queue", ""),
                                                  t.get("uniqueid", ""))
                                       for r in todo for t in r.get("seats", ())])
            # The listening audit (acd/history/spy.py), in the same transaction and order.
            spy.apply(s, self.center, self.node, [SpyEvent(**e) for r in todo
                                                  for e in r.get("spies", ())])
            for r in todo:
                for o in r.get("outages", ()):
                    if "start" in o:
                        self._outage_started(s, o["start"], o.get("reason", ""))
                    else:
                        self._outage_ended(s, o["end"])
            cursors = [r["cursor"] for r in todo if r.get("cursor")]
            if row is None:
                at = cursors[-1]["at"] if cursors else todo[0]["seq"] / 1e6
                row = EngineCursor(node=self.node, last_event_at=utc(at), journal_seq=0)
                s.add(row)
            if cursors:
                c = cursors[-1]
                if utc(c["at"]) > row.last_event_at:
                    row.last_event_at = utc(c["at"])
                if c.get("inode") is not None:
                    row.queue_log_inode, row.queue_log_offset = c["inode"], c["offset"]
            row.journal_seq = int(todo[-1]["seq"])
            return len(todo)

    def resume(self, horizon_s: float = 86400.0, now: float | None = None) -> Resume:
        """What a restarted engine takes up (see `Resume`). Calls open for longer than
        `horizon_s` are not taken up (the resync ends those whose channel is gone:
        `open_calls`)."""
        from time import time as _now
        since = utc((now or _now()) - horizon_s)
        with self.sessions() as s:
            calls = _call_states(s, select(Call).where(Call.node == self.node,
                                                       Call.ended_at.is_(None),
                                                       Call.started_at >= since))
            seats: dict[str, OpenSeat] = {}
            for i in s.scalars(select(SeatInterval).where(
                    SeatInterval.center.in_(self.centers), SeatInterval.ended_at.is_(None))
                    .order_by(SeatInterval.started_at)):
                seats[i.seat_id] = OpenSeat(i.seat_id, SeatState(i.state), _epoch(i.started_at),
                                            i.reason, i.queue, i.uniqueid)
            cur = s.get(EngineCursor, self.node)
            position = None
            closed: list[CallState] = []
            if cur is not None and cur.queue_log_inode is not None:
                position = Position(cur.queue_log_inode, cur.queue_log_offset or 0)
            if cur is not None:
                # Calls that ended since a little before the saved position: queue_log lines
                # after it may still name them.
                closed = _call_states(s, select(Call).where(
                    Call.node == self.node,
                    Call.ended_at >= cur.last_event_at - timedelta(seconds=CLOSED_S)))
            # Calls ended with their callback still to come (issue 16): its events name them.
            # Ended ones only: a call still open is among `calls` (taken up twice, the replay
            # dropped it from the calls in progress, and its row stayed open for good).
            known = {c.uniqueid for c in closed}
            closed += [c for c in _call_states(s, select(Call).where(
                Call.node == self.node, Call.started_at >= since, Call.ended_at.is_not(None),
                Call.uniqueid.in_(select(QueueCall.uniqueid).where(
                    QueueCall.outcome == QueueOutcome.CALLBACK.value))))
                if c.uniqueid not in known]
            return Resume(calls, list(seats.values()), position,
                          _epoch(cur.last_event_at) if cur is not None else None, closed)

    def open_calls(self) -> list[CallState]:
        """Every call of the node the ledger has open, however old, with its stays: the
        resync compares them with Asterisk's channels (a row open whose channel is gone
        ended while nobody listened)."""
        with self.sessions() as s:
            return _call_states(s, select(Call).where(Call.node == self.node,
                                                      Call.ended_at.is_(None)))

    # --- calls ---------------------------------------------------------------------------------

    def write_calls(self, calls: list[CallState]) -> None:
        if not calls:
            return
        with self.sessions.begin() as s:
            self._write_calls(s, calls)

    def _write_calls(self, s: Session, calls: list[CallState]) -> None:
        # The same call may come several times in a batch: write its last state once. The
        # rows of every call of the batch are read in two queries, not two per call.
        latest = {c.uniqueid: c for c in calls}
        if not latest:
            return
        ids = list(latest)
        with s.no_autoflush:
            rows = {r.uniqueid: r for r in s.scalars(select(Call).where(Call.uniqueid.in_(ids)))}
            stays: dict[tuple[str, str], QueueCall] = {
                (r.uniqueid, r.queue): r
                for r in s.scalars(select(QueueCall).where(QueueCall.uniqueid.in_(ids)))}
            for uid, call in latest.items():
                self._write_call(s, call, rows.get(uid), stays)

    def _write_call(self, s: Session, call: CallState, row: Call | None,
                    stays: dict[tuple[str, str], QueueCall]) -> None:
        if row is None:
            row = Call(uniqueid=call.uniqueid, linkedid=call.linkedid or call.uniqueid,
                       node=self.node, center=self.center, started_at=utc(call.started))
            s.add(row)
        answered = call.answered_stay
        ordered = sorted(call.stays.values(), key=lambda st: st.entered)
        center = self._call_center(call, ordered[0].queue if ordered else "")
        if row.center != center:
            row.center = center
        new_score = call.survey_score is not None and call.survey_score != row.survey_score
        _set(row, caller_number=call.caller[:40], caller_name=call.caller_name[:80],
             dialed=call.dialed[:40],
             ended_at=_t(call.ended), ivr_path=call.ivr_path, ivr_seconds=call.ivr_seconds,
             ivr_result=call.ivr_result, handoff_to=call.handoff_to,
             heard_broadcast=call.heard_broadcast or None, recording=call.recording,
             hangup_by=call.hangup_by, survey_score=call.survey_score,
             survey_at=_t(call.survey_at), outcome=call.outcome,
             first_queue=ordered[0].queue if ordered else "",
             final_queue=ordered[-1].queue if ordered else "",
             seat_id=answered.seat if answered else "",
             answered_at=_t(answered.answered) if answered else None,
             talk_s=answered.talk_s if answered else None, wait_s=call.wait_s,
             callback_of=call.callback_of or None)
        if call.started and (row.started_at is None or utc(call.started) < row.started_at):
            row.started_at = utc(call.started)
        if ordered and (row.queued_at is None or utc(ordered[0].entered) < row.queued_at):
            row.queued_at = utc(ordered[0].entered)
        if new_score:
            # The order filed for this call keeps the caller's answer too (the instant-answer
            # satisfaction reads the orders alone); an order filed later copies it itself.
            s.execute(update(WorkOrder).where(WorkOrder.call_uniqueid == call.uniqueid,
                                              or_(WorkOrder.survey_score.is_(None),
                                                  WorkOrder.survey_score != call.survey_score))
                      .values(survey_score=call.survey_score)
                      .execution_options(synchronize_session=False))
        for stay in ordered:
            self._write_stay(s, call.uniqueid, stay, stays)

    def _write_stay(self, s: Session, uniqueid: str, stay: Stay,
                    stays: dict[tuple[str, str], QueueCall]) -> None:
        row = stays.get((uniqueid, stay.queue))
        if row is None:
            center = self.deployment.center_of_queue(stay.queue) \
                if self.deployment is not None else self.center
            row = QueueCall(uniqueid=uniqueid, center=center, queue=stay.queue,
                            entered_at=utc(stay.entered), position=stay.position)
            s.add(row)
            stays[(uniqueid, stay.queue)] = row
        _set(row, left_at=_t(stay.left), seat_id=stay.seat, answered_at=_t(stay.answered),
             talk_s=stay.talk_s, ended_at=_t(stay.ended), wait_s=stay.wait_s)
        if stay.outcome is not QueueOutcome.WAITING or not row.outcome:
            row.outcome = stay.outcome.value

    def load_call(self, uniqueid: str) -> CallState | None:
        """A call the ledger has (e.g. from before a restart), as the model follows it."""
        with self.sessions() as s:
            row = s.get(Call, uniqueid)
            return None if row is None else _call_state(row, list(row.attempts))

    # --- seats ---------------------------------------------------------------------------------

    def seat_transition(self, seat: str, new: SeatState, at: float, reason: str = "",
                        queue: str = "", uniqueid: str = "") -> None:
        """Close the seat's open interval at `at` and open one in the new state."""
        with self.sessions.begin() as s:
            self._seat_transition(s, seat, new, at, reason, queue, uniqueid)

    def _seat_transitions(self, s: Session, transitions: list[Any]) -> None:
        """A batch's transitions: per seat, close what was open at its first change, write
        the intervals the batch both opened and closed, leave the last one open."""
        by_seat: dict[str, list[Any]] = {}
        for t in transitions:
            by_seat.setdefault(t.seat, []).append(t)
        if not by_seat:
            return
        # The wrap-ups this batch ends go onto their calls (before the intervals close).
        closing = {seat: utc(ts[0].at) for seat, ts in by_seat.items()}
        wrapups = [(uid, closing[seat] - start) for seat, uid, start in s.execute(
            select(SeatInterval.seat_id, SeatInterval.uniqueid, SeatInterval.started_at)
            .where(SeatInterval.seat_id.in_(list(by_seat)), SeatInterval.ended_at.is_(None),
                   SeatInterval.state == SeatState.WRAPUP.value, SeatInterval.uniqueid != ""))]
        # One statement closes every seat's open interval, each at its own first change.
        s.execute(update(SeatInterval)
                  .where(SeatInterval.seat_id.in_(list(by_seat)),
                         SeatInterval.ended_at.is_(None))
                  .values(ended_at=case(closing, value=SeatInterval.seat_id))
                  .execution_options(synchronize_session=False))
        rows = []
        for seat, ts in by_seat.items():
            for t, nxt in zip(ts, [*ts[1:], None]):
                if t.new is SeatState.SIGNED_OUT:
                    continue
                rows.append({"seat_id": seat, "center": self._seat_center(seat),
                             "state": t.new.value,
                             "reason": t.reason[:40], "queue": t.queue[:40],
                             "uniqueid": t.uniqueid[:64], "started_at": utc(t.at),
                             "ended_at": utc(nxt.at) if nxt is not None else None})
                if t.new is SeatState.WRAPUP and t.uniqueid and nxt is not None:
                    wrapups.append((t.uniqueid, utc(nxt.at) - utc(t.at)))
        if rows:
            s.execute(insert(SeatInterval), rows)
        self._add_wrapups(s, wrapups)

    @staticmethod
    def _add_wrapups(s: Session, wrapups: list[tuple[str, Any]]) -> None:
        for uid, length in wrapups:
            seconds = max(0.0, length.total_seconds())
            s.execute(update(Call).where(Call.uniqueid == uid)
                      .values(wrapup_s=func.coalesce(Call.wrapup_s, 0.0) + seconds)
                      .execution_options(synchronize_session=False))

    def _seat_transition(self, s: Session, seat: str, new: SeatState, at: float,
                         reason: str = "", queue: str = "", uniqueid: str = "") -> None:
        when = utc(at)
        self._add_wrapups(s, [(uid, when - start) for uid, start in s.execute(
            select(SeatInterval.uniqueid, SeatInterval.started_at).where(
                SeatInterval.seat_id == seat, SeatInterval.ended_at.is_(None),
                SeatInterval.started_at <= when, SeatInterval.state == SeatState.WRAPUP.value,
                SeatInterval.uniqueid != ""))])
        s.execute(update(SeatInterval)
                  .where(SeatInterval.seat_id == seat, SeatInterval.ended_at.is_(None),
                         SeatInterval.started_at <= when)
                  .values(ended_at=when))
        if new is SeatState.SIGNED_OUT:
            return
        exists = s.scalars(select(SeatInterval.id).where(
            SeatInterval.seat_id == seat, SeatInterval.started_at == when,
            SeatInterval.state == new.value)).first()
        if exists is None:
            s.add(SeatInterval(seat_id=seat, center=self._seat_center(seat), state=new.value,
                               reason=reason[:40], queue=queue[:40],
                               uniqueid=uniqueid[:64], started_at=when))

    # --- outages and the replay cursor -----------------------------------------------------------

    def _outage_started(self, s: Session, at: float, reason: str) -> None:
        open_ = s.scalars(select(Outage).where(Outage.node == self.node,
                                               Outage.ended_at.is_(None))).first()
        if open_ is None:
            s.add(Outage(node=self.node, center=self.center, started_at=utc(at),
                         reason=reason[:500]))
            s.flush()

    def _outage_ended(self, s: Session, at: float) -> None:
        s.execute(update(Outage).where(Outage.node == self.node, Outage.ended_at.is_(None))
                  .values(ended_at=utc(at)).execution_options(synchronize_session=False))

    def cursor(self) -> float | None:
        with self.sessions() as s:
            row = s.get(EngineCursor, self.node)
            return _epoch(row.last_event_at) if row else None

    def advance_cursor(self, at: float) -> None:
        with self.sessions.begin() as s:
            self._advance_cursor(s, at)

    def _advance_cursor(self, s: Session, at: float) -> None:
        row = s.get(EngineCursor, self.node)
        if row is None:
            s.add(EngineCursor(node=self.node, last_event_at=utc(at)))
        elif utc(at) > row.last_event_at:
            row.last_event_at = utc(at)


def _epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp()


def _call_states(s: Session, query: Any) -> list[CallState]:
    """The calls a query selects, with their stays (two queries)."""
    rows = list(s.scalars(query))
    stays: dict[str, list[QueueCall]] = {}
    if rows:
        for q in s.scalars(select(QueueCall).where(
                QueueCall.uniqueid.in_([r.uniqueid for r in rows]))):
            stays.setdefault(q.uniqueid, []).append(q)
    return [_call_state(r, stays.get(r.uniqueid, [])) for r in rows]


def _call_state(row: Call, stays: list[QueueCall]) -> CallState:
    call = CallState(uniqueid=row.uniqueid, linkedid=row.linkedid, caller=row.caller_number,
                     caller_name=row.caller_name, dialed=row.dialed,
                     started=_epoch(row.started_at), ivr_path=row.ivr_path,
                     ivr_seconds=row.ivr_seconds, ivr_result=row.ivr_result,
                     handoff_to=row.handoff_to, heard_broadcast=row.heard_broadcast,
                     recording=row.recording, hangup_by=row.hangup_by,
                     survey_score=row.survey_score,
                     survey_at=_epoch(row.survey_at) if row.survey_at else None,
                     ended=_epoch(row.ended_at) if row.ended_at else None,
                     callback_of=row.callback_of or "")
    for q in stays:
        call.stays[q.queue] = Stay(
            queue=q.queue, entered=_epoch(q.entered_at), position=q.position,
            left=_epoch(q.left_at) if q.left_at else None,
            outcome=QueueOutcome(q.outcome), seat=q.seat_id,
            answered=_epoch(q.answered_at) if q.answered_at else None,
            talk_s=q.talk_s, ended=_epoch(q.ended_at) if q.ended_at else None)
    return call
