"""API tokens: who may call the engine's HTTP API, with which role.

A token is shown once, when it is made; only its SHA-256 is stored. Roles: `seat` (acts on
its own seat only), `supervisor` (any seat of its center), `admin`; for the back office
(acd/orders/access.py) `unit` (a handling unit's program, bound to its unit code) and
`partner` (another hotline system, 12345, that transfers orders here).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from acd.history.models import Base

# revisit: a revisit worker's program (the revisit routes only, acd/orders/revisits_http.py)
ROLES = ("seat", "supervisor", "admin", "unit", "partner", "revisit")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")  # a unit token: its unit's code
    center: Mapped[str] = mapped_column(String(40))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    seat_id: str
    center: str
    unit: str = ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(sessions: sessionmaker[Session], name: str, role: str, center: str,
           seat_id: str = "", unit: str = "") -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "seat" and not seat_id:
        raise ValueError("a seat token names its seat (--seat)")
    if (role == "unit") != bool(unit):
        raise ValueError("a unit token names its unit (--unit CODE), and only a unit token does")
    token = secrets.token_urlsafe(24)
    with sessions.begin() as s:
        if s.get(ApiToken, name) is not None:
            raise ValueError(f"a token named {name!r} exists already")
        s.add(ApiToken(name=name, role=role, seat_id=seat_id, unit=unit, center=center,
                       token_sha256=_digest(token),
                       created_at=datetime.now(UTC).replace(tzinfo=None)))
    return token


def lookup(sessions: sessionmaker[Session], token: str) -> Caller | None:
    with sessions() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).first()
        return None if row is None else Caller(row.name, row.role, row.seat_id, row.center,
                                               row.unit)


def remove(sessions: sessionmaker[Session], name: str, center: str) -> None:
    """Delete a token: the next request that carries it is refused (401)."""
    with sessions.begin() as s:
        row = s.get(ApiToken, name)
        if row is None or row.center != center:
            raise ValueError(f"no token named {name!r} in center {center}")
        s.delete(row)
