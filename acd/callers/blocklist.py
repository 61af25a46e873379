"""Blocked numbers (恶意骚扰): supervisors block a number with a reason and an expiry; such a
caller hears a message and never reaches a seat. Every block and every lifting is kept with
who and why (the audit trail; nothing is deleted).

The dialplan checks Asterisk's AstDB (family `hotline-blocked`, key the number, value the
expiry in epoch seconds), so a blocked caller is kept out even while the Python side is down;
the dialer keeps AstDB in step with this table (acd/callers/dialer.py), and the IVR checks the
table as well (a block takes effect at once, before AstDB has it).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.callers.models import BlockedNumber
from acd.errors import Conflict, Invalid, NotFound
from hotline.localtime import now_utc

NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
MAX_DAYS = 366
REASON_MAX = 200
ASTDB_FAMILY = "hotline-blocked"


def normalize(number: str) -> str:
    """A caller number as the dialplan sees it (digits and a leading +)."""
    if not isinstance(number, str) or not NUMBER.match(number.strip()):
        raise Invalid("number: digits only (3 to 20, a leading + allowed), e.g. 13800000000")
    return number.strip()


def _reason(text: object, field: str = "reason") -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > REASON_MAX:
        raise Invalid(f"{field}: say why, in at most {REASON_MAX} characters")
    if any(ord(c) < 32 for c in text):
        raise Invalid(f"{field}: one line of text")
    return text.strip()


def active(s: Session, center: str | tuple[str, ...],
           at: datetime | None = None) -> list[BlockedNumber]:
    """The blocks in force now (of a center, or of every center given): not lifted, not
    expired."""
    at = at or now_utc()
    codes = (center,) if isinstance(center, str) else center
    return list(s.scalars(select(BlockedNumber).where(
        BlockedNumber.center.in_(codes), BlockedNumber.lifted_at.is_(None),
        BlockedNumber.expires_at > at).order_by(BlockedNumber.number)))


def block_of(s: Session, center: str, number: str,
             at: datetime | None = None) -> BlockedNumber | None:
    if not number or not NUMBER.match(number):
        return None
    at = at or now_utc()
    return s.scalars(select(BlockedNumber).where(
        BlockedNumber.center == center, BlockedNumber.number == number,
        BlockedNumber.lifted_at.is_(None), BlockedNumber.expires_at > at)).first()


def block(s: Session, center: str, number: str, reason: object, days: object, by: str,
          at: datetime | None = None) -> BlockedNumber:
    """Block `number` for `days` (1 to 366). A number already blocked: refused (lift it first,
    so each change is its own record)."""
    number = normalize(number)
    why = _reason(reason)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise Invalid(f"days: a whole number of days from 1 to {MAX_DAYS}")
    at = at or now_utc()
    if block_of(s, center, number, at) is not None:
        raise Conflict(f"{number} is blocked already; lift that block first")
    row = BlockedNumber(center=center, number=number, reason=why, created_at=at, created_by=by,
                        expires_at=at + timedelta(days=days), lifted_by="", lift_reason="")
    s.add(row)
    s.flush()
    return row


def lift(s: Session, center: str, number: str, reason: object, by: str,
         at: datetime | None = None) -> BlockedNumber:
    number = normalize(number)
    why = _reason(reason)
    row = block_of(s, center, number, at)
    if row is None:
        raise NotFound(f"{number} is not blocked")
    row.lifted_at, row.lifted_by, row.lift_reason = at or now_utc(), by, why
    return row


def history(s: Session, center: str, limit: int = 200) -> list[BlockedNumber]:
    """Every block, latest first: the audit trail."""
    return list(s.scalars(select(BlockedNumber).where(BlockedNumber.center == center)
                          .order_by(BlockedNumber.id.desc()).limit(limit)))


def view(row: BlockedNumber) -> dict[str, object]:
    return {"id": row.id, "number": row.number, "reason": row.reason,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "expires_at": row.expires_at.isoformat(),
            "lifted_at": row.lifted_at.isoformat() if row.lifted_at else None,
            "lifted_by": row.lifted_by, "lift_reason": row.lift_reason}


def find(s: Session, center: str, block_id: int) -> BlockedNumber:
    row = s.get(BlockedNumber, block_id)
    if row is None or row.center != center:
        raise NotFound("no such block")
    return row
