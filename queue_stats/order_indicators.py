"""The work-order indicators (seed 002 articles 6-7), from the work-order tables. Each is a
`Ratio` with its numerator and denominator (docs/indicators.md quotes each article and works
an example); no orders: no data.

Which period an order counts in depends on what is measured:
- accepted in the period: 工单数量, 信息咨询类即时答复率, 即时答复满意率, 数据规范率;
- due in the period (its deadline, a day of the center's time zone, is one of the period's
  days): 限时办结率 and 跨省(地市)工单办结率. In time: the unit replied by the end of its deadline
  day (seed 001 art. 33: "回复办理意见"). An order with no reply whose deadline has not yet
  passed (`today`) is pending: in neither the numerator nor the denominator;
- closed in the period: 抽查回访率 (transferred orders closed, of them those revisited);
- revisit recorded in the period: 抽查回访满意率;
- calls started in the period: 电话工单生成率, 通话记录报送率.

Everything is counted by SQL aggregation (five GROUP BY queries run at once), never by loading
orders into Python, so a province's half year (a million orders) takes seconds; the same SQL
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Engine, and_, cast, exists, false, func, or_, select

from acd.history.models import Call
from acd.history.upward import CallRecordUpload
from acd.orders.models import Revisit, WorkOrder
from hotline.localtime import to_local
from queue_stats import parallel
from queue_stats.indicators import ANSWERED, Grouping, Ratio, count_if

SATISFIED = (1, 2)  # very satisfied, satisfied
GROUPINGS = ("all", "hour", "day", "month", "quarter", "year", "center")


@dataclass(frozen=True)
class OrderIndicators:
    orders: int                          # 工单数量
    instant_answer_rate: Ratio           # 信息咨询类即时答复率
    closed_in_time: Ratio                # 限时办结率
    cross_region_closed_in_time: Ratio   # 跨省(地市)工单办结率
    instant_answer_satisfaction: Ratio   # 即时答复满意率
    revisit_rate: Ratio                  # 抽查回访率
    revisit_satisfaction: Ratio          # 抽查回访满意率
    order_generation_rate: Ratio         # 电话工单生成率
    data_conformity: Ratio               # 数据规范率
    # 通话记录报送率: calls (started in the period) whose record was uploaded / calls. Counted
    # in the same pass over the calls as the order generation rate (queue_stats/upward.py).
    call_record_reporting: Ratio
    # Orders due in the period, not yet replied, whose deadline has not passed: not counted
    # in 限时办结率 (yet).
    deadlines_pending: int = 0


def order_indicators(engine: Engine, since: datetime, until: datetime,
                     center: str | None = None, timezone: str = "Asia/Shanghai",
                     today: date | None = None) -> OrderIndicators:
    """The indicators of the period [since, until) (UTC; its days are `timezone`'s)."""
    return order_indicators_by(engine, since, until, "all", center, timezone,
                               today).get("all") or _empty()


def order_indicators_by(engine: Engine, since: datetime, until: datetime, by: str,
                        center: str | None = None, timezone: str = "Asia/Shanghai",
                        today: date | None = None) -> dict[str, OrderIndicators]:
    """The indicators per group: all, a time unit (in the center's time zone, of the time
    each indicator counts by: see the module) or a center. Groups add up to the total; a
    group appears when it has an order or a call. `today` (the center's day, default now):
    deadlines after it are pending."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    dialect = engine.dialect.name
    g = Grouping(by, timezone, dialect, since, until)
    today = today or datetime.now(ZoneInfo(timezone)).date()
    sums: dict[str, dict[str, int]] = {}

    def fetch(q, key: Callable[[Any], str]):  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            return [(key(row.g), row) for row in conn.execute(q)]

    queries = (_orders_query(g, since, until, center),
               _deadlines_query(g, since, until, center, timezone, today),
               _closed_query(g, since, until, center),
               _revisits_query(g, since, until, center),
               _calls_query(g, since, until, center))
    for rows in parallel.run(engine, *(lambda q=q, k=k: fetch(q, k) for q, k in queries)):
        for key, row in rows:
            # several SQL groups (UTC hours) can make one group here (a local day)
            into = sums.setdefault(key, {})
            for name, value in row._mapping.items():
                if name != "g":
                    into[name] = into.get(name, 0) + int(value or 0)
    result = {}
    for k, v in sorted(sums.items()):
        def n(name: str, v: dict[str, int] = v) -> int:
            return v.get(name, 0)
        if not any(v.values()):
            continue
        result[k] = OrderIndicators(
            orders=n("orders"),
            instant_answer_rate=Ratio(n("consult_instant"), n("consult")),
            closed_in_time=Ratio(n("due_in_time"), n("due")),
            cross_region_closed_in_time=Ratio(n("cross_in_time"), n("cross")),
            instant_answer_satisfaction=Ratio(n("rated_satisfied"), n("rated")),
            revisit_rate=Ratio(n("revisited"), n("closed_transferred")),
            revisit_satisfaction=Ratio(n("revisits_satisfied"), n("revisits_rated")),
            order_generation_rate=Ratio(n("with_order"), n("answered")),
            data_conformity=Ratio(n("conforming"), n("orders")),
            call_record_reporting=Ratio(n("uploaded"), n("calls")),
            deadlines_pending=n("due_pending"))
    return result


def _empty() -> OrderIndicators:
    none = Ratio(0, 0)
    return OrderIndicators(0, none, none, none, none, none, none, none, none, none)


def _where(cond, center: str | None):  # type: ignore[no-untyped-def]
    return and_(cond, WorkOrder.center == center) if center else cond


TRANSFERRED = WorkOrder.transferred_at.is_not(None)
CLOSED = WorkOrder.status.in_(("closed", "archived"))


def _orders_query(g: Grouping, since: datetime, until: datetime, center: str | None):  # type: ignore[no-untyped-def]
    """Orders accepted in the period."""
    score = WorkOrder.survey_score  # the call's answer, kept on the order
    rated = and_(WorkOrder.answered_on_call.is_(True), score.is_not(None), score != 0)
    q = (select(func.count().label("orders"),
                count_if(WorkOrder.type == "consultation").label("consult"),
                count_if(and_(WorkOrder.type == "consultation",
                              WorkOrder.answered_on_call.is_(True))).label("consult_instant"),
                count_if(rated).label("rated"),
                count_if(and_(rated, score.in_(SATISFIED))).label("rated_satisfied"),
                # the rules each order breaks are kept on it (acd/orders/service.py)
                count_if(WorkOrder.nonconformity == "").label("conforming"))
         .where(_where(and_(WorkOrder.accepted_at >= since, WorkOrder.accepted_at < until),
                       center)))
    return g.query(q, g.expr(WorkOrder.accepted_at, WorkOrder.center)), g.key


def first_day(t: datetime, timezone: str) -> date:
    """The first local day whose midnight is at or after the stored time `t`."""
    local = to_local(t, timezone)
    return local.date() if local.time() == time() else local.date() + timedelta(days=1)


def deadline_days(since: datetime, until: datetime, timezone: str) -> tuple[date, date]:
    """The deadlines (local days) that fall in [since, until): a day belongs to the period
    in which it begins, so a month's are its own days."""
    return first_day(since, timezone), first_day(until, timezone)


def replied_by_deadline(dialect: str, timezone: str, lo: date, hi: date):  # type: ignore[no-untyped-def]
    """SQL, for orders due in [lo, hi): the unit's reply came by the end of the deadline day,
    the center's local day. The reply's local day is its UTC time plus the zone's offset at
    the deadline's end; the days are split where the offset changes (summer time), so this
    holds in any zone (Asia/Shanghai has one offset)."""
    tz = ZoneInfo(timezone)
    runs: list[tuple[date, date, int]] = []
    d = lo
    while d < hi:
        end = datetime.combine(d + timedelta(days=1), time(), tzinfo=tz)
        offset = int(end.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        if runs and runs[-1][2] == offset:
            runs[-1] = (runs[-1][0], d + timedelta(days=1), offset)
        else:
            runs.append((d, d + timedelta(days=1), offset))
        d += timedelta(days=1)

    def reply_day(minutes: int):  # type: ignore[no-untyped-def]
        if dialect == "postgresql":
            return cast(WorkOrder.replied_at + timedelta(minutes=minutes), Date)
        return func.date(WorkOrder.replied_at, f"{minutes:+d} minutes")

    if not runs:
        return false()
    if len(runs) == 1:
        in_time = reply_day(runs[0][2]) <= WorkOrder.due
    else:
        in_time = or_(*(and_(WorkOrder.due >= a, WorkOrder.due < b, reply_day(m) <= WorkOrder.due)
                        for a, b, m in runs))
    return and_(WorkOrder.replied_at.is_not(None), in_time)


def _deadlines_query(g: Grouping, since: datetime, until: datetime, center: str | None,
                     timezone: str, today: date):  # type: ignore[no-untyped-def]
    """Transferred orders whose unit's deadline falls in the period: 限时办结率 and its
    cross-region twin. Pending (no reply, deadline not passed): counted apart."""
    lo, hi = deadline_days(since, until, timezone)
    in_time = replied_by_deadline(g.dialect, timezone, lo, hi)
    counted = or_(WorkOrder.replied_at.is_not(None), WorkOrder.due < today)
    cross = WorkOrder.cross_region.is_(True)
    q = (select(count_if(counted).label("due"), count_if(in_time).label("due_in_time"),
                count_if(and_(cross, counted)).label("cross"),
                count_if(and_(cross, in_time)).label("cross_in_time"),
                count_if(~counted).label("due_pending"))
         .where(_where(and_(TRANSFERRED, WorkOrder.due.is_not(None), WorkOrder.due >= lo,
                            WorkOrder.due < hi), center)))
    return g.query(q, g.date_expr(WorkOrder.due, WorkOrder.center)), g.date_key


def _closed_query(g: Grouping, since: datetime, until: datetime, center: str | None):  # type: ignore[no-untyped-def]
    """Transferred orders closed in the period, and of them those revisited (the caller was
    reached, whenever): 抽查回访率."""
    reached = (select(Revisit.order_id).where(Revisit.reached.is_(True))
               .group_by(Revisit.order_id).subquery())
    q = (select(func.count().label("closed_transferred"),
                count_if(reached.c.order_id.is_not(None)).label("revisited"))
         .select_from(WorkOrder).outerjoin(reached, reached.c.order_id == WorkOrder.id)
         .where(_where(and_(TRANSFERRED, CLOSED, WorkOrder.closed_at >= since,
                            WorkOrder.closed_at < until), center)))
    return g.query(q, g.expr(WorkOrder.closed_at, WorkOrder.center)), g.key


def _revisits_query(g: Grouping, since: datetime, until: datetime, center: str | None):  # type: ignore[no-untyped-def]
    """Revisits of transferred orders recorded in the period with the caller's satisfaction:
    抽查回访满意率 (each rated revisit counts; an order reopened and revisited again counts
    again)."""
    rated = and_(Revisit.reached.is_(True), Revisit.satisfaction.is_not(None))
    q = (select(count_if(rated).label("revisits_rated"),
                count_if(and_(rated, Revisit.satisfaction.in_(SATISFIED)))
                .label("revisits_satisfied"))
         .select_from(Revisit).join(WorkOrder, WorkOrder.id == Revisit.order_id)
         .where(_where(and_(TRANSFERRED, Revisit.done_at >= since, Revisit.done_at < until),
                       center)))
    return g.query(q, g.expr(Revisit.done_at, WorkOrder.center)), g.key


def _calls_query(g: Grouping, since: datetime, until: datetime,
                 center: str | None):  # type: ignore[no-untyped-def]
    """One pass over the calls started in the period: answered ones with an order (order
    generation), and every call with its record uploaded (call-record reporting)."""
    answered = Call.outcome.in_(ANSWERED)
    if g.dialect == "postgresql":
        # PostgreSQL runs an EXISTS inside an aggregate once per row, but hashes a join, in
        # parallel; a call has at most one order (a unique index), so joining counts it once.
        q = (select(func.count().label("calls"),
                    count_if(CallRecordUpload.uniqueid.is_not(None)).label("uploaded"),
                    count_if(answered).label("answered"),
                    count_if(and_(answered, WorkOrder.id.is_not(None))).label("with_order"))
             .select_from(Call)
             .outerjoin(CallRecordUpload, CallRecordUpload.uniqueid == Call.uniqueid)
             .outerjoin(WorkOrder, WorkOrder.call_uniqueid == Call.uniqueid))
    else:
        # SQLite looks each call up in the two indexes, which is what it does best.
        has_order = exists().where(WorkOrder.call_uniqueid == Call.uniqueid)
        uploaded = exists().where(CallRecordUpload.uniqueid == Call.uniqueid)
        q = select(func.count().label("calls"), count_if(uploaded).label("uploaded"),
                   count_if(answered).label("answered"),
                   count_if(and_(answered, has_order)).label("with_order"))
    # A callback's leg is not a call into the center (its call is counted).
    q = q.where(Call.started_at >= since, Call.started_at < until, Call.callback_of.is_(None))
    if center:
        q = q.where(Call.center == center)
    return g.query(q, g.expr(Call.started_at, Call.center)), g.key
