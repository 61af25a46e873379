"""Web users: name, role, hashed password, and for a seat its seat id.

Passwords are hashed with argon2id (argon2-cffi; its parameters are kept in the hash). A hash
of the older scheme (scrypt, N=2^14, parameters not stored) still logs in once and is replaced
by an argon2id hash at that login (`verify` says so).

Every user has a session version: a session cookie names the version it was issued for, and
raising the version (logout, `hotline web user reset`, `revoke`) ends every session of that
user at once, open WebSockets included (acd/web/pages.py re-checks them).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import DateTime, Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from acd.history.models import Base

# revisit: a revisit worker (回访员, seed 001 arts. 16 and 23), who calls back the day's sample.
ROLES = ("seat", "supervisor", "inspector", "analyst", "admin", "unit", "revisit")
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,60}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 200
_HASHER = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters


class WebUser(Base):
    __tablename__ = "web_users"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    seat_id: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")  # a unit user: its unit's code
    center: Mapped[str] = mapped_column(String(40))
    password: Mapped[str] = mapped_column(String(200))  # $argon2id$... (old: scrypt$salt$hash)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Raised to end every session of the user (logout, reset, revoke).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


@dataclass(frozen=True)
class Verified:
    ok: bool
    rehash: bool = False  # the hash is of an older scheme or weaker parameters: replace it


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def verify(stored: str, password: str) -> Verified:
    """Does `password` match the stored hash, and should the hash be renewed."""
    if len(password) > PASSWORD_MAX:
        return Verified(False)
    if stored.startswith("$argon2"):
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verified(False)
        return Verified(True, _HASHER.check_needs_rehash(stored))
    try:
        kind, salt, digest = stored.split("$")
        if kind != "scrypt":
            return Verified(False)
        got = _scrypt(password, bytes.fromhex(salt))
    except ValueError:
        return Verified(False)
    return Verified(hmac.compare_digest(got.hex(), digest), rehash=True)


def check_password(stored: str, password: str) -> bool:
    return verify(stored, password).ok


def _check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def add(sessions: sessionmaker[Session], name: str, role: str, center: str, password: str,
        seat_id: str = "", unit: str = "") -> None:
    if not NAME.match(name):
        raise ValueError("a user name is 1 to 60 letters, digits or _.@-")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "seat" and not seat_id:
        raise ValueError("a seat user names its seat")
    if (role == "unit") != bool(unit):
        raise ValueError("a unit user names its unit (--unit CODE), and only a unit user does")
    _check_password_rules(password)
    with sessions.begin() as s:
        if s.get(WebUser, name) is not None:
            raise ValueError(f"user {name!r} exists already")
        s.add(WebUser(name=name, role=role, seat_id=seat_id, unit=unit, center=center,
                      password=hash_password(password), created_at=_now(), session_version=1))


def _mine(s: Session, name: str, center: str) -> WebUser:
    user = s.get(WebUser, name)
    if user is None or user.center != center:
        raise ValueError(f"no user {name!r} in center {center}")
    return user


def remove(sessions: sessionmaker[Session], name: str, center: str) -> None:
    """Delete the user; its sessions and open pages stop working at once."""
    with sessions.begin() as s:
        s.delete(_mine(s, name, center))


def reset(sessions: sessionmaker[Session], name: str, center: str, password: str) -> None:
    """A new password, and every session of the user ended."""
    _check_password_rules(password)
    with sessions.begin() as s:
        user = _mine(s, name, center)
        user.password = hash_password(password)
        user.session_version += 1


def revoke(sessions: sessionmaker[Session], name: str, center: str | None = None) -> int:
    """End every session of the user (logout does this); the new version."""
    with sessions.begin() as s:
        user = s.get(WebUser, name)
        if user is None or (center is not None and user.center != center):
            raise ValueError(f"no user {name!r}")
        user.session_version += 1
        return user.session_version


def upgrade_hash(sessions: sessionmaker[Session], name: str, stored: str, password: str) -> None:
    """Replace an old hash by an argon2id one after a good login (only if it is still the
    hash that was checked)."""
    with sessions.begin() as s:
        s.execute(update(WebUser).where(WebUser.name == name, WebUser.password == stored)
                  .values(password=hash_password(password)))
