"""Web users: name, role, hashed password (scrypt), and for a seat its seat id."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from acd.history.models import Base

# revisit: a revisit worker (回访员, seed 001 arts. 16 and 23), who calls back the day's sample.
ROLES = ("seat", "supervisor", "inspector", "analyst", "admin", "unit", "revisit")


class WebUser(Base):
    __tablename__ = "web_users"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")  # a unit user: its unit's code
    center: Mapped[str] = mapped_column(String(40))
    password: Mapped[str] = mapped_column(String(200))  # scrypt$salt$hash
    created_at: Mapped[datetime] = mapped_column(DateTime)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1,
                         dklen=32)
    return hmac.compare_digest(got.hex(), digest)


def add(sessions: sessionmaker[Session], name: str, role: str, center: str, password: str,
        seat_id: str = "", unit: str = "") -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "seat" and not seat_id:
        raise ValueError("a seat user names its seat")
    if (role == "unit") != bool(unit):
        raise ValueError("a unit user names its unit (--unit CODE), and only a unit user does")
    if len(password) < 8:
        raise ValueError("a password has at least 8 characters")
    with sessions.begin() as s:
        if s.get(WebUser, name) is not None:
            raise ValueError(f"user {name!r} exists already")
        s.add(WebUser(name=name, role=role, seat_id=seat_id, unit=unit, center=center,
                      password=hash_password(password),
                      created_at=datetime.now(UTC).replace(tzinfo=None)))
