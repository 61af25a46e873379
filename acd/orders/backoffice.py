"""The back office's steps that reach beyond one order's lifecycle: a seat's transfer names a
unit of the center file, a reminder goes to the unit's person by SMS, orders arrive from
12345 (once per 12345 id) and move between the centers of a province and to the level above.
The lifecycle itself (who may move an order from which state) is acd/orders/service.py; who may
ask is acd/orders/access.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.errors import Invalid
from acd.orders import service
from acd.orders.models import OrderEvent, WorkOrder
from acd.outbox.queue import enqueue
from hotline.center import ORDER_TYPES, Center, Unit


def unit_of(center: Center, code: str) -> Unit:
    """A unit of the center file, by code; anything else is refused naming the field."""
    unit = center.unit(code)
    if unit is None:
        known = ", ".join(u.code for u in center.units) or "none in the center file"
        raise Invalid(f"unit: {code!r} is not a handling unit of this center ({known})")
    return unit


def transfer(s: Session, center: Center, order: WorkOrder, by: str, unit_code: str,
             at: datetime | None = None) -> Unit:
    unit = unit_of(center, unit_code)
    service.transfer(s, order, by, unit.code, at, timezone=center.timezone)
    return unit


def remind(s: Session, center: Center, order: WorkOrder, by: str, note: str = "") -> OrderEvent:
    """催办: in the order's history (the unit's page shows it) and, when the unit has a mobile
    and the center an SMS gateway, as an SMS through the outbox."""
    event = service.remind(s, order, by, note)
    unit = center.unit(order.handling_unit)
    if unit is not None and unit.phone:
        s.flush()
        text = (f"【12328催办】{unit.name}：工单{order.id}（{service_type(order)}）"
                f"办理期限{order.due:%Y年%m月%d日}，请及时办理并回复。{note}").strip()
        enqueue(s, center=order.center, channel="sms", kind="reminder",
                key=f"sms:remind:{order.id}:{event.id}",
                payload={"to": unit.phone, "text": text[:300], "order_id": order.id,
                         "unit": unit.code})
    return event


def service_type(order: WorkOrder) -> str:
    return ORDER_TYPES.get(order.type, order.type)


def remind_overdue(s: Session, center: Center, today: date, by: str) -> list[OrderEvent]:
    """A reminder for every order a unit holds past its deadline (once a day per order), of
    every center of the deployment."""
    out = []
    overdue = [o for code in center.codes for o in service.overdue(s, code, today)["overdue"]]
    for order in overdue:
        if order.status != "transferred":
            continue
        already = s.scalars(select(OrderEvent).where(
            OrderEvent.order_id == order.id, OrderEvent.action == "remind")
            .order_by(OrderEvent.id.desc())).first()
        if already is not None and already.at.date() >= today:
            continue
        out.append(remind(s, center, order, by, "已逾期"))
    return out


def forward(s: Session, center: Center, order: WorkOrder, by: str, to_center: str,
            reason: str) -> None:
    """To another center of the province (one of [[exchange.peers]])."""
    if center.exchange.peer(to_center) is None:
        known = ", ".join(p.code for p in center.exchange.peers) or "none in the center file"
        raise Invalid(f"center: {to_center!r} is not a center this one exchanges orders with "
                      f"({known})")
    service.forward(s, order, by, to_center, reason)


def escalate(s: Session, center: Center, order: WorkOrder, by: str, reason: str) -> None:
    """上管一级: to the center of the level above ([exchange] upper)."""
    if not center.exchange.upper:
        raise Invalid("center: this center has no level above in its center file "
                      "([exchange] upper)")
    service.forward(s, order, by, center.exchange.upper, reason, action="escalate")


# --- orders from 12345 ---------------------------------------------------------------------------

def intake(s: Session, center: Center, form: dict[str, Any], by: str) -> tuple[WorkOrder, bool]:
    """An order 12345 transferred here: (the order, whether it is new). The same 12345 id
    again is the same order, whatever the body says the second time."""
    existing = s.scalars(select(WorkOrder).where(WorkOrder.source == "12345",
                                                 WorkOrder.external_id == form["id"])).first()
    if existing is not None:
        return existing, False
    order = service.create(s, center=center.code, type=form["type"], domain=form["domain"],
                           content=form["content"], caller_number=form["caller_number"],
                           caller_name=form["caller_name"], source="12345",
                           sub_item=form["sub_item"], subject=form["subject"], by=by,
                           timezone=center.timezone)
    order.external_id = form["id"]
    s.flush()
    return order, True

