"""The work-order indicators (seed 002 article 6-7), from the work-order tables. Each is a
`Ratio` with its numerator and denominator (docs/indicators.md); no orders: no data.

An order belongs to the period in which it was accepted. Everything is counted by SQL
aggregation (three GROUP BY queries), never by loading orders into Python, so a province's
half year (a million orders) takes seconds; the same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, case, exists, func, select

from acd.history.models import Call
from acd.history.upward import CallRecordUpload
from acd.orders.models import Revisit, WorkOrder
from queue_stats import parallel
from queue_stats.indicators import Grouping, Ratio, count_if

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


def order_indicators(engine: Engine, since: datetime, until: datetime,
                     center: str | None = None) -> OrderIndicators:
    """The indicators of the orders accepted in [since, until) (UTC)."""
    return order_indicators_by(engine, since, until, "all", center).get("all") or _empty()


def order_indicators_by(engine: Engine, since: datetime, until: datetime, by: str,
                        center: str | None = None,
                        timezone: str = "Asia/Shanghai") -> dict[str, OrderIndicators]:
    """The indicators per group: all, a time unit (in the center's time zone, of the order's
    acceptance; for the order generation rate, of the call's start) or a center. Groups add up
    to the total; a group appears when it has an order or an answered call."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    dialect = engine.dialect.name
    g = Grouping(by, timezone, dialect, since, until)
    sums: dict[str, dict[str, int]] = {}

    def fetch(q):  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            return conn.execute(q).all()

    queries = (_orders_query(g, since, until, center, dialect),
               _revisits_query(g, since, until, center), _calls_query(g, since, until, center))
    for rows in parallel.run(engine, *(lambda q=q: fetch(q) for q in queries)):
        for row in rows:
            # several SQL groups (UTC hours) can make one group here (a local day)
            into = sums.setdefault(g.key(row.g), {})
            for name, value in row._mapping.items():
                if name != "g":
                    into[name] = into.get(name, 0) + int(value or 0)
    result = {}
    for k, v in sorted(sums.items()):
        def n(name: str, v: dict[str, int] = v) -> int:
            return v.get(name, 0)
        if not n("orders") and not n("calls"):
            continue
        result[k] = OrderIndicators(
            orders=n("orders"),
            instant_answer_rate=Ratio(n("consult_instant"), n("consult")),
            closed_in_time=Ratio(n("transferred_in_time"), n("transferred")),
            cross_region_closed_in_time=Ratio(n("cross_in_time"), n("cross")),
            instant_answer_satisfaction=Ratio(n("rated_satisfied"), n("rated")),
            revisit_rate=Ratio(n("revisited"), n("closed_transferred")),
            revisit_satisfaction=Ratio(n("revisits_satisfied"), n("revisits_rated")),
            order_generation_rate=Ratio(n("with_order"), n("answered")),
            data_conformity=Ratio(n("conforming"), n("orders")),
            call_record_reporting=Ratio(n("uploaded"), n("calls")))
    return result


def _empty() -> OrderIndicators:
    none = Ratio(0, 0)
    return OrderIndicators(0, none, none, none, none, none, none, none, none, none)


def _in_period(since: datetime, until: datetime, center: str | None):  # type: ignore[no-untyped-def]
    cond = and_(WorkOrder.accepted_at >= since, WorkOrder.accepted_at < until)
    return and_(cond, WorkOrder.center == center) if center else cond


TRANSFERRED = WorkOrder.transferred_at.is_not(None)
# closed on or before the deadline day (date() is SQLite's text date and PostgreSQL's cast)
IN_TIME = and_(WorkOrder.closed_at.is_not(None), func.date(WorkOrder.closed_at) <= WorkOrder.due)
CLOSED_TRANSFERRED = and_(TRANSFERRED, WorkOrder.status.in_(("closed", "archived")))


def _orders_query(g: Grouping, since: datetime, until: datetime, center: str | None,
                  dialect: str):  # type: ignore[no-untyped-def]
    score = WorkOrder.survey_score  # the call's answer, kept on the order
    rated = and_(WorkOrder.answered_on_call.is_(True), score.is_not(None), score != 0)
    q = (select(func.count().label("orders"),
                count_if(WorkOrder.type == "consultation").label("consult"),
                count_if(and_(WorkOrder.type == "consultation",
                            WorkOrder.answered_on_call.is_(True))).label("consult_instant"),
                count_if(TRANSFERRED).label("transferred"),
                count_if(and_(TRANSFERRED, IN_TIME)).label("transferred_in_time"),
                count_if(and_(TRANSFERRED, WorkOrder.cross_region.is_(True))).label("cross"),
                count_if(and_(TRANSFERRED, WorkOrder.cross_region.is_(True), IN_TIME))
                .label("cross_in_time"),
                count_if(rated).label("rated"),
                count_if(and_(rated, score.in_(SATISFIED))).label("rated_satisfied"),
                count_if(CLOSED_TRANSFERRED).label("closed_transferred"),
                # the rules each order breaks are kept on it (acd/orders/service.py)
                count_if(WorkOrder.nonconformity == "").label("conforming"))
         .where(_in_period(since, until, center)))
    return g.query(q, g.expr(WorkOrder.accepted_at, WorkOrder.center))


def _revisits_query(g: Grouping, since: datetime, until: datetime,
                    center: str | None):  # type: ignore[no-untyped-def]
    done = Revisit.done_at.is_not(None)
    rated = and_(done, Revisit.satisfaction.is_not(None))
    q = (select(func.count(func.distinct(case((and_(done, CLOSED_TRANSFERRED), Revisit.order_id))))
                .label("revisited"),
                count_if(rated).label("revisits_rated"),
                count_if(and_(rated, Revisit.satisfaction.in_(SATISFIED)))
                .label("revisits_satisfied"))
         .select_from(Revisit).join(WorkOrder, WorkOrder.id == Revisit.order_id)
         .where(_in_period(since, until, center)))
    return g.query(q, g.expr(WorkOrder.accepted_at, WorkOrder.center))


def _calls_query(g: Grouping, since: datetime, until: datetime,
                 center: str | None):  # type: ignore[no-untyped-def]
    """One pass over the calls started in the period: answered ones with an order (order
    generation), and every call with its record uploaded (call-record reporting)."""
    answered = Call.outcome.in_(("answered", "transferred"))
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
    q = q.where(Call.started_at >= since, Call.started_at < until)
    if center:
        q = q.where(Call.center == center)
    return g.query(q, g.expr(Call.started_at, Call.center))
