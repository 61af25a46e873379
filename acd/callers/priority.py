"""Repeat callers go ahead in the queue (the center file's `[callers]`): a caller with a
complaint still open, or who hung up waiting within the last N minutes, gets `priority`
(Asterisk's QUEUE_PRIO; everyone else 0)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders.models import WorkOrder
from hotline.center import Callers
from hotline.localtime import now_utc

OPEN = ("accepted", "transferred", "returned", "replied")


def reason(s: Session, center: str | tuple[str, ...], number: str, rules: Callers,
           at: datetime | None = None) -> str:
    """Why this caller goes ahead ("open_complaint", "abandoned"), or "" (it does not).
    `center`: a center's code, or every center of a deployment."""
    centers = (center,) if isinstance(center, str) else tuple(center)
    if not number:
        return ""
    if rules.priority_open_complaint and s.scalars(select(WorkOrder.id).where(
            WorkOrder.caller_number == number, WorkOrder.center.in_(centers),
            WorkOrder.type == "complaint", WorkOrder.status.in_(OPEN)).limit(1)).first():
        return "open_complaint"
    if rules.priority_abandoned_min:
        since = (at or now_utc()) - timedelta(minutes=rules.priority_abandoned_min)
        if s.scalars(select(Call.uniqueid).where(
                Call.caller_number == number, Call.ended_at >= since,
                Call.center.in_(centers), Call.outcome == "abandoned").limit(1)).first():
            return "abandoned"
    return ""
