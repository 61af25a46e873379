"""Scoring a recorded call and the scores per seat.

A call is scored once per sheet (a second score is a Conflict naming the first); only a call
of this center that a seat answered and that has a recording can be scored. The report per
seat adds up the calls of a period (the call's start, in the center's days): how many were
scored, their average as a percentage of the sheet's maximum, how many passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from acd.errors import Conflict, Invalid, NotFound
from acd.history.models import Call
from acd.quality.models import QaScore
from acd.quality.sheet import Sheet

COMMENT_MAX = 2000


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def score(s: Session, center: str, sheet: Sheet, uniqueid: str, scores: Any, comment: Any,
          by: str, at: datetime | None = None) -> QaScore:
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        raise Invalid(f"comment: is too long (at most {COMMENT_MAX} characters)"
                      if isinstance(comment, str) else "comment: must be text")
    call = s.get(Call, uniqueid)
    if call is None or call.center != center:
        raise NotFound(f"no call {uniqueid}")
    if not call.recording:
        raise NotFound(f"call {uniqueid} has no recording")
    if not call.seat_id or call.answered_at is None:
        raise Invalid(f"call {uniqueid} was answered by no seat")
    points = sheet.check(scores)
    earlier = s.scalars(select(QaScore).where(QaScore.uniqueid == uniqueid,
                                              QaScore.sheet == sheet.code)).first()
    if earlier is not None:
        raise Conflict(f"call {uniqueid} is scored already (by {earlier.by_user}, "
                       f"{earlier.total} of {earlier.max_total})")
    row = QaScore(center=center, uniqueid=uniqueid, seat_id=call.seat_id,
                  call_started_at=call.started_at, sheet=sheet.code,
                  scores=json.dumps(points, sort_keys=True), total=sum(points.values()),
                  max_total=sheet.max_total, passed=sheet.passed(points),
                  comment=comment.strip(), by_user=by, scored_at=at or _now())
    s.add(row)
    s.flush()
    return row


def view(row: QaScore) -> dict[str, Any]:
    return {"id": row.id, "uniqueid": row.uniqueid, "seat": row.seat_id, "sheet": row.sheet,
            "scores": json.loads(row.scores), "total": row.total, "max_total": row.max_total,
            "percent": round(100 * row.total / row.max_total, 1) if row.max_total else None,
            "passed": row.passed, "comment": row.comment, "by": row.by_user,
            "scored_at": row.scored_at.isoformat(timespec="seconds")}


def of_calls(s: Session, uniqueids: list[str]) -> dict[str, QaScore]:
    if not uniqueids:
        return {}
    return {r.uniqueid: r for r in s.scalars(select(QaScore).where(
        QaScore.uniqueid.in_(uniqueids)).order_by(QaScore.id))}


@dataclass(frozen=True)
class SeatQuality:
    seat: str
    scored: int
    average_percent: float | None
    passed: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    def as_dict(self) -> dict[str, Any]:
        return {"seat": self.seat, "scored": self.scored,
                "average_percent": self.average_percent, "passed": self.passed,
                "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 4)}


def per_seat(s: Session, center: str, since: datetime, until: datetime) -> list[SeatQuality]:
    """Scores of the calls that started in [since, until) (naive UTC), per seat."""
    q = (select(QaScore.seat_id, func.count(), func.sum(QaScore.total),
                func.sum(QaScore.max_total),
                func.sum(func.cast(QaScore.passed, type_=QaScore.total.type)))
         .where(QaScore.center == center, QaScore.call_started_at >= since,
                QaScore.call_started_at < until)
         .group_by(QaScore.seat_id).order_by(QaScore.seat_id))
    out = []
    for seat, n, total, most, passed in s.execute(q):
        out.append(SeatQuality(seat, int(n), round(100 * float(total) / float(most), 1)
                               if most else None, int(passed or 0)))
    return out
