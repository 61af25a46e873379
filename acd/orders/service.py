"""Work orders: creation, the lifecycle with a guard on every transition, overdue lists,
revisit sampling, data conformity and retention. Plain functions taking a Session.

    accepted --answer_on_call--> closed        (即时答复: answered on the call)
    accepted --refuse(reason)--> not_accepted  (one of article 28's five reasons)
    accepted | returned --transfer(unit)--> transferred   (within 3 working days, art. 27)
    transferred --return_(reason)--> returned  (by the unit, within 2 working days, art. 32)
    transferred --extend(days, reason)--> transferred     (once, at most 30 working days, art. 34)
    transferred --reply(text)--> replied --close--> closed --archive--> archived
    not_accepted --archive--> archived
    replied | closed --reopen(reason)--> accepted         (an unsatisfied revisit)

Deadlines (seed 001) are days of the center's time zone (`timezone`, the center file's
`center.timezone`); stored times are naive UTC. A day of receipt never counts (PRC Civil Code
art. 201: a period in days starts on the next day), so "within N working days of day D" is
`add_working_days(D, N)`, the last day included:
- the center transfers within 3 working days of acceptance (`transfer_due`, art. 27); a
  returned or reopened order is the center's again, with 3 working days from that day; a
  transfer after its day is made and flagged (`transfer_late`) and listed while it waits;
- the handling unit replies within 5 / 10 / 30 working days (consultation / suggestion /
  complaint) of the day it received the transfer (art. 33, 自接到转办事项之日起): `received_at`
  and `due`, set by `start_unit_clock` when the order is transferred; a re-transfer after a
  return starts the clock again (a new deadline, and a new extension may be asked);
- a unit that is not responsible returns the order within 2 working days of receipt (art. 32);
- one extension of at most 30 working days, with a reason, asked before the deadline (art. 34).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from acd.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from acd.history.models import Call
from acd.orders import results  # noqa: F401 - results of 12345's orders go back (outbox)
from acd.orders.models import OrderEvent, Revisit, WorkOrder
from acd.orders.workdays import add_working_days, working_days_between
from hotline.center import DOMAINS, ORDER_TYPES
from hotline.dates import years_before
from hotline.localtime import DEFAULT_TIMEZONE, day_window, local_date, to_local

# Working days a handling unit has, by order type (seed 001 art. 33).
HANDLING_DAYS = {"complaint": 30, "consultation": 5, "suggestion": 10}
# Article 28: orders not accepted, with the reason told to the caller.
REFUSALS = {
    "out_of_remit": "不属于交通运输部门职责范围",
    "no_target_facts_grounds": "投诉无明确对象、事实和理由",
    "before_court_or_review": "已进入诉讼、仲裁、行政复议程序",
    "secrets_or_privacy": "涉及国家秘密、商业秘密、个人隐私",
    "excluded_by_law": "法律法规规定的其他情形",
}
TRANSFER_DAYS, RETURN_DAYS, MAX_EXTENSION = 3, 2, 30
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{5,6})$")


class OrderError(Refused):
    """A refused action on an order; the message says why."""


class InvalidOrder(OrderError, Invalid):
    """A field or an argument of the action is wrong."""


class OrderConflict(OrderError, Conflict):
    """The order's state (or its deadline) does not allow the action now."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create(s: Session, *, center: str, type: str, domain: str, content: str,
           caller_number: str = "", caller_name: str = "", call_uniqueid: str | None = None,
           source: str = "call", sub_item: str = "", subject: str = "", seat_id: str = "",
           by: str = "system", cross_region: bool = False, region: str = "",
           accepted_at: datetime | None = None,
           timezone: str = DEFAULT_TIMEZONE) -> WorkOrder:
    """A new order, accepted now (or at `accepted_at`, naive UTC): the center has until
    `transfer_due`, 3 working days after the local day of acceptance, to transfer it."""
    if type not in ORDER_TYPES:
        raise InvalidOrder(f"type must be one of {', '.join(ORDER_TYPES)}")
    if domain not in DOMAINS:
        raise InvalidOrder(f"domain must be one of {', '.join(DOMAINS)}")
    if not content.strip():
        raise InvalidOrder("content is required")
    if call_uniqueid and s.scalars(select(WorkOrder.id).where(
            WorkOrder.call_uniqueid == call_uniqueid)).first() is not None:
        raise OrderConflict(f"call {call_uniqueid} has a work order already")
    at = accepted_at or _now()
    transfer_due, estimated = add_working_days(local_date(at, timezone), TRANSFER_DAYS)
    score = s.scalar(select(Call.survey_score).where(Call.uniqueid == call_uniqueid)) \
        if call_uniqueid else None
    order = WorkOrder(center=center, type=type, domain=domain, content=content.strip(),
                      survey_score=score,
                      caller_number=caller_number, caller_name=caller_name,
                      call_uniqueid=call_uniqueid, source=source, sub_item=sub_item,
                      subject=subject, seat_id=seat_id, cross_region=cross_region,
                      region=region, status="accepted", accepted_at=at,
                      transfer_due=transfer_due, due=None, calendar_estimated=estimated)
    s.add(order)
    s.flush()
    _log(s, order, by, "accept", "", "accepted", at=at)
    return order


def _log(s: Session, order: WorkOrder, by: str, action: str, old: str, new: str,
         reason: str = "", at: datetime | None = None) -> None:
    s.add(OrderEvent(order_id=order.id, at=at or _now(), by=by, action=action,
                     from_status=old, to_status=new, reason=reason))


def _move(s: Session, order: WorkOrder, action: str, allowed: tuple[str, ...], new: str,
          by: str, reason: str = "", at: datetime | None = None) -> None:
    if order.status not in allowed:
        raise OrderConflict(f"order {order.id}: cannot {action} an order that is {order.status} "
                            f"(only from {' or '.join(allowed)})")
    old, order.status = order.status, new
    _log(s, order, by, action, old, new, reason, at)


def answer_on_call(s: Session, order: WorkOrder, by: str, reply: str = "") -> None:
    _move(s, order, "answer_on_call", ("accepted",), "closed", by, reply)
    order.answered_on_call, order.reply = True, reply
    order.closed_at = _now()


def refuse(s: Session, order: WorkOrder, by: str, reason: str) -> None:
    if reason not in REFUSALS:
        raise InvalidOrder(f"refusal reason must be one of {', '.join(REFUSALS)}")
    _move(s, order, "refuse", ("accepted",), "not_accepted", by, REFUSALS[reason])
    order.refusal = reason


def transfer(s: Session, order: WorkOrder, by: str, unit: str, at: datetime | None = None,
             timezone: str = DEFAULT_TIMEZONE) -> None:
    """To a handling unit, which receives it now: its clock starts (`start_unit_clock`). A
    transfer after `transfer_due` (art. 27) is made, and the order keeps `transfer_late`."""
    if not unit.strip():
        raise InvalidOrder("a transfer names the handling unit")
    when = at or _now()
    _move(s, order, "transfer", ("accepted", "returned"), "transferred", by, unit, when)
    order.handling_unit, order.transferred_at = unit.strip(), when
    if local_date(when, timezone) > order.transfer_due:
        order.transfer_late = True
    start_unit_clock(order, when, timezone)


def start_unit_clock(order: WorkOrder, received_at: datetime,
                     timezone: str = DEFAULT_TIMEZONE) -> None:
    """The handling unit has the order from `received_at` (naive UTC): it replies within
    5 / 10 / 30 working days after that local day (seed 001 art. 33; the day of receipt not
    counted). Called by `transfer`; a unit's own acknowledgement of receipt may call it again
    with its time. Starts afresh: the deadline, the extension, the reply time."""
    order.received_at = received_at
    order.due, estimated = add_working_days(local_date(received_at, timezone),
                                            HANDLING_DAYS[order.type])
    order.extended_days = 0
    order.replied_at = None
    order.calendar_estimated = order.calendar_estimated or estimated


def _back_to_center(order: WorkOrder, when: datetime, timezone: str) -> None:
    """No unit holds the order any more (a return, a reopening): no unit deadline; the center
    has 3 working days from this local day to transfer it again (art. 27 applied anew)."""
    order.received_at, order.due = None, None
    order.transfer_due, estimated = add_working_days(local_date(when, timezone), TRANSFER_DAYS)
    order.calendar_estimated = order.calendar_estimated or estimated


def return_(s: Session, order: WorkOrder, by: str, reason: str, at: datetime | None = None,
            timezone: str = DEFAULT_TIMEZONE) -> None:
    """The unit is not responsible: back within 2 working days after the local day it received
    the order, with a reason (art. 32)."""
    if not reason.strip():
        raise InvalidOrder("a return needs a reason")
    when = at or _now()
    received = order.received_at or order.transferred_at
    if order.status == "transferred" and received is not None and working_days_between(
            local_date(received, timezone), local_date(when, timezone)) > RETURN_DAYS:
        raise OrderConflict(f"order {order.id}: a return must come within {RETURN_DAYS} working "
                            "days of receiving the transfer")
    _move(s, order, "return", ("transferred",), "returned", by, reason, when)
    order.handling_unit = ""
    _back_to_center(order, when, timezone)


def extend(s: Session, order: WorkOrder, by: str, days: int, reason: str,
           at: datetime | None = None, timezone: str = DEFAULT_TIMEZONE) -> None:
    """Once, at most 30 working days past the deadline, with a reason, asked before the
    deadline has passed (art. 34: 提前反馈)."""
    if order.extended_days:
        raise OrderConflict(f"order {order.id} was extended already (once only)")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION:
        raise InvalidOrder(f"an extension is 1 to {MAX_EXTENSION} working days")
    if not reason.strip():
        raise InvalidOrder("an extension needs a reason")
    when = at or _now()
    if order.status == "transferred" and order.due is not None and \
            local_date(when, timezone) > order.due:
        raise OrderConflict(f"order {order.id}: its deadline {order.due} has passed; an "
                            "extension is asked before it")
    _move(s, order, "extend", ("transferred",), "transferred", by, f"+{days}: {reason}", when)
    if order.due is None:  # an order transferred before the unit's clock was kept
        start_unit_clock(order, order.transferred_at or when, timezone)
    order.due, estimated = add_working_days(order.due, days)  # type: ignore[arg-type]
    order.extended_days = days
    order.calendar_estimated = order.calendar_estimated or estimated


def reply(s: Session, order: WorkOrder, by: str, text: str,
          at: datetime | None = None) -> None:
    if not text.strip():
        raise InvalidOrder("a reply has text")
    _move(s, order, "reply", ("transferred",), "replied", by, text, at)
    order.reply, order.replied_at = text, at or _now()


def close(s: Session, order: WorkOrder, by: str, at: datetime | None = None) -> None:
    _move(s, order, "close", ("replied",), "closed", by, at=at)
    order.closed_at = at or _now()


def archive(s: Session, order: WorkOrder, by: str) -> None:
    _move(s, order, "archive", ("closed", "not_accepted"), "archived", by)


def reopen(s: Session, order: WorkOrder, by: str, reason: str, at: datetime | None = None,
           timezone: str = DEFAULT_TIMEZONE) -> None:
    """Back to the center (an unsatisfied revisit): to be transferred again."""
    when = at or _now()
    _move(s, order, "reopen", ("replied", "closed"), "accepted", by, reason, when)
    order.closed_at = None
    _back_to_center(order, when, timezone)


ACTIONS = {"answer_on_call", "refuse", "transfer", "return", "extend", "reply", "close",
           "archive", "reopen"}


# --- the back office (issue 15): the unit signs for an order, reminders, other centers ---------

def receive(s: Session, order: WorkOrder, by: str, at: datetime | None = None) -> None:
    """The handling unit signs for a transferred order (签收): once per transfer. An
    acknowledgement only: the unit's clock runs from the transfer (`received_at`, art. 33), so
    a unit that does not sign does not stop it."""
    if order.status != "transferred":
        raise OrderConflict(f"order {order.id}: only a transferred order is received "
                            f"(it is {order.status})")
    if order.signed_at is not None and order.transferred_at is not None and \
            order.signed_at >= order.transferred_at:
        raise OrderConflict(f"order {order.id} was received already")
    _move(s, order, "receive", ("transferred",), "transferred", by, order.handling_unit, at)
    order.signed_at = at or _now()


def remind(s: Session, order: WorkOrder, by: str, note: str = "") -> OrderEvent:
    """A reminder to the handling unit (催办, seed 001 art. 35), kept in the order's history."""
    if order.status != "transferred":
        raise OrderConflict(f"order {order.id}: only an order a unit holds is reminded "
                            f"(it is {order.status})")
    event = OrderEvent(order_id=order.id, at=_now(), by=by, action="remind",
                       from_status=order.status, to_status=order.status,
                       reason=note or order.handling_unit)
    s.add(event)
    return event


def forward(s: Session, order: WorkOrder, by: str, to_center: str, reason: str,
            action: str = "forward") -> None:
    """Send the order to another center of the province, or (`action="escalate"`) to the level
    above (上管一级). The order keeps its id and its history; the receiving center accepts it
    anew and counts it as cross-region, and the first center keeps reading it."""
    if not to_center or to_center == order.center:
        raise InvalidOrder("center: name another center")
    if not reason.strip():
        raise InvalidOrder(f"reason: {'an escalation' if action == 'escalate' else 'a forward'} "
                           "states why")
    old = order.center
    _move(s, order, action, ("accepted", "returned"), "accepted", by,
          f"{old} -> {to_center}: {reason.strip()}")
    order.origin_center = order.origin_center or old
    order.center, order.handling_unit = to_center, ""
    order.cross_region, order.region = True, order.region or old


BACKOFFICE_ACTIONS = {"receive", "remind", "forward", "escalate"}
ALL_ACTIONS = ACTIONS | BACKOFFICE_ACTIONS

# --- supervisors' lists ------------------------------------------------------------------------

WAITING_FOR_TRANSFER = ("accepted", "returned")


def transfer_overdue(order: WorkOrder, today: date) -> bool:
    """The center still has the order after its 3 working days (art. 27)."""
    return order.status in WAITING_FOR_TRANSFER and order.transfer_due < today


def reply_overdue(order: WorkOrder, today: date) -> bool:
    """A unit holds the order past its deadline without a reply (art. 35: 届满仍未办结)."""
    return order.status == "transferred" and order.due is not None and order.due < today


def overdue(s: Session, center: str, today: date, soon_days: int = 2) -> dict[str, list[WorkOrder]]:
    """What the center chases on its local day `today`: "transfer", orders it has not
    transferred within their 3 working days; "overdue", orders a unit holds past their
    deadline; "soon", those a unit must answer within `soon_days` working days."""
    waiting = list(s.scalars(select(WorkOrder).where(
        WorkOrder.center == center, WorkOrder.status.in_(WAITING_FOR_TRANSFER),
        WorkOrder.transfer_due < today).order_by(WorkOrder.transfer_due, WorkOrder.id)))
    held = list(s.scalars(select(WorkOrder).where(
        WorkOrder.center == center, WorkOrder.status == "transferred",
        WorkOrder.due.is_not(None)).order_by(WorkOrder.due, WorkOrder.id)))
    soon_limit, _ = add_working_days(today, soon_days)
    return {"transfer": waiting,
            "overdue": [o for o in held if reply_overdue(o, today)],
            "soon": [o for o in held if today <= o.due <= soon_limit]}  # type: ignore[operator]


# --- revisits ----------------------------------------------------------------------------------

SATISFACTION = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意"}
NOTES_MAX = 2000


def sample_revisits(s: Session, center: str, day: date, seed: int | None = None,
                    share: float = 0.30, workers: Sequence[str] = (),
                    timezone: str = DEFAULT_TIMEZONE) -> list[Revisit]:
    """The day's revisit list (seed 001 art. 23 (三): at least 30 % of replied orders, every
    complaint): of the transferred orders replied on the center's local `day`, every complaint
    and enough others, drawn at random, that at least `share` of them are called back.

    Idempotent per day: an order sampled that day is never sampled again, so a second run
    adds nothing, and a run after more replies came in adds only what they need. New rows go
    to the `workers` with the fewest of the day's revisits (ties by name), or to anyone ("")
    when none are named. Returns the day's whole list."""
    since, until = day_window(day, timezone)
    population = list(s.scalars(select(WorkOrder).where(
        WorkOrder.center == center, WorkOrder.transferred_at.is_not(None),
        WorkOrder.replied_at >= since, WorkOrder.replied_at < until).order_by(WorkOrder.id)))
    day_list = revisits_of(s, center, day)
    sampled = {r.order_id for r in day_list}
    complaints = [o for o in population if o.type == "complaint" and o.id not in sampled]
    others = [o for o in population if o.type != "complaint" and o.id not in sampled]
    already = sum(1 for o in population if o.id in sampled)
    need = max(0, math.ceil(share * len(population)) - already - len(complaints))
    picked = complaints + random.Random(seed).sample(others, min(need, len(others)))
    load = {w: sum(1 for r in day_list if r.assigned_to == w) for w in workers}
    for order in picked:
        worker = min(sorted(load), key=lambda w: load[w]) if load else ""
        if load:
            load[worker] += 1
        s.add(Revisit(order_id=order.id, sampled_on=day, assigned_to=worker))
    s.flush()
    return revisits_of(s, center, day) if picked else day_list


def revisits_of(s: Session, center: str, day: date, worker: str | None = None) -> list[Revisit]:
    """The center's revisits sampled on `day`; with `worker`, that worker's list (theirs and
    those assigned to nobody)."""
    q = (select(Revisit).join(WorkOrder, WorkOrder.id == Revisit.order_id)
         .where(WorkOrder.center == center, Revisit.sampled_on == day).order_by(Revisit.id))
    if worker is not None:
        q = q.where(Revisit.assigned_to.in_((worker, "")))
    return list(s.scalars(q))


def find_revisit(s: Session, center: str, revisit_id: int, worker: str | None = None) -> Revisit:
    """A revisit of this center; for a revisit `worker`, only one on their list."""
    revisit = s.get(Revisit, revisit_id)
    if revisit is None or revisit.order.center != center:
        raise NotFound(f"no revisit {revisit_id}")
    if worker is not None and revisit.assigned_to not in (worker, ""):
        raise Forbidden(f"revisit {revisit_id} is on {revisit.assigned_to}'s list")
    return revisit


def record_revisit(s: Session, revisit: Revisit, by: str, reached: bool,
                   satisfaction: int | None = None, notes: str = "",
                   reopen_if_unsatisfied: bool = True, at: datetime | None = None,
                   timezone: str = DEFAULT_TIMEZONE) -> None:
    """The result of a revisit: reached or not, the caller's satisfaction with the unit's
    handling (1 very satisfied, 2 satisfied, 3 basically satisfied, 4 not satisfied) and a
    note. An unreached caller may be tried again; a reached one is recorded once. Not
    satisfied: the order goes back to the center to be handled again (`reopen`)."""
    if not isinstance(reached, bool):
        raise InvalidOrder("reached is true or false")
    if reached and (isinstance(satisfaction, bool) or not isinstance(satisfaction, int)
                    or satisfaction not in SATISFACTION):
        raise InvalidOrder("a reached revisit records satisfaction 1 (very satisfied) to 4 "
                           "(not satisfied)")
    if not reached and satisfaction is not None:
        raise InvalidOrder("an unreached revisit has no satisfaction")
    if not isinstance(notes, str) or len(notes) > NOTES_MAX:
        raise InvalidOrder(f"a note is text of at most {NOTES_MAX} characters")
    if revisit.reached:
        done = to_local(revisit.done_at, timezone) if revisit.done_at else None
        raise OrderConflict(f"revisit {revisit.id} was recorded already "
                            f"({done:%Y-%m-%d %H:%M} {timezone}, by {revisit.by})")
    when = at or _now()
    revisit.reached, revisit.satisfaction, revisit.notes = reached, satisfaction, notes.strip()
    revisit.done_at, revisit.by = when, by
    if not revisit.assigned_to:
        revisit.assigned_to = by
    if satisfaction == 4 and reopen_if_unsatisfied:
        order = s.get(WorkOrder, revisit.order_id)
        if order is not None and order.status in ("replied", "closed"):
            reopen(s, order, by, f"回访不满意 unsatisfied revisit: {notes.strip()}", when,
                   timezone)


# --- data conformity ---------------------------------------------------------------------------

@event.listens_for(Session, "before_flush")
def _keep_conformity(s: Session, _context: object, _instances: object) -> None:
    """Every order written through the ORM carries the rules it breaks, so the data-conformity
    rate is a count, not a million rule checks."""
    for obj in (*s.new, *s.dirty):
        if isinstance(obj, WorkOrder):
            obj.nonconformity = ",".join(conformity(obj))


def conformity(order: WorkOrder) -> list[str]:
    """The field rules an order breaks (empty: it conforms)."""
    problems = []
    if order.type not in ORDER_TYPES:
        problems.append("type")
    if order.domain not in DOMAINS:
        problems.append("domain")
    if not order.content.strip():
        problems.append("content")
    if order.source == "call" and not order.call_uniqueid:
        problems.append("call_uniqueid")
    if order.caller_number and not PHONE.match(order.caller_number):
        problems.append("caller_number")
    if order.type == "complaint" and not order.subject.strip():
        problems.append("subject")
    if order.status in ("transferred", "replied") and not order.handling_unit:
        problems.append("handling_unit")
    if order.status == "not_accepted" and order.refusal not in REFUSALS:
        problems.append("refusal")
    return problems


@dataclass(frozen=True)
class Conformity:
    passing: int
    total: int


def conformity_rate(s: Session, center: str, since: datetime, until: datetime) -> Conformity:
    orders = s.scalars(select(WorkOrder).where(WorkOrder.center == center,
                                               WorkOrder.accepted_at >= since,
                                               WorkOrder.accepted_at < until))
    total = passing = 0
    for order in orders:
        total += 1
        passing += not conformity(order)
    return Conformity(passing, total)


# --- retention ---------------------------------------------------------------------------------

TEXT_YEARS = 5


def retention_plan(s: Session, now: datetime) -> list[int]:
    """Orders whose every trace is older than 5 years (closed/archived/not accepted before the
    cutoff): what a purge would delete. Nothing younger is ever listed."""
    cutoff = years_before(now, TEXT_YEARS)  # 29 February: the 28th, never a crash
    last_event = (select(OrderEvent.order_id, func.max(OrderEvent.at).label("last"))
                  .group_by(OrderEvent.order_id).subquery())
    rows = s.execute(select(WorkOrder.id).join(last_event, last_event.c.order_id == WorkOrder.id)
                     .where(WorkOrder.status.in_(("closed", "archived", "not_accepted")),
                            WorkOrder.accepted_at < cutoff, last_event.c.last < cutoff))
    return [r[0] for r in rows]


def purge(s: Session, ids: list[int], now: datetime) -> int:
    """Delete the orders `retention_plan` listed, checking each again: never anything younger."""
    allowed = set(retention_plan(s, now))
    doomed = [i for i in ids if i in allowed]
    for order_id in doomed:
        for table in (OrderEvent, Revisit):
            for row in s.scalars(select(table).where(table.order_id == order_id)):
                s.delete(row)
        s.delete(s.get(WorkOrder, order_id))
    return len(doomed)
