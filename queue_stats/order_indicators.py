"""The work-order indicators (seed 002 article 6-7), from the work-order tables. Each is a
`Ratio` with its numerator and denominator (docs/indicators.md); no orders: no data.

An order belongs to the period in which it was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders.models import Revisit, WorkOrder
from acd.orders.service import conformity
from queue_stats.indicators import Ratio

SATISFIED = (1, 2)  # very satisfied, satisfied


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


def order_indicators(engine: Engine, since: datetime, until: datetime,
                     center: str | None = None) -> OrderIndicators:
    with Session(engine) as s:
        q = select(WorkOrder).where(WorkOrder.accepted_at >= since, WorkOrder.accepted_at < until)
        if center:
            q = q.where(WorkOrder.center == center)
        orders = list(s.scalars(q))
        ids = [o.id for o in orders]
        scores = dict(s.execute(select(Call.uniqueid, Call.survey_score).where(
            Call.uniqueid.in_([o.call_uniqueid for o in orders if o.call_uniqueid]))).all())
        revisits = list(s.scalars(select(Revisit).where(Revisit.order_id.in_(ids)))) if ids else []
        cq = select(Call.uniqueid).where(Call.started_at >= since, Call.started_at < until,
                                         Call.outcome.in_(("answered", "transferred")))
        if center:
            cq = cq.where(Call.center == center)
        answered_calls = set(s.scalars(cq))
        with_order = set(s.scalars(select(WorkOrder.call_uniqueid).where(
            WorkOrder.call_uniqueid.in_(list(answered_calls))))) if answered_calls else set()

    consult = [o for o in orders if o.type == "consultation"]
    transferred = [o for o in orders if o.transferred_at is not None]
    cross = [o for o in transferred if o.cross_region]

    def in_time(os: list[WorkOrder]) -> Ratio:
        return Ratio(sum(1 for o in os if o.closed_at is not None and o.closed_at.date() <= o.due),
                     len(os))

    instant = [o for o in orders if o.answered_on_call]
    rated = [scores.get(o.call_uniqueid) for o in instant if scores.get(o.call_uniqueid)]
    closed_transferred = {o.id for o in transferred if o.status in ("closed", "archived")}
    done = [r for r in revisits if r.done_at is not None]
    revisited = {r.order_id for r in done} & closed_transferred
    revisit_rated = [r.satisfaction for r in done if r.satisfaction is not None]
    return OrderIndicators(
        orders=len(orders),
        instant_answer_rate=Ratio(sum(1 for o in consult if o.answered_on_call), len(consult)),
        closed_in_time=in_time(transferred),
        cross_region_closed_in_time=in_time(cross),
        instant_answer_satisfaction=Ratio(sum(1 for x in rated if x in SATISFIED), len(rated)),
        revisit_rate=Ratio(len(revisited), len(closed_transferred)),
        revisit_satisfaction=Ratio(sum(1 for x in revisit_rated if x in SATISFIED),
                                   len(revisit_rated)),
        order_generation_rate=Ratio(len(with_order & answered_calls), len(answered_calls)),
        data_conformity=Ratio(sum(1 for o in orders if not conformity(o)), len(orders)),
    )
