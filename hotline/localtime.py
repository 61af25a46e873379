"""One rule for time: stored times are naive UTC; every day, month, deadline and sample is a
day of the center's time zone (`center.timezone`, Asia/Shanghai by default).

These helpers turn one into the other, so no module computes a day from a UTC timestamp
(07:00 in Beijing is still the previous day in UTC) or reads the machine's date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def now_utc() -> datetime:
    """Now, as the database keeps times (naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(t: datetime, tz: str | ZoneInfo) -> datetime:
    """A stored (naive UTC) time as the naive local time of `tz`."""
    return t.replace(tzinfo=UTC).astimezone(zone(tz)).replace(tzinfo=None)


def local_date(t: datetime, tz: str | ZoneInfo) -> date:
    """The center's day on which a stored (naive UTC) time falls."""
    return to_local(t, tz).date()


def to_utc(t: datetime, tz: str | ZoneInfo) -> datetime:
    """A naive local time of `tz` as a stored time (naive UTC)."""
    return t.replace(tzinfo=zone(tz)).astimezone(UTC).replace(tzinfo=None)


def day_window(day: date, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """A local day as the stored-time window [since, until)."""
    start = datetime.combine(day, time())
    return to_utc(start, tz), to_utc(start + timedelta(days=1), tz)


def today(tz: str | ZoneInfo) -> date:
    return datetime.now(zone(tz)).date()


def parse_local(text: str, tz: str | ZoneInfo, what: str = "time") -> datetime:
    """`YYYY-MM-DD` (that day's local midnight) or `YYYY-MM-DDTHH:MM[:SS]`, a local time of
    `tz`, as a stored time (naive UTC). A time with its own offset (`+08:00`, `Z`) is taken as
    it says. ValueError naming `what` when it is not a date or time."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a local date or time like 2026-03-01 or "
                         f"2026-03-01T08:00, got {text!r}") from None
    if t.tzinfo is not None:
        return t.astimezone(UTC).replace(tzinfo=None)
    return to_utc(t, tz)


def parse_day(text: str, what: str = "day") -> date:
    """`YYYY-MM-DD`, a day of the center's time zone. ValueError naming `what` otherwise."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-03-01, got {text!r}") from None
