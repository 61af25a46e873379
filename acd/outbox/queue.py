"""Putting a message into the outbox: idempotent by its key (a second enqueue of the same key
is the same message), in the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.outbox.models import OutboxMessage

CHANNELS = ("12345", "platform", "sms")


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enqueue(s: Session, *, center: str, channel: str, kind: str, key: str,
            payload: dict[str, Any], at: datetime | None = None) -> OutboxMessage | None:
    """Add a message unless one with this key exists (then None)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    with s.no_autoflush:
        if s.scalars(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
            return None
        pending = [o for o in s.new if isinstance(o, OutboxMessage) and o.key == key]
    if pending:
        return None
    at = at or now()
    msg = OutboxMessage(center=center, channel=channel, kind=kind, key=key[:120],
                        payload=json.dumps(payload, ensure_ascii=False), created_at=at,
                        next_at=at, attempts=0, state="pending", last_error="")
    s.add(msg)
    return msg
