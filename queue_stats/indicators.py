"""The call indicators, computed from the engine's ledger. Each formula is written here once and
in docs/indicators.md with its exact numerator and denominator.

Every indicator is a `Ratio` or a `Mean`: the numerator and the denominator travel with the
value, so a figure can be checked by hand, and "no data" (a zero denominator) is never shown
as 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Float, and_, case, cast, func, literal_column, select

from acd.history.models import Call, QueueCall
from hotline.localtime import to_utc


@dataclass(frozen=True)
class Ratio:
    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.numerator / self.denominator

    def __str__(self) -> str:
        v = self.value
        return "no data" if v is None else f"{100 * v:.2f} %"


@dataclass(frozen=True)
class Mean:
    total: float
    count: int

    @property
    def value(self) -> float | None:
        return None if not self.count else self.total / self.count

    def __str__(self) -> str:
        v = self.value
        return "no data" if v is None else f"{v:.1f} s"


@dataclass(frozen=True)
class Options:
    """Choices centers differ on, with the defaults this project ships."""

    short_abandon_s: float = 0.0   # abandoned within this many seconds: not counted at all
    answer_within_s: float = 10.0  # the 10-second answer rate's threshold (of the queue wait)


@dataclass(frozen=True)
class CallIndicators:
    queued: int                           # calls that queued for a seat (after exclusions)
    answered: int
    abandoned: int
    manual_connection_rate: Ratio         # 人工接通率
    # 平均等待时长, as seed 002 art. 6 (四) defines it: "从来电人拨打12328电话到获得服务的平均时长",
    # from dialling 12328 (the call's start, so the IVR counts) to being answered by a seat.
    average_wait_s: Mean
    average_queue_wait_s: Mean            # the queue's part only: entering a queue -> answer
    answered_within_10s_rate: Ratio       # 10 秒接通率 (of the queue wait)
    abandon_rate: Ratio
    average_handle_time_s: Mean           # talk + wrap-up per answered call

    def as_dict(self) -> dict[str, float | int | None]:
        return {"queued": self.queued, "answered": self.answered, "abandoned": self.abandoned,
                "manual_connection_rate": self.manual_connection_rate.value,
                "average_wait_s": self.average_wait_s.value,
                "average_queue_wait_s": self.average_queue_wait_s.value,
                "answered_within_10s_rate": self.answered_within_10s_rate.value,
                "abandon_rate": self.abandon_rate.value,
                "average_handle_time_s": self.average_handle_time_s.value}


# A call a callback reached counts as answered (docs/indicators.md, "Callers who do not wait").
ANSWERED = ("answered", "transferred", "callback_answered")


def next_month(t: datetime) -> datetime:
    """Midnight of the first day of the month after `t`'s."""
    return (t.replace(day=28, hour=0, minute=0, second=0, microsecond=0)
            + timedelta(days=4)).replace(day=1)


def local_to_utc(t: datetime, timezone: str) -> datetime:
    """A naive local time of `timezone` as the ledger's naive UTC."""
    return to_utc(t, timezone)


def add_up(groups: list[Any], empty: Any) -> Any:
    """The sum of indicator groups (CallIndicators or OrderIndicators): counts, numerators and
    denominators add up, so the province's figures are its centers' added together, exactly."""
    if not groups:
        return empty
    total = {}
    for f in fields(groups[0]):
        values = [getattr(g, f.name) for g in groups]
        if isinstance(values[0], Ratio):
            total[f.name] = Ratio(sum(v.numerator for v in values),
                                  sum(v.denominator for v in values))
        elif isinstance(values[0], Mean):
            total[f.name] = Mean(sum(v.total for v in values), sum(v.count for v in values))
        else:
            total[f.name] = sum(values)
    return type(groups[0])(**total)


def call_indicators(engine: Engine, since: datetime, until: datetime, center: str | None = None,
                    queue: str | None = None, seat: str | None = None,
                    options: Options = Options()) -> CallIndicators:
    """Indicators of the calls whose first queue entry is in [since, until) (UTC)."""
    by = call_indicators_by(engine, since, until, "all", center, queue, seat, options)
    return by.get("all") or _Tally().result()


GROUPINGS = ("all", "hour", "day", "month", "quarter", "year", "center", "queue", "seat")


def call_indicators_by(engine: Engine, since: datetime, until: datetime, by: str,
                       center: str | None = None, queue: str | None = None,
                       seat: str | None = None, options: Options = Options(),
                       timezone: str = "Asia/Shanghai") -> dict[str, CallIndicators]:
    """The indicators per group: a time unit (in the center's time zone, of the call's first
    queue entry), or a center, queue (the call's last) or seat. Groups add up to the total.

    One GROUP BY query does the counting (a province's half year is a million calls; loading
    them into Python took minutes), the same SQL on SQLite and PostgreSQL."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    dialect = engine.dialect.name
    g = Grouping(by, timezone, dialect, since, until)
    answered = Call.outcome.in_(ANSWERED)
    queue_wait = func.coalesce(Call.wait_s, 0.0)
    # from the call's start (dialling 12328) to the answer; a call without its answer time
    # (an old ledger row) falls back to its queue wait
    call_wait = case((Call.answered_at.is_not(None),
                      seconds_between(Call.started_at, Call.answered_at, dialect)),
                     else_=queue_wait)
    handled = and_(answered, Call.talk_s.is_not(None))
    q = (select(func.count().label("queued"), count_if(answered).label("answered"),
                count_if(Call.outcome == "abandoned").label("abandoned"),
                func.sum(case((answered, call_wait), else_=0.0)).label("wait_total"),
                func.sum(case((answered, queue_wait), else_=0.0)).label("queue_wait_total"),
                count_if(and_(answered, queue_wait <= options.answer_within_s)).label("within"),
                # talk + the seat's wrap-up for the call (kept on the call by the ledger)
                func.sum(case((handled, Call.talk_s + func.coalesce(Call.wrapup_s, 0.0)),
                              else_=0.0)).label("handle_total"),
                count_if(handled).label("handled"))
         .select_from(Call)
         # A call's first queue entry decides its period (kept on the call by the ledger).
         # A callback's leg is not a call into the center: its call is counted.
         .where(Call.queued_at >= since, Call.queued_at < until, Call.callback_of.is_(None)))
    if options.short_abandon_s > 0:
        q = q.where(~and_(Call.outcome == "abandoned",
                          func.coalesce(Call.wait_s, 0.0) < options.short_abandon_s))
    if center:
        q = q.where(Call.center == center)
    if queue:
        q = q.where(Call.final_queue == queue)
    if seat:
        q = q.where(Call.seat_id == seat)
    q = g.query(q, g.expr(Call.queued_at, Call.center, Call.final_queue, Call.seat_id))
    tallies: dict[str, _Tally] = {}
    with engine.connect() as conn:
        for row in conn.execute(q):
            if row.queued:
                tallies.setdefault(g.key(row.g), _Tally()).add_row(row)
    return {k: t.result() for k, t in sorted(tallies.items())}


def count_if(cond):  # type: ignore[no-untyped-def]
    """SQL: how many rows meet `cond` (portable: no FILTER clause)."""
    return func.sum(case((cond, 1), else_=0))


def seconds_between(start, end, dialect: str):  # type: ignore[no-untyped-def]
    """SQL: seconds from `start` to `end`. SQLite has no interval type: julianday's difference,
    rounded to the millisecond (a double holds a Julian day to about 50 microseconds)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


class Grouping:
    """How rows are put into groups, done half in SQL and half in Python so it runs the same on
    SQLite and PostgreSQL: SQL groups by the timestamp's UTC hour as text (cheap and
    dialect-neutral), then each hour is turned into its local day, month, ... here. A time zone
    whose offset is not whole hours over the period gets minute buckets instead."""

    TIME_UNITS = ("hour", "day", "month", "quarter", "year")

    def __init__(self, by: str, timezone: str, dialect: str, since: datetime,
                 until: datetime) -> None:
        from zoneinfo import ZoneInfo

        self.by, self.dialect = by, dialect
        self.tz, self.utc = ZoneInfo(timezone), ZoneInfo("UTC")
        offsets = {self.tz.utcoffset(t) for t in (since, until)}
        self.fine = any(o is not None and o.total_seconds() % 3600 for o in offsets)
        self._keys: dict[str, str] = {}

    def expr(self, time_col, center_col, queue_col=None, seat_col=None):  # type: ignore[no-untyped-def]
        """The SQL expression to GROUP BY (None for "all": PostgreSQL refuses to group by a
        constant, so that query has no GROUP BY at all)."""
        if self.by == "all":
            return None
        if self.by in self.TIME_UNITS:
            if self.dialect == "postgresql":
                return func.to_char(time_col, "YYYY-MM-DD HH24:MI" if self.fine
                                    else "YYYY-MM-DD HH24")
            return func.strftime("%Y-%m-%d %H:%M" if self.fine else "%Y-%m-%d %H", time_col)
        return {"center": center_col, "queue": queue_col, "seat": seat_col}[self.by]

    def query(self, q, expr):  # type: ignore[no-untyped-def]
        """`q` with the group's expression as its first column, grouped by it."""
        if expr is None:
            return q.add_columns(literal_column("'all'").label("g"))
        return q.add_columns(expr.label("g")).group_by(expr)

    def date_expr(self, date_col, center_col):  # type: ignore[no-untyped-def]
        """Like `expr`, for a column that is already a local day (a deadline): SQL groups by
        the day itself."""
        if self.by in self.TIME_UNITS:
            return date_col
        return self.expr(date_col, center_col)

    def date_key(self, raw: date | str | None) -> str:
        """The group's name from a local day (SQLite hands the text, PostgreSQL a date); by
        hour, a day's group is its first hour."""
        if self.by not in self.TIME_UNITS:
            return self.key(raw)  # type: ignore[arg-type]
        d = raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
        return {"hour": f"{d:%Y-%m-%d} 00:00", "day": f"{d:%Y-%m-%d}", "month": f"{d:%Y-%m}",
                "quarter": f"{d.year}-Q{(d.month - 1) // 3 + 1}", "year": f"{d.year}"}[self.by]

    def key(self, raw: str | None) -> str:
        """The group's name from what SQL grouped by."""
        if self.by == "all":
            return "all"
        if self.by == "seat":
            return raw or "-"
        if self.by not in self.TIME_UNITS:
            return raw or ""
        key = self._keys.get(raw)  # type: ignore[arg-type]
        if key is None:
            fmt = "%Y-%m-%d %H:%M" if self.fine else "%Y-%m-%d %H"
            local = datetime.strptime(raw, fmt).replace(tzinfo=self.utc).astimezone(self.tz)  # type: ignore[arg-type]
            key = self._keys[raw] = {  # type: ignore[index]
                "hour": f"{local:%Y-%m-%d %H}:00", "day": f"{local:%Y-%m-%d}",
                "month": f"{local:%Y-%m}", "quarter": f"{local.year}-Q{(local.month - 1) // 3 + 1}",
                "year": f"{local.year}"}[self.by]
        return key


class _Tally:
    """A group's sums. Groups of SQL that map to one group here (two UTC hours of one local
    day) are added up."""

    def __init__(self) -> None:
        self.queued = self.answered = self.abandoned = self.within = self.handled = 0
        self.wait_total = self.queue_wait_total = self.handle_total = 0.0

    def add_row(self, row) -> None:  # type: ignore[no-untyped-def]
        self.queued += int(row.queued)
        self.answered += int(row.answered or 0)
        self.abandoned += int(row.abandoned or 0)
        self.within += int(row.within or 0)
        self.handled += int(row.handled or 0)
        self.wait_total += float(row.wait_total or 0.0)
        self.queue_wait_total += float(row.queue_wait_total or 0.0)
        self.handle_total += float(row.handle_total or 0.0)

    def result(self) -> CallIndicators:
        return CallIndicators(
            queued=self.queued, answered=self.answered, abandoned=self.abandoned,
            manual_connection_rate=Ratio(self.answered, self.queued),
            average_wait_s=Mean(self.wait_total, self.answered),
            average_queue_wait_s=Mean(self.queue_wait_total, self.answered),
            answered_within_10s_rate=Ratio(self.within, self.answered),
            abandon_rate=Ratio(self.abandoned, self.queued),
            average_handle_time_s=Mean(self.handle_total, self.handled))


def broadcast_hangups(engine: Engine, since: datetime, until: datetime,
                      center: str | None = None) -> Ratio:
    """Callers who heard the emergency broadcast and hung up without queueing / callers who
    heard it (calls started in [since, until))."""
    q = (select(Call.uniqueid, func.count(QueueCall.id))
         .outerjoin(QueueCall, QueueCall.uniqueid == Call.uniqueid)
         .where(Call.heard_broadcast.is_(True), Call.started_at >= since,
                Call.started_at < until)
         .group_by(Call.uniqueid))
    if center:
        q = q.where(Call.center == center)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return Ratio(sum(1 for _, stays in rows if stays == 0), len(rows))
