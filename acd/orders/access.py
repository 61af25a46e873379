"""Who may see and do what to a work order: one function per decision, the same for the HTTP
API (acd/orders/http.py), the web pages (acd/web/console.py, acd/web/backoffice.py) and
anything else that serves orders. Issue 14: authorization is per object, not only per role.

- a seat: the orders of its own calls (the order's seat is the seat; an order it files for a
  call must be a call it answered), and of those only what a seat does on the call: answer,
  refuse, transfer, close; its calls may be another center's of the deployment while it is
  lent there (the order is that center's);
- a supervisor or an admin: every order of its center, and read-only the orders its center
  sent on to another center or the level above;
- a handling unit (`unit`): the orders transferred to its unit, while they are; it receives,
  replies, returns with a reason and extends (seed 001 art. 32-34);
- a partner system (`partner`, 12345): only its own intake route, never an order by id;
- inspectors and analysts: no work orders.

`center` is the actor's own center (`Actor.home`: in a deployment of several centers each
user belongs to one, docs/province.md); `codes` every center of the deployment.

A request for an order the actor may not see is answered as if the order did not exist (404),
so ids cannot be probed; an action the actor may not take on an order it sees is a 403.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_

from acd.errors import Forbidden, NotFound
from acd.history.models import Call
from acd.orders.models import WorkOrder
from acd.seats.service import Actor

CENTER_ROLES = ("supervisor", "admin")
SEAT_ACTIONS = frozenset({"answer_on_call", "refuse", "transfer", "close"})
UNIT_ACTIONS = frozenset({"receive", "reply", "return", "extend"})
CENTER_ACTIONS = frozenset({"answer_on_call", "refuse", "transfer", "return", "extend", "reply",
                            "close", "archive", "reopen", "receive", "forward", "escalate",
                            "remind"})


def _deployment(center: str, codes: tuple[str, ...]) -> tuple[str, ...]:
    return codes or (center,)


def can_read(actor: Actor, order: WorkOrder, center: str, codes: tuple[str, ...] = ()) -> bool:
    """May the actor see this order (its text, its history)?"""
    if actor.role in CENTER_ROLES:
        return order.center == center or (order.origin_center == center
                                          and order.center != center)
    if actor.role == "seat":
        return order.center in _deployment(center, codes) and bool(actor.seat_id) and \
            order.seat_id == actor.seat_id
    if actor.role == "unit":
        return order.center == center and bool(actor.unit) and \
            order.handling_unit == actor.unit and order.status == "transferred"
    return False


def can_act(actor: Actor, order: WorkOrder, action: str, center: str,
            codes: tuple[str, ...] = ()) -> bool:
    """May the actor take this action on this order? (Whether the order's state allows it is
    the lifecycle's business: acd/orders/service.py.)"""
    if not can_read(actor, order, center, codes):
        return False
    if order.center != center and actor.role != "seat":  # a lent seat's order is the other's
        return False
    if actor.role in CENTER_ROLES:
        return action in CENTER_ACTIONS
    if actor.role == "seat":
        return action in SEAT_ACTIONS
    if actor.role == "unit":
        return action in UNIT_ACTIONS
    return False


def sees_numbers(actor: Actor, order: WorkOrder) -> bool:
    """The caller's number and name in full: the center's staff, the seat that took the call,
    and the unit that must call back (art. 32: 承办单位应当与相关来电人主动沟通联络)."""
    return actor.role in CENTER_ROLES or (actor.role == "seat" and order.seat_id == actor.seat_id) \
        or (actor.role == "unit" and order.handling_unit == actor.unit)


def visible(actor: Actor, center: str, codes: tuple[str, ...] = ()) -> ColumnElement[bool]:
    """The orders a list shows this actor: `can_read` as a WHERE clause."""
    if actor.role in CENTER_ROLES:
        return or_(WorkOrder.center == center, WorkOrder.origin_center == center)
    if actor.role == "seat" and actor.seat_id:
        return and_(WorkOrder.center.in_(_deployment(center, codes)),
                    WorkOrder.seat_id == actor.seat_id)
    if actor.role == "unit" and actor.unit:
        return and_(WorkOrder.center == center, WorkOrder.handling_unit == actor.unit,
                    WorkOrder.status == "transferred")
    return false()


def may_file_for_call(actor: Actor, call: Call | None, center: str,
                      codes: tuple[str, ...] = ()) -> bool:
    """May the actor file an order for this call (the order is the call's center's)? A seat:
    a call it answered, in its center or one it was lent to; a supervisor: any call of its
    center."""
    if call is None or call.center not in _deployment(center, codes):
        return False
    if actor.role in CENTER_ROLES:
        return call.center == center
    return actor.role == "seat" and bool(actor.seat_id) and call.seat_id == actor.seat_id


def may_file(actor: Actor) -> bool:
    """May the actor accept new orders at all (seats and the center's staff)?"""
    return actor.role == "seat" or actor.role in CENTER_ROLES


def may_manage_knowledge(actor: Actor) -> bool:
    return actor.role in CENTER_ROLES


def may_see_overdue(actor: Actor) -> bool:
    """The overdue lists: the center's staff for the center, a unit for its own orders."""
    return actor.role in CENTER_ROLES or actor.role == "unit"


def require_read(actor: Actor, order: WorkOrder | None, center: str,
                 codes: tuple[str, ...] = ()) -> WorkOrder:
    if order is None or not can_read(actor, order, center, codes):
        raise NotFound("no such order")
    return order


def require_act(actor: Actor, order: WorkOrder | None, action: str, center: str,
                codes: tuple[str, ...] = ()) -> WorkOrder:
    order = require_read(actor, order, center, codes)
    if not can_act(actor, order, action, center, codes):
        raise Forbidden(f"{actor.role} {actor.name} may not {action} order {order.id}")
    return order

