"""The platform's calls out, as rows (acd/callers/models.py `Callback`): requested, placed,
tried, reached or given up. Plain functions taking a Session; the dialer (dialer.py) calls
them as Asterisk reports, and the IVR's messages and the day's revisits add rows here.

Retries: a caller not reached is tried again `retry_s` later (in calling hours, which the
dialer checks before placing anything), up to `max_attempts` tries; then the row is failed.
A retry of a kept place goes to the head of its queue: its turn had come.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from acd.callers.models import Callback
from acd.errors import Conflict, NotFound
from acd.history.models import Call
from acd.orders import service
from acd.orders.models import Revisit, WorkOrder
from hotline.center import DOMAINS, Center
from hotline.localtime import now_utc

FINAL = ("reached", "failed", "cancelled")
OPEN = ("waiting", "holding", "dialling")


def _new(s: Session, **fields: object) -> Callback | None:
    """Insert a row unless its key (kind + call, or the revisit) is there already: None."""
    try:
        with s.begin_nested():
            row = Callback(**fields)
            s.add(row)
            s.flush()
    except IntegrityError:
        return None
    return row


def request(s: Session, center: Center, node: str, call_uniqueid: str, number: str,
            queue: str, position: int, priority: int,
            at: datetime | None = None) -> Callback | None:
    """A caller pressed 1: call it back at its place in `queue`. Once per call (None when the
    call has one already)."""
    at = at or now_utc()
    return _new(s, center=center.center_of_queue(queue), node=node, kind="queue",
                number=number[:40],
                queue=queue, call_uniqueid=call_uniqueid, position=max(1, position),
                priority=priority, state="waiting", attempts=0,
                max_attempts=center.callers.callback_attempts, requested_at=at, next_at=at,
                seat_id="", last_status="", leg="")


def _order_kind(center: Center, queue: str) -> tuple[str, str]:
    """(type, domain) a message's order starts with, from the queue the caller chose."""
    try:
        domain = center.queue(queue).domain
    except KeyError:
        domain = "general"
    if domain in ("complaint", "suggestion"):
        return domain, "other"
    return "consultation", domain if domain in DOMAINS else "other"


def message(s: Session, center: Center, node: str, call_uniqueid: str, number: str,
            queue: str, reason: str, recording: str, due: datetime,
            at: datetime | None = None) -> tuple[WorkOrder, Callback | None] | None:
    """A message (留言) left out of hours or with no seat: a work order (source `message`,
    with the call and its recording) and a callback due at `due` (the queue's next opening).
    Once per call: None when the call has its order already."""
    if s.scalars(select(WorkOrder.id).where(
            WorkOrder.call_uniqueid == call_uniqueid)).first() is not None:
        return None
    at = at or now_utc()
    why = "非工作时间" if reason == "closed" else "无座席在线"
    kind, domain = _order_kind(center, queue)
    whose = center.center_of_queue(queue)  # the center whose queue the caller was for
    order = service.create(
        s, center=whose, type=kind, domain=domain, source="message",
        content=f"来电留言（{why}），请听录音后回电。录音：{recording or '无'}",
        caller_number=number[:40], call_uniqueid=call_uniqueid, by="ivr", accepted_at=at,
        timezone=center.timezone)
    row = None
    if number:
        row = _new(s, center=whose, node=node, kind="message", number=number[:40],
                   queue=queue, call_uniqueid=call_uniqueid, order_id=order.id, position=0,
                   priority=0, state="waiting", attempts=0,
                   max_attempts=center.callers.callback_attempts, requested_at=at,
                   next_at=max(due, at), seat_id="", last_status="", leg="")
    return order, row


def revisits_to_dial(s: Session, center: Center, node: str, day: object,
                     at: datetime | None = None) -> list[Callback]:
    """A row for each of the day's revisits not reached yet (once per revisit)."""
    at = at or now_utc()
    out = []
    rows = s.execute(select(Revisit, WorkOrder).join(WorkOrder, WorkOrder.id == Revisit.order_id)
                     .outerjoin(Callback, Callback.revisit_id == Revisit.id)
                     .where(Revisit.sampled_on == day, WorkOrder.center.in_(center.codes),
                            Callback.id.is_(None), Revisit.reached.is_not(True),
                            WorkOrder.caller_number != "")).all()
    for revisit, order in rows:
        row = _new(s, center=order.center, node=node, kind="revisit",
                   number=order.caller_number[:40], queue="", call_uniqueid=None,
                   order_id=order.id, revisit_id=revisit.id, position=0, priority=0,
                   state="waiting", attempts=0, max_attempts=center.callers.revisit_attempts,
                   requested_at=at, next_at=at, seat_id="", last_status="", leg="")
        if row is not None:
            out.append(row)
    return out


def seat_came(s: Session, center: str, queue: str, at: datetime | None = None) -> list[int]:
    """A seat signed in to `queue` (open now): the messages left there that wait for a seat,
    not tried yet, are due now rather than at the dialer's next look for a seat. The ids."""
    at = at or now_utc()
    rows = list(s.scalars(select(Callback).where(
        Callback.center == center, Callback.kind == "message", Callback.queue == queue,
        Callback.state == "waiting", Callback.attempts == 0, Callback.next_at > at)
        .order_by(Callback.id)))
    for row in rows:
        row.next_at = at
    return [row.id for row in rows]


def _codes(centers: str | tuple[str, ...]) -> tuple[str, ...]:
    return (centers,) if isinstance(centers, str) else centers


def due(s: Session, centers: str | tuple[str, ...], at: datetime | None = None,
        limit: int = 20) -> list[Callback]:
    """The waiting rows whose time has come, of a center or of every center given."""
    return list(s.scalars(select(Callback).where(
        Callback.center.in_(_codes(centers)), Callback.state == "waiting",
        Callback.next_at <= (at or now_utc())).order_by(Callback.next_at, Callback.id)
        .limit(limit)))


def open_rows(s: Session, centers: str | tuple[str, ...]) -> list[Callback]:
    return list(s.scalars(select(Callback).where(Callback.center.in_(_codes(centers)),
                                                 Callback.state.in_(("holding", "dialling")))))


def placed(row: Callback, leg: str, at: datetime | None = None) -> None:
    """An attempt starts: a leg holds the place (or the caller is being dialled)."""
    row.attempts += 1
    row.leg, row.last_try_at = leg, at or now_utc()
    row.state = "dialling" if row.kind == "revisit" else "holding"


def dialling(row: Callback, seat: str) -> None:
    if row.state in OPEN:
        row.state, row.seat_id = "dialling", seat[:20] or row.seat_id


def reached(row: Callback, at: datetime | None = None) -> None:
    if row.state in OPEN:
        row.state, row.reached_at = "reached", at or now_utc()
        row.ended_at, row.last_status = row.reached_at, "ANSWER"


def not_reached(row: Callback, status: str, retry_s: int, at: datetime | None = None) -> None:
    """This attempt did not reach the caller: try again later, or give up."""
    if row.state in FINAL:
        return
    at = at or now_utc()
    row.last_status, row.leg = status[:60], ""
    if row.attempts >= row.max_attempts:
        row.state, row.ended_at = "failed", at
        return
    row.state, row.next_at = "waiting", at + timedelta(seconds=retry_s)
    if row.kind == "queue":
        row.position = 1  # its turn had come: a retry goes to the head of the queue


def find(s: Session, center: str, callback_id: int) -> Callback:
    row = s.get(Callback, callback_id)
    if row is None or row.center != center:
        raise NotFound("no such callback")
    return row


def cancel(row: Callback, by: str, at: datetime | None = None) -> None:
    """A supervisor takes a callback off the list (the caller called again, say)."""
    if row.state in FINAL or row.state == "dialling":
        raise Conflict(f"callback {row.id} is {row.state}: it cannot be cancelled now")
    row.state, row.ended_at, row.last_status = "cancelled", at or now_utc(), f"cancelled by {by}"[:60]


def view(row: Callback) -> dict[str, object]:
    def t(v: datetime | None) -> str | None:
        return v.isoformat() if v else None
    return {"id": row.id, "kind": row.kind, "number": row.number, "queue": row.queue,
            "call_uniqueid": row.call_uniqueid, "order_id": row.order_id,
            "revisit_id": row.revisit_id, "position": row.position, "state": row.state,
            "attempts": row.attempts, "max_attempts": row.max_attempts,
            "requested_at": t(row.requested_at), "next_at": t(row.next_at),
            "reached_at": t(row.reached_at), "seat": row.seat_id,
            "last_status": row.last_status}


def tally(s: Session, center: str, since: datetime, until: datetime) -> dict[str, int]:
    """Callbacks callers booked in the queue (kind `queue`) in [since, until), by what became
    of them: booked, reached, failed, cancelled, open (waiting for a try, or being tried)."""
    states = list(s.scalars(select(Callback.state).where(
        Callback.center == center, Callback.kind == "queue", Callback.requested_at >= since,
        Callback.requested_at < until)))
    return {"booked": len(states), "reached": states.count("reached"),
            "failed": states.count("failed"), "cancelled": states.count("cancelled"),
            "open": sum(1 for x in states if x in OPEN)}


def messages(s: Session, center: str, since: datetime, until: datetime) -> dict[str, int]:
    """Messages (留言) taken in [since, until): their work orders (source `message`), those
    whose call kept a recording, and their callbacks reached so far."""
    rows = s.execute(select(WorkOrder.id, Call.recording).outerjoin(
        Call, Call.uniqueid == WorkOrder.call_uniqueid).where(
        WorkOrder.center == center, WorkOrder.source == "message",
        WorkOrder.accepted_at >= since, WorkOrder.accepted_at < until)).all()
    ids = [order_id for order_id, _ in rows]
    reached = s.scalars(select(Callback.id).where(
        Callback.kind == "message", Callback.order_id.in_(ids),
        Callback.state == "reached")).all() if ids else []
    return {"taken": len(rows), "recorded": sum(1 for _, rec in rows if rec),
            "called_back": len(reached)}


def message_orders(s: Session, center: str, since: datetime,
                   until: datetime) -> list[dict[str, object]]:
    """Each message (留言) taken in [since, until), in order: its work order, the call's IVR
    result (closed / no_seat), the queue, the recording, and its callback as it stands."""
    rows = s.execute(select(WorkOrder, Call.ivr_result, Call.recording, Callback).outerjoin(
        Call, Call.uniqueid == WorkOrder.call_uniqueid).outerjoin(
        Callback, (Callback.kind == "message") & (Callback.order_id == WorkOrder.id)).where(
        WorkOrder.center == center, WorkOrder.source == "message",
        WorkOrder.accepted_at >= since, WorkOrder.accepted_at < until)
        .order_by(WorkOrder.id)).all()
    return [{"order": o.id, "number": o.caller_number, "reason": reason or "",
             "recording": recording or "", "status": o.status,
             "callback": view(cb) if cb is not None else None}
            for o, reason, recording, cb in rows]
