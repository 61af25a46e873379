"""The results of orders another hotline transferred here (12345), sent back to it: when such
an order is closed or not accepted, a message goes into the outbox in the same transaction
(acd/outbox/), so a result is never lost and never sent twice. Registered on import by
acd/orders/service.py, so every way of closing an order (API, web, CLI) sends it."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from acd.orders.models import OrderEvent, WorkOrder
from acd.outbox.queue import enqueue

PARTNER_SOURCES = {"12345": "12345"}  # order source -> outbox channel
FINAL = ("closed", "not_accepted")


def result_of(order: WorkOrder, ev: OrderEvent) -> dict[str, object]:
    return {"id": order.external_id, "order_id": order.id, "center": order.center,
            "status": ev.to_status, "reply": order.reply, "refusal": order.refusal,
            "reason": ev.reason, "at": ev.at.isoformat() + "Z"}


@event.listens_for(Session, "before_flush")
def _send_results(s: Session, _context: object, _instances: object) -> None:
    for ev in [o for o in s.new if isinstance(o, OrderEvent) and o.to_status in FINAL
               and o.from_status != o.to_status]:
        with s.no_autoflush:
            order = s.get(WorkOrder, ev.order_id)
        if order is None or order.source not in PARTNER_SOURCES or not order.external_id:
            continue
        channel = PARTNER_SOURCES[order.source]
        enqueue(s, center=order.center, channel=channel, kind="result",
                key=f"{channel}:{order.external_id}:{ev.to_status}:{ev.at.isoformat()}",
                payload=result_of(order, ev), at=ev.at)
