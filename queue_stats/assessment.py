"""The monthly assessment (seed 000 annex 4; seed 002 articles 9-10): every center's
indicators for a month against their targets, a score under configurable rules, a rank, and
quarterly and annual roll-ups of the months.

The rules are a TOML file (`queue_stats/scoring/henan.toml`, Henan's 67-point base, is the
default); `Rules.load` refuses a malformed one naming the field. The rules also say how tied
centers are ranked (`tie_break`: Henan's art. 10 by the manual connection rate, annex 4 of
seed 000 by the number of orders) and the Chinese names of the province's centers
(`[centers]`, code = "锦州市"), which the tables and reports show instead of codes. The figures
are those of `queue_stats.indicators`, `queue_stats.order_indicators` and `queue_stats.upward`,
so every cell can be traced to its numerator and denominator.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from acd.history.models import Outage
from queue_stats import parallel
from queue_stats.indicators import Mean, Ratio, call_indicators_by, local_to_utc, next_month
from queue_stats.order_indicators import order_indicators_by
from queue_stats.upward import timely_reporting_by_center

DEFAULT_RULES = Path(__file__).resolve().parent / "scoring" / "henan.toml"

# key -> Chinese label, in annex 4's column order
LABELS: dict[str, str] = {
    "orders": "工单数量",
    "manual_connection_rate": "人工接通率",
    "instant_answer_rate": "信息咨询类即时答复率",
    "average_wait_s": "平均等待时长",
    "closed_in_time": "限时办结率",
    "cross_region_closed_in_time": "跨省(地市)工单办结率",
    "instant_answer_satisfaction": "即时答复满意率",
    "revisit_rate": "抽查回访率",
    "revisit_satisfaction": "抽查回访满意率",
    "order_generation_rate": "电话工单生成率",
    "call_record_reporting_rate": "通话记录报送率",
    "timely_reporting_rate": "数据报送及时率",
    "data_conformity": "数据规范率",
    "outage_count": "断网次数",
    "outage_hours": "断网时长",
}
SCORABLE = tuple(k for k in LABELS if k not in ("orders", "outage_count", "outage_hours"))
# Figures where less is better (a tie-break on them ranks the lower value first).
LOWER_IS_BETTER = ("average_wait_s", "outage_count", "outage_hours")


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class IndicatorRule:
    key: str
    target: float
    better: str  # "higher" / "lower"
    points: float
    step: float
    deduct: float

    def score(self, value: float | None, no_data: str) -> float:
        if value is None:
            return self.points if no_data == "full" else 0.0
        short = self.target - value if self.better == "higher" else value - self.target
        if short <= 1e-12:
            return self.points
        steps = math.ceil(round(short / self.step, 9))
        return max(0.0, self.points - steps * self.deduct)

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.target if self.better == "higher" else value <= self.target


@dataclass(frozen=True)
class OutageRule:
    max_count: int = 4
    deduct_per_count: float = 0.0
    max_hours: float = 4.0
    deduct_per_hour: float = 0.0
    max_deduction: float = 0.0

    def deduction(self, count: int, hours: float) -> float:
        d = max(0, count - self.max_count) * self.deduct_per_count + \
            max(0.0, hours - self.max_hours) * self.deduct_per_hour
        return min(d, self.max_deduction)


@dataclass(frozen=True)
class Rules:
    name: str
    base: float
    no_data: str
    indicators: tuple[IndicatorRule, ...]
    outages: OutageRule
    # How centers with the same score are ranked: figures (keys of LABELS) compared in turn,
    # the better first (higher, or lower for LOWER_IS_BETTER; no data last); centers equal on
    # all of them share the rank. Empty: every tie shares.
    tie_break: tuple[str, ...] = ()
    centers: dict[str, str] = field(default_factory=dict)  # code -> the name shown (锦州市)

    def name_of(self, code: str) -> str:
        return self.centers.get(code, code)

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> Rules:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulesError(f"{path}: {exc}") from exc
        return cls.parse(data, str(path))

    @classmethod
    def parse(cls, data: dict[str, Any], where: str = "rules") -> Rules:
        def need(d: dict[str, Any], k: str, kind: type | tuple[type, ...], at: str) -> Any:
            v = d.get(k)
            if isinstance(v, bool) or not isinstance(v, kind):
                raise RulesError(f"{where}: {at}{k}: expected {getattr(kind, '__name__', 'a number')}"
                                 f", got {v!r}")
            return v

        num = (int, float)
        base = float(need(data, "base", num, ""))
        no_data = data.get("no_data", "full")
        if no_data not in ("full", "zero"):
            raise RulesError(f"{where}: no_data: must be 'full' or 'zero', got {no_data!r}")
        items, seen = [], set()
        raw = data.get("indicator")
        if not isinstance(raw, list) or not raw:
            raise RulesError(f"{where}: indicator: a list of [[indicator]] tables is required")
        for i, d in enumerate(raw):
            at = f"indicator[{i}]."
            key = need(d, "key", str, at)
            if key not in SCORABLE:
                raise RulesError(f"{where}: {at}key: {key!r} is not one of {', '.join(SCORABLE)}")
            if key in seen:
                raise RulesError(f"{where}: {at}key: {key!r} appears twice")
            seen.add(key)
            better = d.get("better")
            if better not in ("higher", "lower"):
                raise RulesError(f"{where}: {at}better: must be 'higher' or 'lower', got {better!r}")
            rule = IndicatorRule(key, float(need(d, "target", num, at)), better,
                                 float(need(d, "points", num, at)), float(need(d, "step", num, at)),
                                 float(need(d, "deduct", num, at)))
            if rule.points < 0 or rule.step <= 0 or rule.deduct < 0:
                raise RulesError(f"{where}: {at}: points and deduct must be >= 0, step > 0")
            items.append(rule)
        total = sum(r.points for r in items)
        if abs(total - base) > 1e-9:
            raise RulesError(f"{where}: base: the indicators' points add up to {total:g}, "
                             f"not the base {base:g}")
        o = data.get("outages", {})
        if not isinstance(o, dict):
            raise RulesError(f"{where}: outages: expected a table")
        outages = OutageRule(**{k: need(o, k, num, "outages.") for k in o
                                if k in OutageRule.__dataclass_fields__})
        unknown = set(o) - set(OutageRule.__dataclass_fields__)
        if unknown:
            raise RulesError(f"{where}: outages: unknown field(s) {', '.join(sorted(unknown))}")
        if "tie_break" not in data:
            raise RulesError(f"{where}: tie_break: required, the figures that rank tied centers "
                             f"in turn (e.g. [\"manual_connection_rate\"]; [] to share the rank)")
        ties = data["tie_break"]
        if not isinstance(ties, list):
            raise RulesError(f"{where}: tie_break: expected a list of figures, got {ties!r}")
        for i, k in enumerate(ties):
            if k not in LABELS:
                raise RulesError(f"{where}: tie_break[{i}]: {k!r} is not one of "
                                 f"{', '.join(LABELS)}")
        if len(set(ties)) != len(ties):
            raise RulesError(f"{where}: tie_break: a figure appears twice")
        names = data.get("centers", {})
        if not isinstance(names, dict) or not all(
                isinstance(v, str) and v.strip() for v in names.values()):
            raise RulesError(f"{where}: centers: expected a table of code = \"中文名\"")
        return cls(str(data.get("name", where)), base, no_data, tuple(items), outages,
                   tuple(ties), {str(k): v.strip() for k, v in names.items()})


@dataclass
class CenterRow:
    center: str                                     # the code, as the records keep it
    values: dict[str, Ratio | Mean | int | float]  # key -> figure (Ratio/Mean carry num/den)
    scores: dict[str, float] = field(default_factory=dict)
    deduction: float = 0.0
    score: float = 0.0
    rank: int = 0
    name: str = ""                                  # as shown: the rules' name, else the code

    def value(self, key: str) -> float | None:
        v = self.values.get(key)
        if isinstance(v, (Ratio, Mean)):
            return v.value
        return None if v is None else float(v)


@dataclass
class Table:
    title: str
    since: datetime   # local time of the province, end exclusive
    until: datetime
    rules: Rules
    rows: list[CenterRow]


# The link whose outages are 断网 (seed 000 annex 4): the center's connection to the platform
# it reports to, as the outbox sees it (acd/outbox/sender.py). AMI losses inside the center
# are kept in the same table under their node's name and are not 断网.
PLATFORM_LINK = "link:platform"


def outages_by_center(engine: Engine, since: datetime, until: datetime) -> dict[str, tuple[int, float]]:
    """(count, hours) per center of the platform link's outages that started in [since,
    until); an outage still open counts up to `until`; hours are clipped to the period.
    Annex 4 shows 断网次数 (the count) and 断网时长 as total/average hours."""
    q = select(Outage.center, Outage.started_at, Outage.ended_at).where(
        Outage.node == PLATFORM_LINK, Outage.started_at >= since, Outage.started_at < until)
    out: dict[str, tuple[int, float]] = {}
    with engine.connect() as conn:
        for c, start, end in conn.execute(q):
            n, h = out.get(c, (0, 0.0))
            out[c] = (n + 1, h + (min(end or until, until) - start).total_seconds() / 3600)
    return out


def monthly_table(engine: Engine, year: int, month: int, rules: Rules | None = None,
                  timezone: str = "Asia/Shanghai", centers: list[str] | None = None,
                  today: date | None = None) -> Table:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    lo = datetime(year, month, 1)
    return period_table(engine, lo, next_month(lo), f"{year}年{month}月", rules, timezone, centers,
                        today)


def period_table(engine: Engine, lo: datetime, hi: datetime, title: str,
                 rules: Rules | None = None, timezone: str = "Asia/Shanghai",
                 centers: list[str] | None = None, today: date | None = None) -> Table:
    """The assessment table of [lo, hi) in local time: indicators, scores and ranks.
    `today` (the center's day; default now): deadlines after it are pending."""
    rules = rules or Rules.load()
    since, until = local_to_utc(lo, timezone), local_to_utc(hi, timezone)
    # The families are independent queries: run at once (queue_stats/parallel.py).
    calls, orders, outages = parallel.run(
        engine,
        lambda: call_indicators_by(engine, since, until, "center", timezone=timezone),
        lambda: order_indicators_by(engine, since, until, "center", timezone=timezone,
                                    today=today),
        lambda: outages_by_center(engine, since, until))
    # Every center with a call or an order in the period (the order figures count both).
    names = centers if centers is not None else sorted(set(calls) | set(orders))
    timely = timely_reporting_by_center(engine, since, until, names, timezone)
    rows = []
    for c in names:
        ci, oi = calls.get(c), orders.get(c)
        none = Ratio(0, 0)
        n_out, h_out = outages.get(c, (0, 0.0))
        values: dict[str, Ratio | Mean | int | float] = {
            "orders": oi.orders if oi else 0,
            "manual_connection_rate": ci.manual_connection_rate if ci else none,
            "average_wait_s": ci.average_wait_s if ci else Mean(0, 0),
            "outage_count": n_out, "outage_hours": round(h_out, 2),
            "outage_average_hours": round(h_out / n_out, 2) if n_out else 0.0,
            "call_record_reporting_rate": oi.call_record_reporting if oi else none,
            "timely_reporting_rate": timely.get(c, none),
        }
        for k in ("instant_answer_rate", "closed_in_time", "cross_region_closed_in_time",
                  "instant_answer_satisfaction", "revisit_rate", "revisit_satisfaction",
                  "order_generation_rate", "data_conformity"):
            values[k] = getattr(oi, k) if oi else none
        rows.append(score_row(CenterRow(c, values, name=rules.name_of(c)), rules))
    rank(rows, rules.tie_break)
    return Table(title, lo, hi, rules, rows)


def score_row(row: CenterRow, rules: Rules) -> CenterRow:
    row.scores = {r.key: r.score(row.value(r.key), rules.no_data) for r in rules.indicators}
    row.deduction = rules.outages.deduction(int(row.value("outage_count") or 0),
                                            row.value("outage_hours") or 0.0)
    row.score = round(sum(row.scores.values()) - row.deduction, 2)
    return row


def rank(rows: list[CenterRow], tie_break: tuple[str, ...] = ()) -> None:
    """Highest score first; tied centers are ranked by the `tie_break` figures in turn, the
    better value first (no data last); centers equal on all of them share the rank."""
    def key(r: CenterRow) -> tuple[float, ...]:
        out = [-r.score]
        for k in tie_break:
            v = r.value(k)
            if v is None:
                out += [1.0, 0.0]
            else:
                out += [0.0, v if k in LOWER_IS_BETTER else -v]
        return tuple(out)

    rows.sort(key=lambda r: (key(r), r.center))
    for i, r in enumerate(rows):
        r.rank = rows[i - 1].rank if i and key(rows[i - 1]) == key(r) else i + 1


@dataclass
class RollUp:
    """A quarter or a year: the mean of the months' scores (plus the year's adjustments),
    ranked; ties broken by the rules' `tie_break` figures over the whole period (the months'
    figures added up: numerators, denominators and counts)."""
    title: str
    months: list[Table]
    rows: list[CenterRow]


def _added(values: list[Ratio | Mean | int | float]) -> Ratio | Mean | int | float:
    """Months' figures as the period's: numerators, denominators and counts added up."""
    ratios = [v for v in values if isinstance(v, Ratio)]
    means = [v for v in values if isinstance(v, Mean)]
    if ratios:
        return Ratio(sum(v.numerator for v in ratios), sum(v.denominator for v in ratios))
    if means:
        return Mean(sum(v.total for v in means), sum(v.count for v in means))
    return sum(v for v in values if isinstance(v, (int, float)))


def roll_up(engine: Engine, months: list[Table], title: str,
            adjustments: dict[str, float] | None = None,
            timezone: str = "Asia/Shanghai") -> RollUp:
    if not months:  # no center had a call or an order: nothing to rank
        return RollUp(title, [], [])
    rules = months[0].rules
    by_center: dict[str, list[CenterRow]] = {}
    for t in months:
        for r in t.rows:
            by_center.setdefault(r.center, []).append(r)
    rows = []
    for c, mine in by_center.items():
        values: dict[str, Ratio | Mean | int | float] = {
            k: _added([r.values[k] for r in mine]) for k in LABELS if k in mine[0].values}
        values["months"] = len(mine)
        row = CenterRow(c, values, name=rules.name_of(c))
        row.deduction = -(adjustments or {}).get(c, 0.0)
        row.score = round(sum(r.score for r in mine) / len(mine) - row.deduction, 2)
        rows.append(row)
    rank(rows, rules.tie_break)
    return RollUp(title, months, rows)


def quarter_tables(engine: Engine, year: int, quarter: int, rules: Rules | None = None,
                   timezone: str = "Asia/Shanghai", today: date | None = None) -> RollUp:
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1-4, got {quarter}")
    months = [monthly_table(engine, year, m, rules, timezone, today=today)
              for m in range(3 * quarter - 2, 3 * quarter + 1)]
    return roll_up(engine, [t for t in months if t.rows], f"{year}年第{quarter}季度",
                   timezone=timezone)


def load_adjustments(path: Path) -> dict[str, float]:
    """The year's 加减分 (honours, criticism, inspections; seed 002 art. 8): a TOML file of
    [[adjustment]] center = "...", points = 1.5, reason = "..." (reasons are required)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, float] = {}
    for i, a in enumerate(data.get("adjustment", [])):
        c, p, why = a.get("center"), a.get("points"), a.get("reason")
        if not isinstance(c, str) or isinstance(p, bool) or not isinstance(p, (int, float)) \
                or not isinstance(why, str) or not why.strip():
            raise RulesError(f"{path}: adjustment[{i}]: needs center (text), points (a number)"
                             f" and a reason, got {a!r}")
        out[c] = out.get(c, 0.0) + float(p)
    return out


def year_tables(engine: Engine, year: int, rules: Rules | None = None,
                adjustments: dict[str, float] | None = None,
                timezone: str = "Asia/Shanghai", today: date | None = None) -> RollUp:
    months = [monthly_table(engine, year, m, rules, timezone, today=today)
              for m in range(1, 13)]
    return roll_up(engine, [t for t in months if t.rows], f"{year}年度", adjustments, timezone)
