"""SMS to callers, through the outbox (acd/outbox/: retried, idempotent by key, delivered to
the center file's `[exchange] sms_url`): a callback booked, an accepted order's number, an
order's reply. Only to a mobile number, only when the center sends SMS (`[callers] sms` and an
SMS gateway); each message at most once (its key)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from acd.orders.models import WorkOrder
from acd.outbox.models import OutboxMessage
from acd.outbox.queue import enqueue
from hotline.center import ORDER_TYPES, Center

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def _mobile(number: str) -> str:
    n = (number or "").strip()
    if n.startswith("+86"):
        n = n[3:]
    return n if MOBILE.match(n) else ""


def _send(s: Session, center: Center, number: str, kind: str, key: str, text: str,
          **extra: object) -> OutboxMessage | None:
    to = _mobile(number)
    if not to or not center.callers.sms or not center.exchange.sms_url:
        return None
    return enqueue(s, center=center.code, channel="sms", kind=kind, key=f"sms:{key}",
                   payload={"to": to, "text": text[:300], **extra})


def callback_booked(s: Session, center: Center, number: str, callback_id: int,
                    message: bool = False) -> OutboxMessage | None:
    text = ("【12328】您的留言已收到，我们将在工作时间尽快给您回电，请保持电话畅通。" if message
            else "【12328】已为您保留排队位置，轮到您时我们将给您回电，请保持电话畅通。")
    return _send(s, center, number, "callback", f"callback:{callback_id}", text,
                 callback_id=callback_id)


def order_accepted(s: Session, center: Center, order: WorkOrder) -> OutboxMessage | None:
    """The caller's order number, for asking after it (12328 → 8) and for the reply."""
    if order.source not in ("call", "message"):
        return None
    title = ORDER_TYPES.get(order.type, "")
    text = (f"【12328】您反映的{title}事项已受理，工单编号{order.id}。"
            f"查询办理进度请拨打{center.hotline_number}按8后输入工单编号。")
    return _send(s, center, order.caller_number, "order", f"accepted:{order.id}", text,
                 order_id=order.id)


def order_replied(s: Session, center: Center, order: WorkOrder) -> OutboxMessage | None:
    """The unit replied: the caller hears of it (the reply itself, at most 120 characters)."""
    reply = " ".join(order.reply.split())[:120]
    text = f"【12328】您的工单{order.id}已有办理结果：{reply}。如有疑问请致电{center.hotline_number}。"
    return _send(s, center, order.caller_number, "reply", f"replied:{order.id}:{order.replied_at}",
                 text, order_id=order.id)
