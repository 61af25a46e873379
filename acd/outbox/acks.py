"""What a receiver's acknowledgement makes true: a call record or a report counts as reported
upward only from the moment the platform acknowledged it (the two reporting rates, seed 002
art. 7, count these rows); a result sent back to 12345 is noted in the order's history."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.upward import CallRecordUpload, ReportSubmission
from acd.orders.models import OrderEvent, WorkOrder
from acd.outbox.models import OutboxMessage


def acknowledged(s: Session, m: OutboxMessage, request_key: str, at: datetime) -> None:
    data = json.loads(m.payload)
    if m.kind == "call":
        if s.get(CallRecordUpload, data["uniqueid"]) is None:
            s.add(CallRecordUpload(uniqueid=data["uniqueid"], uploaded_at=at,
                                   batch=f"push:{request_key}"[:80]))
    elif m.kind == "report":
        made = select(ReportSubmission.id).where(
            ReportSubmission.center == m.center, ReportSubmission.kind == data["kind"],
            ReportSubmission.period_start == datetime.fromisoformat(data["period_start"]))
        if s.scalars(made).first() is None:
            s.add(ReportSubmission(center=m.center, kind=data["kind"], title=data["title"],
                                   period_start=datetime.fromisoformat(data["period_start"]),
                                   period_end=datetime.fromisoformat(data["period_end"]),
                                   due_at=datetime.fromisoformat(data["due_at"]),
                                   submitted_at=at))
    elif m.kind == "result":
        order = s.get(WorkOrder, data["order_id"])
        if order is not None:
            s.add(OrderEvent(order_id=order.id, at=at, by=m.channel, action="result_sent",
                             from_status=order.status, to_status=order.status,
                             reason=f"{m.channel} acknowledged the result ({data['status']})"))
