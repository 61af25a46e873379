"""Order progress by phone (seed 001 art. 36: the caller may ask how its matter goes): the
caller keys an order's number, or is matched by its own number, and hears the status and the
due date, in Mandarin.

An order's number is short and easy to guess, so a keyed number is read out only to the
number the order was registered with, or to a caller who keys that number's last four digits.
Nothing else of the order (its content, the caller's name) is ever read out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.orders.models import WorkOrder
from acd.orders.service import REFUSALS
from hotline.center import Center
from hotline.localtime import local_date

MAX_BY_NUMBER = 3


@dataclass(frozen=True)
class Lookup:
    """A keyed order: found and the caller may hear it (`order`), found but the caller must
    key the last four digits of its registered number (`needs_check`), or not found."""

    order: WorkOrder | None = None
    needs_check: bool = False


def _same(a: str, b: str) -> bool:
    digits = [x.lstrip("+").removeprefix("86") if len(x) > 11 else x for x in (a, b)]
    return bool(a) and digits[0] == digits[1]


def lookup(s: Session, center: Center, keyed: str, caller: str) -> Lookup:
    if not keyed.isdigit() or len(keyed) > 12:
        return Lookup()
    order = s.get(WorkOrder, int(keyed))
    if order is None or not {order.center, order.origin_center} & set(center.codes):
        return Lookup()
    if _same(order.caller_number, caller):
        return Lookup(order)
    return Lookup(order, needs_check=bool(order.caller_number))


def check(order: WorkOrder, last4: str) -> bool:
    return len(last4) == 4 and len(order.caller_number) >= 4 and \
        order.caller_number.endswith(last4)


def of_caller(s: Session, center: Center, caller: str) -> list[WorkOrder]:
    """The caller's latest orders (open ones first), matched by its number."""
    if not caller:
        return []
    rows = list(s.scalars(select(WorkOrder).where(
        WorkOrder.caller_number == caller,
        WorkOrder.center.in_(center.codes)).order_by(WorkOrder.id.desc()).limit(20)))
    rows.sort(key=lambda o: (o.status in ("closed", "archived", "not_accepted"), -o.id))
    return rows[:MAX_BY_NUMBER]


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def spoken(order: WorkOrder, center: Center) -> str:
    """One order's status and due date, as the caller hears it."""
    unit = center.unit(order.handling_unit)
    unit_name = unit.name if unit is not None else "承办单位"
    tz = center.timezone
    head = f"工单{order.id}，"
    match order.status:
        case "accepted":
            return head + f"已受理，正在转交承办单位，转办期限为{_day(order.transfer_due)}。"
        case "transferred":
            due = f"，办理期限为{_day(order.due)}" if order.due else ""
            return head + f"已转交{unit_name}办理{due}。"
        case "returned":
            return head + f"已退回中心重新转办，转办期限为{_day(order.transfer_due)}。"
        case "replied":
            when = f"于{_day(local_date(order.replied_at, tz))}" if order.replied_at else ""
            return head + f"{unit_name}已{when}答复，中心正在审核办结。"
        case "closed" | "archived":
            when = f"于{_day(local_date(order.closed_at, tz))}" if order.closed_at else ""
            return head + f"已{when}办结。"
        case "not_accepted":
            why = REFUSALS.get(order.refusal, "")
            return head + f"不予受理{('，原因是' + why) if why else ''}。"
    return head + "正在办理。"
