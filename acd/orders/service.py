"""Work orders: creation, the lifecycle with a guard on every transition, overdue lists,
revisit sampling, data conformity and retention. Plain functions taking a Session.

    accepted --answer_on_call--> closed        (即时答复: answered on the call)
    accepted --refuse(reason)--> not_accepted  (one of article 28's five reasons)
    accepted | returned --transfer(unit)--> transferred   (within 3 working days of acceptance)
    transferred --return_(reason)--> returned  (by the unit, within 2 working days)
    transferred --extend(days, reason)--> transferred     (once, at most 30 working days)
    transferred --reply(text)--> replied --close--> closed --archive--> archived
    not_accepted --archive--> archived
    closed --reopen(reason)--> accepted        (an unsatisfied revisit)
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from acd.errors import Conflict, Invalid, Refused
from acd.history.models import Call
from acd.orders.models import OrderEvent, Revisit, WorkOrder
from acd.orders.workdays import add_working_days, working_days_between
from hotline.center import DOMAINS, ORDER_TYPES
from hotline.dates import years_before

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
           accepted_at: datetime | None = None) -> WorkOrder:
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
    transfer_due, est1 = add_working_days(at.date(), TRANSFER_DAYS)
    due, est2 = add_working_days(at.date(), HANDLING_DAYS[type])
    score = s.scalar(select(Call.survey_score).where(Call.uniqueid == call_uniqueid)) \
        if call_uniqueid else None
    order = WorkOrder(center=center, type=type, domain=domain, content=content.strip(),
                      survey_score=score,
                      caller_number=caller_number, caller_name=caller_name,
                      call_uniqueid=call_uniqueid, source=source, sub_item=sub_item,
                      subject=subject, seat_id=seat_id, cross_region=cross_region,
                      region=region, status="accepted", accepted_at=at,
                      transfer_due=transfer_due, due=due, calendar_estimated=est1 or est2)
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


def transfer(s: Session, order: WorkOrder, by: str, unit: str,
             at: datetime | None = None) -> None:
    if not unit.strip():
        raise InvalidOrder("a transfer names the handling unit")
    _move(s, order, "transfer", ("accepted", "returned"), "transferred", by, unit, at)
    order.handling_unit, order.transferred_at = unit.strip(), at or _now()


def return_(s: Session, order: WorkOrder, by: str, reason: str,
            at: datetime | None = None) -> None:
    """The unit is not responsible: back within 2 working days of the transfer, with a reason."""
    if not reason.strip():
        raise InvalidOrder("a return needs a reason")
    when = at or _now()
    if order.status == "transferred" and order.transferred_at is not None and \
            working_days_between(order.transferred_at.date(), when.date()) > RETURN_DAYS:
        raise OrderConflict(f"order {order.id}: a return must come within {RETURN_DAYS} working "
                         "days of the transfer")
    _move(s, order, "return", ("transferred",), "returned", by, reason, when)
    order.handling_unit = ""


def extend(s: Session, order: WorkOrder, by: str, days: int, reason: str) -> None:
    if order.extended_days:
        raise OrderConflict(f"order {order.id} was extended already (once only)")
    if not 1 <= days <= MAX_EXTENSION:
        raise InvalidOrder(f"an extension is 1 to {MAX_EXTENSION} working days")
    if not reason.strip():
        raise InvalidOrder("an extension needs a reason")
    _move(s, order, "extend", ("transferred",), "transferred", by, f"+{days}: {reason}")
    order.due, estimated = add_working_days(order.due, days)
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


def reopen(s: Session, order: WorkOrder, by: str, reason: str) -> None:
    _move(s, order, "reopen", ("closed",), "accepted", by, reason)
    order.closed_at = None


ACTIONS = {"answer_on_call", "refuse", "transfer", "return", "extend", "reply", "close",
           "archive", "reopen"}


# --- supervisors' lists ------------------------------------------------------------------------

def overdue(s: Session, center: str, today: date, soon_days: int = 2) -> dict[str, list[WorkOrder]]:
    """Open orders past their deadline, and those due within `soon_days` working days."""
    open_ = list(s.scalars(select(WorkOrder).where(
        WorkOrder.center == center,
        WorkOrder.status.in_(("accepted", "transferred", "returned")))
        .order_by(WorkOrder.due)))
    soon_limit, _ = add_working_days(today, soon_days)
    return {"overdue": [o for o in open_ if o.due < today],
            "soon": [o for o in open_ if today <= o.due <= soon_limit]}


# --- revisits ----------------------------------------------------------------------------------

def sample_revisits(s: Session, center: str, day: date, seed: int | None = None,
                    share: float = 0.30) -> list[WorkOrder]:
    """The day's replied orders to call back: every complaint, and enough others that the
    sample is at least `share` of the day's population."""
    start = datetime.combine(day, datetime.min.time())
    population = list(s.scalars(select(WorkOrder).where(
        WorkOrder.center == center, WorkOrder.replied_at >= start,
        WorkOrder.replied_at < start + timedelta(days=1)).order_by(WorkOrder.id)))
    complaints = [o for o in population if o.type == "complaint"]
    others = [o for o in population if o.type != "complaint"]
    need = max(0, math.ceil(share * len(population)) - len(complaints))
    picked = complaints + random.Random(seed).sample(others, min(need, len(others)))
    for order in picked:
        s.add(Revisit(order_id=order.id, sampled_on=day))
    return picked


def record_revisit(s: Session, revisit: Revisit, by: str, reached: bool,
                   satisfaction: int | None = None, notes: str = "",
                   reopen_if_unsatisfied: bool = True) -> None:
    if reached and satisfaction not in (1, 2, 3, 4):
        raise InvalidOrder("a reached revisit records satisfaction 1 (very satisfied) to 4")
    if not reached and satisfaction is not None:
        raise InvalidOrder("an unreached revisit has no satisfaction")
    revisit.reached, revisit.satisfaction, revisit.notes = reached, satisfaction, notes
    revisit.done_at, revisit.by = _now(), by
    if satisfaction == 4 and reopen_if_unsatisfied:
        order = s.get(WorkOrder, revisit.order_id)
        if order is not None and order.status == "closed":
            reopen(s, order, by, f"unsatisfied revisit: {notes}")


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
