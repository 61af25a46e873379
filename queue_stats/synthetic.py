"""A synthetic half year shaped like seed 000 (Liaoning's 12328 centers, January to June 2021),
for the scale benchmark (bench/half_year.py) and for tests at a small `scale`.

What is taken from the seed:
- annex 1: each of the 16 centers' orders by type (1,136,047 in all: 96.24 % consultation,
  3.10 % complaint, 0.66 % suggestion);
- annex 3: the domain mix of each type (87 % highway). 省交投集团, the highway group, takes the
  highway orders; the other centers draw from what is left of each type's row;
- annex 4: per center, the manual connection rate, average wait, instant-answer rate, closed in
  time (and cross-region), instant-answer and revisit satisfaction, revisit rate, order
  generation rate, call-record reporting rate, timely reporting, and the outages (count, hours,
  not scaled). The generated records land near these figures; they are drawn, not copied, so
  the indicators computed from them are honest counts of the records;
- the text: snow on 26 and 28 January, the Spring Festival weather of 14-16 February, wind on
  4 May, restrictions in June, and the holidays: those days carry several times the volume.
  Calls follow a daytime curve (peaks mid-morning and mid-afternoon, quiet nights).

What the ledger and the order service keep on their rows is written here too: each call's
first queue entry and its wrap-up (gamma-distributed, mean 24 s), each order's survey answer
and its conformity. Seat intervals are not generated (the seat report is not part of the
benchmark).

Deterministic from `seed` (numpy's PCG64). Rows go in by the driver's fastest path: one
`executemany` per batch on SQLite, `COPY ... FROM STDIN` on PostgreSQL (psycopg 3). Times are
UTC like the ledger's; days are the centers' local (Asia/Shanghai) days.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, func, select

from acd import schema
from acd.history import db
from acd.history.models import Call
from acd.history.upward import ReportSubmission
from acd.orders.service import HANDLING_DAYS, TRANSFER_DAYS
from acd.orders.workdays import add_working_days
from queue_stats.upward import due_at


@dataclass(frozen=True)
class CenterFigures:
    """One center's row of annex 1 (orders by type) and annex 4 (rates as fractions)."""
    code: str
    name: str
    complaint: int
    consultation: int
    suggestion: int
    connection: float        # 人工接通率
    instant: float           # 信息咨询类即时答复率
    wait_s: float            # 平均等待时长
    in_time: float           # 限时办结率
    cross_in_time: float     # 跨省(地市)工单办结率
    instant_satisfied: float  # 即时答复满意率
    revisit: float           # 抽查回访率
    revisit_satisfied: float  # 抽查回访满意率
    generation: float        # 电话工单生成率
    upload: float            # 通话记录报送率
    timely: float            # 数据报送及时率
    outages: int             # 断网次数
    outage_hours: float      # 断网时长 (total)

    @property
    def orders(self) -> int:
        return self.complaint + self.consultation + self.suggestion


def _c(code: str, name: str, types: tuple[int, int, int], *rates: float) -> CenterFigures:
    pct = [r / 100 for r in rates[:2]] + [rates[2]] + [r / 100 for r in rates[3:11]]
    return CenterFigures(code, name, *types, *pct, int(rates[11]), rates[12])  # type: ignore[arg-type]


# code, name, (complaint, consultation, suggestion) from annex 1; annex 4: connection, instant,
# wait, in time, cross-region, instant satisfied, revisit, revisit satisfied, generation,
# upload, timely, outages, outage hours (data conformity is 100 % everywhere: all conform).
CENTERS: tuple[CenterFigures, ...] = (
    _c("jiaotou", "省交投集团", (2904, 987714, 5285),
       94.16, 97.56, 18, 99.96, 100.00, 99.63, 94.90, 99.96, 99.97, 99.99, 99.61, 1, 0.3),
    _c("shenyang", "沈阳市", (13102, 44426, 1171),
       93.53, 99.92, 13, 94.91, 95.28, 94.80, 99.41, 99.96, 99.68, 99.87, 98.95, 0, 0.0),
    _c("jinzhou", "锦州市", (1671, 21160, 220),
       98.55, 99.69, 14, 99.85, 100.00, 98.33, 98.01, 100.00, 99.95, 99.94, 99.25, 0, 0.0),
    _c("liaoyang", "辽阳市", (1078, 7375, 58),
       94.31, 99.86, 17, 99.71, 100.00, 100.00, 98.93, 99.88, 99.66, 99.82, 98.67, 1, 0.5),
    _c("dalian", "大连市", (1785, 6171, 11),
       96.80, 99.95, 18, 100.00, 100.00, 90.32, 99.89, 100.00, 99.93, 99.97, 99.45, 0, 0.0),
    _c("panjin", "盘锦市", (2660, 5003, 5),
       97.56, 99.96, 19, 99.96, 100.00, 98.18, 98.99, 97.27, 99.93, 100.00, 99.06, 0, 0.0),
    _c("anshan", "鞍山市", (2779, 3919, 9),
       81.90, 96.45, 16, 99.58, 100.00, 89.02, 75.24, 99.91, 99.79, 99.80, 94.89, 166, 50.8),
    _c("huludao", "葫芦岛市", (1438, 3586, 536),
       98.87, 99.33, 15, 99.90, 100.00, 96.62, 99.30, 96.26, 99.91, 99.98, 98.63, 0, 0.0),
    _c("liaoning", "辽宁省", (1499, 2874, 164),
       95.00, 97.91, 17, 100.00, 100.00, 94.75, 100.00, 100.00, 99.66, 99.93, 98.70, 0, 0.0),
    _c("dandong", "丹东市", (1837, 2644, 24),
       94.54, 99.02, 17, 99.63, 98.65, 90.86, 84.16, 100.00, 99.58, 99.75, 98.40, 7, 17.6),
    _c("chaoyang", "朝阳市", (1277, 1967, 10),
       98.61, 97.39, 17, 99.62, 100.00, 97.04, 74.34, 100.00, 99.97, 100.00, 99.19, 0, 0.0),
    _c("fushun", "抚顺市", (1261, 1707, 11),
       90.36, 99.53, 20, 99.84, 100.00, 91.67, 98.98, 98.30, 99.70, 99.83, 99.38, 2, 1.1),
    _c("tieling", "铁岭市", (930, 1447, 12),
       95.70, 98.00, 17, 100.00, 100.00, 97.06, 89.07, 98.77, 99.91, 99.79, 97.75, 6, 5.6),
    _c("yingkou", "营口市", (325, 1776, 8),
       87.96, 98.62, 19, 98.19, 97.65, 86.27, 94.26, 99.63, 99.54, 99.34, 93.35, 8, 6.4),
    _c("benxi", "本溪市", (300, 901, 12),
       91.61, 99.76, 19, 100.00, 100.00, 97.18, 94.95, 99.55, 98.80, 99.73, 98.07, 6, 364.5),
    _c("fuxin", "阜新市", (350, 639, 6),
       89.42, 98.76, 19, 98.68, 100.00, 100.00, 96.05, 100.00, 100.00, 90.24, 95.20, 4, 14.0),
)

TYPE_NAMES = ("complaint", "consultation", "suggestion")
DOMAIN_NAMES = ("ordinary_road", "road_transport", "urban_transit", "highway", "other",
                "waterway", "maritime")
# Annex 3, per type: ordinary road, road transport, urban transit, highway, other; what the
# annex leaves over (its rows sum to a little less than annex 1) goes to waterway and maritime.
DOMAIN_COUNTS = {"complaint": (263, 2308, 29513, 2917, 159),
                 "consultation": (1488, 34744, 41685, 985322, 29575),
                 "suggestion": (42, 256, 1713, 5271, 258)}
QUEUE_OF_DOMAIN = {"highway": "highway", "urban_transit": "urban", "road_transport": "road",
                   "ordinary_road": "road", "waterway": "water", "maritime": "water",
                   "other": "general"}

FIRST_DAY = date(2021, 1, 1)
DAYS = 181                          # 1 January to 30 June 2021
UTC_OFFSET_H = 8                    # Asia/Shanghai, no summer time
# Days of several times the usual volume (seed 000 text), local dates -> factor.
PEAKS: dict[date, float] = {
    **{date(2021, 1, d): 1.8 for d in (1, 2, 3)},             # New Year
    date(2021, 1, 26): 4.2, date(2021, 1, 27): 2.0, date(2021, 1, 28): 4.2,  # snow
    **{date(2021, 2, d): 2.2 for d in range(11, 18)},         # Spring Festival, toll-free
    **{date(2021, 2, d): 3.5 for d in (14, 15, 16)},          # fog, rain and snow
    **{date(2021, 4, d): 2.0 for d in (3, 4, 5)},             # Qingming
    **{date(2021, 5, d): 2.3 for d in (1, 2, 3, 5)},          # May Day
    date(2021, 5, 4): 3.2,                                    # wind, in the May Day rush
    date(2021, 5, 14): 1.6,                                   # epidemic checkpoints again
    **{date(2021, 6, d): 2.0 for d in (12, 13, 14)},          # Dragon Boat
    **{date(2021, 6, d): 1.8 for d in (10, 17, 18, 25, 26)},  # rain, fog, restrictions
}
# Local hour of day -> relative volume: quiet nights, peaks at 9-11 and 14-16.
HOURLY = (0.8, 0.5, 0.4, 0.3, 0.4, 0.8, 2.0, 4.0, 6.5, 7.5, 7.5, 6.5, 5.0, 5.5, 6.8, 7.0,
          6.5, 5.5, 4.2, 3.5, 3.0, 2.4, 1.8, 1.2)
SURVEY_RATED = 0.7                  # share of answered callers who press a key after the call
TIMEOUT_SHARE = 0.08                # of the calls not answered: left at the queue's max wait
TALK_MEDIAN_S = 75.0
IVR_S = (4.0, 10.0)                 # seconds in the IVR before queueing (uniform)
US = 1_000_000                      # numpy datetime64[us] per second


@dataclass
class Summary:
    calls: int = 0
    queue_calls: int = 0
    orders: int = 0
    revisits: int = 0
    uploads: int = 0
    outages: int = 0
    reports: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


class GeneratorError(ValueError):
    """A refused run (bad scale, a database that is not empty); the message says why."""


def generate(engine: Engine, seed: int = 0, scale: float = 1.0,
             centers: Iterable[CenterFigures] = CENTERS,
             log: Callable[[str], None] | None = None) -> Summary:
    """Fill an empty database (at the current schema) with the half year. `scale` multiplies
    every volume (0.01: about 11,000 orders); outages are not volumes and are not scaled."""
    if not 0 < scale <= 10:
        raise GeneratorError(f"scale must be above 0 and at most 10, got {scale}")
    with engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(Call)).scalar_one()
    if existing:
        raise GeneratorError(f"the database has {existing} calls already; the generator fills "
                             "an empty one (a fresh SQLite file or PostgreSQL database)")
    began = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(seed))
    summary = Summary()
    day_weights = _day_weights()
    writer = _Writer(engine)
    order_id = 0
    try:
        for n, figures in enumerate(centers):
            part = _center(rng, figures, scale, day_weights, prefix=f"{n:02d}", first_id=order_id)
            order_id += len(part["work_orders"]["id"])
            for table, columns in part.items():
                count = writer.write(table, columns)
                setattr(summary, _SUMMARY_FIELD[table],
                        getattr(summary, _SUMMARY_FIELD[table]) + count)
            if log:
                log(f"{figures.name} ({figures.code}): {len(part['work_orders']['id'])} orders, "
                    f"{len(part['calls']['uniqueid'])} calls")
        reports = _reports(rng, list(centers))
        summary.reports = writer.write(ReportSubmission.__tablename__, reports)
        writer.finish()
    finally:
        writer.close()
    summary.seconds = round(time.perf_counter() - began, 2)
    return summary


_SUMMARY_FIELD = {"calls": "calls", "queue_calls": "queue_calls", "work_orders": "orders",
                  "revisits": "revisits", "call_record_uploads": "uploads",
                  "outages": "outages", "report_submissions": "reports"}


# --- drawing one center ---------------------------------------------------------------------------

def _day_weights() -> np.ndarray:
    w = np.ones(DAYS)
    for d, factor in PEAKS.items():
        w[(d - FIRST_DAY).days] = factor
    # a little more traffic on Fridays and Sundays (trips out and back)
    for i in range(DAYS):
        if (FIRST_DAY + timedelta(days=i)).weekday() in (4, 6):
            w[i] *= 1.15
    return w / w.sum()


def _times(rng: np.random.Generator, n: int, day_weights: np.ndarray) -> np.ndarray:
    """n instants (datetime64[us], UTC) spread over the half year's local days and hours."""
    days = rng.choice(DAYS, size=n, p=day_weights)
    hours = rng.choice(24, size=n, p=np.array(HOURLY) / sum(HOURLY))
    within = rng.integers(0, 3600 * US, size=n)
    local_midnight = np.datetime64(FIRST_DAY.isoformat(), "us")
    t = local_midnight + (days * 86400 * US + hours * 3600 * US + within).astype("timedelta64[us]")
    return np.sort(t - np.timedelta64(UTC_OFFSET_H, "h"))


def _domain_table(figures: CenterFigures) -> dict[str, np.ndarray]:
    """Each type's domain probabilities for this center (see the module's docstring)."""
    out = {}
    for t in TYPE_NAMES:
        counts = list(DOMAIN_COUNTS[t])
        total = {"complaint": 35196, "consultation": 1093309, "suggestion": 7542}[t]
        rest = total - sum(counts)
        counts += [rest / 2, rest / 2]
        if figures.code == "jiaotou":
            counts = [0, 0, 0, 1, 0, 0, 0]
        else:
            jiaotou = getattr(CENTERS[0], t)
            counts[3] = max(0, counts[3] - jiaotou)
        p = np.array(counts, dtype=float)
        out[t] = p / p.sum()
    return out


def _center(rng: np.random.Generator, f: CenterFigures, scale: float, day_weights: np.ndarray,
            prefix: str, first_id: int) -> dict[str, dict[str, list]]:
    by_type = [round(getattr(f, t) * scale) for t in TYPE_NAMES]
    n_orders = sum(by_type)
    answered_n = n_orders + round(n_orders * (1 - f.generation) / f.generation)
    queued_n = round(answered_n / f.connection) if answered_n else 0
    entered = _times(rng, queued_n, day_weights)
    uid = np.char.add(f"{f.code}-{prefix}-", np.arange(queued_n).astype(str))
    # Who is answered: every call but a random (queued - answered).
    answered = np.zeros(queued_n, dtype=bool)
    answered[rng.choice(queued_n, size=answered_n, replace=False)] = True
    not_answered = ~answered
    timeout = not_answered & (rng.random(queued_n) < TIMEOUT_SHARE)
    outcome = np.where(answered, "answered", np.where(timeout, "timeout", "abandoned"))
    # Annex 4's 平均等待时长 runs from dialling 12328 to being served (seed 002 art. 6 (四)):
    # the IVR's seconds plus the queue's, so the queue's mean is the annex's less the IVR's.
    ivr = np.round(rng.uniform(IVR_S[0], IVR_S[1], queued_n), 3)
    queue_mean = max(1.0, f.wait_s - sum(IVR_S) / 2)
    wait = np.where(answered, rng.exponential(queue_mean, queued_n),
                    np.where(timeout, rng.uniform(120, 300, queued_n),
                             rng.exponential(35, queued_n)))
    wait = np.round(wait, 3)
    talk = np.round(rng.lognormal(np.log(TALK_MEDIAN_S), 0.6, queued_n), 3)
    started = entered - (ivr * US).astype("timedelta64[us]")
    left = entered + (wait * US).astype("timedelta64[us]")
    ended = left + np.where(answered, talk * US, 0).astype("timedelta64[us]")
    seats = max(4, round(answered_n / 4000))
    seat = np.where(answered, np.char.add(f"{f.code}-",
                                          rng.integers(1, seats + 1, queued_n).astype(str)), "")
    rated = answered & (rng.random(queued_n) < SURVEY_RATED)
    score = np.where(rng.random(queued_n) < f.instant_satisfied, rng.integers(1, 3, queued_n),
                     rng.integers(3, 5, queued_n))
    caller = (13_000_000_000 + rng.integers(0, 7_000_000_000, queued_n)).astype(str)

    # Orders: for a random n_orders of the answered calls, types exactly as annex 1.
    answered_idx = np.flatnonzero(answered)
    with_order = np.sort(rng.choice(answered_idx, size=n_orders, replace=False))
    types = np.repeat(np.array(TYPE_NAMES), by_type)
    rng.shuffle(types)
    table = _domain_table(f)
    domains = np.empty(n_orders, dtype=object)
    for t in TYPE_NAMES:
        mask = types == t
        domains[mask] = rng.choice(np.array(DOMAIN_NAMES), size=int(mask.sum()), p=table[t])
    call_domain = rng.choice(np.array(DOMAIN_NAMES), size=queued_n, p=table["consultation"])
    call_domain[with_order] = domains
    queue = np.array([QUEUE_OF_DOMAIN[d] for d in call_domain], dtype=object)

    calls = {
        "uniqueid": uid, "linkedid": uid, "node": np.full(queued_n, f"{f.code}-pbx1"),
        "center": np.full(queued_n, f.code), "caller_number": caller,
        "dialed": np.full(queued_n, "12328"), "started_at": _ts(started),
        "ended_at": _ts(ended), "ivr_path": np.full(queued_n, "1"), "ivr_seconds": ivr,
        "ivr_result": np.full(queued_n, "queue"), "queued_at": _ts(entered),
        "first_queue": queue, "final_queue": queue,
        "outcome": outcome, "seat_id": seat, "answered_at": _ts(left, ~answered),
        "wait_s": wait, "talk_s": _nullable(talk, ~answered),
        "hangup_by": np.where(answered, "seat", np.where(timeout, "system", "caller")),
        "survey_score": _nullable(score, ~rated),
        "survey_at": _ts(ended + np.timedelta64(20, "s"), ~rated)}
    stays = {"uniqueid": uid, "center": calls["center"], "queue": queue,
             "entered_at": _ts(entered), "position": rng.integers(1, 6, queued_n),
             "left_at": _ts(left), "outcome": outcome, "wait_s": wait, "seat_id": seat,
             "answered_at": calls["answered_at"], "talk_s": calls["talk_s"],
             "ended_at": _ts(ended)}
    uploaded = rng.random(queued_n) < f.upload
    uploads = {"uniqueid": uid[uploaded],
               "uploaded_at": _ts(started[uploaded] + np.timedelta64(1, "D")),
               "batch": np.char.add(f"{f.code}-",
                                    np.datetime_as_string(started[uploaded], unit="D"))}
    orders, revisits = _orders(rng, f, with_order, types, domains, uid, caller, seat, left,
                               ended, first_id)
    orders["survey_score"] = calls["survey_score"][with_order]  # the call's answer, kept
    # the seat's wrap-up after each answered call, as the ledger keeps it on the call
    calls["wrapup_s"] = _nullable(np.round(rng.gamma(2.0, 12.0, queued_n), 3), ~answered)
    return {"calls": calls, "queue_calls": stays, "call_record_uploads": uploads,
            "work_orders": orders, "revisits": revisits, "outages": _outages(rng, f)}


def _orders(rng: np.random.Generator, f: CenterFigures, idx: np.ndarray, types: np.ndarray,
            domains: np.ndarray, uid: np.ndarray, caller: np.ndarray, seat: np.ndarray,
            answered_at: np.ndarray, ended: np.ndarray,
            first_id: int) -> tuple[dict[str, list], dict[str, list]]:
    n = len(idx)
    accepted = answered_at[idx]
    transfer_due_day = _due_days(TRANSFER_DAYS)[_local_day(accepted)]
    consult = types == "consultation"
    instant = consult & (rng.random(n) < f.instant)
    transferred = ~instant
    cross = transferred & (rng.random(n) < 0.04)
    in_time = np.where(cross, rng.random(n) < f.cross_in_time, rng.random(n) < f.in_time)
    transferred_at = accepted + (rng.uniform(0.5, 30, n) * 3600 * US).astype("timedelta64[us]")
    # The unit's deadline runs from the local day it received the transfer (seed 001 art. 33).
    received_day = _local_day(transferred_at)
    due_day = np.empty(n, dtype=int)
    for t in TYPE_NAMES:
        mask = types == t
        due_day[mask] = _due_days(HANDLING_DAYS[t])[received_day[mask]]
    # a due day (local date) as the UTC midnight of that date: closing before it is in time
    due_midnight = (np.datetime64(FIRST_DAY.isoformat(), "us")
                    + (due_day * 86400 * US).astype("timedelta64[us]"))
    span = (due_midnight - transferred_at).astype(np.int64)
    closed_in = transferred_at + (rng.uniform(0.1, 0.95, n) * np.maximum(span, 0)).astype(
        "timedelta64[us]")
    closed_late = due_midnight + (rng.uniform(1.2, 12, n) * 86400 * US).astype("timedelta64[us]")
    closed = np.where(instant, ended[idx], np.where(in_time, closed_in, closed_late))
    replied = np.where(instant, np.datetime64("NaT"), closed - np.timedelta64(2, "h"))
    complaint = types == "complaint"
    ids = np.arange(first_id + 1, first_id + n + 1)
    orders = {
        "id": ids, "center": np.full(n, f.code), "call_uniqueid": uid[idx],
        "source": np.full(n, "call"), "type": types, "domain": domains,
        "caller_number": caller[idx], "seat_id": seat[idx],
        "subject": np.where(complaint, "被投诉单位", ""),
        "content": np.where(consult, "路况及收费咨询", np.where(complaint, "投诉服务态度",
                                                           "建议增设标志")),
        "answered_on_call": instant, "handling_unit": np.where(transferred, "承办单位", ""),
        "cross_region": cross, "region": np.where(cross, "外省", ""),
        "status": np.full(n, "closed"), "accepted_at": _ts(accepted),
        "transfer_due": _dates(transfer_due_day),
        "transfer_late": transferred & (received_day > transfer_due_day),
        "due": _nullable(_dates(due_day), instant),
        "extended_days": np.zeros(n, dtype=int), "calendar_estimated": np.zeros(n, dtype=bool),
        "transferred_at": _ts(transferred_at, instant), "received_at": _ts(transferred_at, instant),
        "replied_at": _ts(replied, instant),
        "closed_at": _ts(closed), "reply": np.where(instant, "已当场答复", "已办结")}
    sampled = transferred & (rng.random(n) < f.revisit)
    m = int(sampled.sum())
    sat = np.where(rng.random(m) < f.revisit_satisfied, rng.integers(1, 3, m),
                   rng.integers(3, 5, m))
    done = closed[sampled] + (rng.uniform(1, 72, m) * 3600 * US).astype("timedelta64[us]")
    revisits = {"order_id": ids[sampled], "sampled_on": _dates(_local_day(replied[sampled])),
                "done_at": _ts(done), "reached": np.ones(m, dtype=bool),
        "satisfaction": sat, "by": np.full(m, "回访员")}
    return orders, revisits


def _local_day(t: np.ndarray) -> np.ndarray:
    """The local day (index from FIRST_DAY) of UTC instants."""
    return ((t + np.timedelta64(UTC_OFFSET_H, "h")).astype("datetime64[D]")
            - np.datetime64(FIRST_DAY.isoformat(), "D")).astype(int)


_DUE_CACHE: dict[int, np.ndarray] = {}


def _due_days(days: int) -> np.ndarray:
    """For each day of the half year (and beyond), the day index `days` working days on."""
    if days not in _DUE_CACHE:
        _DUE_CACHE[days] = np.array([
            (add_working_days(FIRST_DAY + timedelta(days=i), days)[0] - FIRST_DAY).days
            for i in range(DAYS + 2)])
    return _DUE_CACHE[days]


def _outages(rng: np.random.Generator, f: CenterFigures) -> dict[str, list]:
    n = f.outages
    if not n:
        return {"node": []}
    hours = rng.dirichlet(np.ones(n)) * f.outage_hours
    start = _times(rng, n, np.full(DAYS, 1 / DAYS))
    return {"node": np.full(n, "link:platform"), "center": np.full(n, f.code),
            "started_at": _ts(start),
            "ended_at": _ts(start + (hours * 3600 * US).astype("timedelta64[us]")),
            "reason": np.full(n, "platform not reachable")}


# Special events the text names, reported within 2 days of their end (local dates, end exclusive).
EVENTS = ((date(2021, 1, 26), date(2021, 1, 29), "1月下旬降雪"),
          (date(2021, 2, 11), date(2021, 2, 18), "春节假期"),
          (date(2021, 4, 3), date(2021, 4, 6), "清明节假期"),
          (date(2021, 5, 1), date(2021, 5, 6), "五一假期"),
          (date(2021, 6, 12), date(2021, 6, 15), "端午节假期"))


def _reports(rng: np.random.Generator, centers: list[CenterFigures]) -> dict[str, list]:
    """Per center: the monthly reports due in the half year (December's to May's) and the
    special-event reports; late ones in the share annex 4's timely rate says."""

    rows: dict[str, list] = {k: [] for k in ("center", "kind", "title", "period_start",
                                              "period_end", "due_at", "submitted_at")}
    months = [(datetime(2020, 12, 1), datetime(2021, 1, 1))] + [
        (datetime(2021, m, 1), datetime(2021, m + 1, 1)) for m in range(1, 6)]
    for f in centers:
        periods = [("month", f"{s:%Y年%m月}", s, e) for s, e in months] + [
            ("special", title, datetime.combine(a, datetime.min.time()),
             datetime.combine(b, datetime.min.time())) for a, b, title in EVENTS]
        late = set(rng.choice(len(periods), size=round((1 - f.timely) * len(periods)),
                              replace=False).tolist())
        for i, (kind, title, start, end) in enumerate(periods):
            due = due_at(kind, start, end)
            local = due - timedelta(hours=rng.uniform(2, 40)) if i not in late \
                else due + timedelta(hours=rng.uniform(2, 60))
            for k, v in zip(rows, (f.code, kind, title, _text(start), _text(end), _text(due),
                                   _text(local - timedelta(hours=UTC_OFFSET_H))), strict=True):
                rows[k].append(v)
    return {k: np.array(v, dtype=object) for k, v in rows.items()}


# --- columns to database values ------------------------------------------------------------------

def _ts(t: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """datetime64 -> the text SQLAlchemy stores on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff'), which
    PostgreSQL's COPY reads as a timestamp too; None where `null`."""
    if not len(t):
        return np.array([], dtype=object)
    text = np.char.replace(np.datetime_as_string(t.astype("datetime64[us]"), unit="us"), "T", " ")
    return _nullable(text, null)


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def _dates(day_index: np.ndarray) -> np.ndarray:
    d = np.datetime64(FIRST_DAY.isoformat(), "D") + day_index.astype("timedelta64[D]")
    return np.datetime_as_string(d, unit="D")


def _nullable(values: np.ndarray, null: np.ndarray | None) -> np.ndarray:
    if null is None:
        return values
    out = values.astype(object)
    out[null] = None
    return out


class _Writer:
    """Appends columns to tables by the driver's bulk path, filling the other columns with the
    model's defaults (bulk paths skip SQLAlchemy's Python-side defaults)."""

    BATCH = 100_000

    def __init__(self, engine: Engine) -> None:
        self.tables = schema.metadata().tables
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        if self.dialect == "sqlite":
            self.raw.execute("PRAGMA synchronous=OFF")

    def write(self, name: str, columns: dict[str, np.ndarray]) -> int:
        n = len(next(iter(columns.values()))) if columns else 0
        if not n:
            return 0
        table = self.tables[name]
        values = {k: _plain(v) for k, v in columns.items()}
        for col in table.columns:
            if col.name in values or col.primary_key and col.autoincrement is not False \
                    and col.name == "id":
                continue
            default = col.default.arg if col.default is not None and col.default.is_scalar \
                else None
            if default is None and not col.nullable:
                raise GeneratorError(f"{name}.{col.name}: no value and no default")
            values[col.name] = [default] * n
        names = list(values)
        rows = zip(*(values[k] for k in names), strict=True)
        cur = self.raw.cursor()
        if self.dialect == "postgresql":
            with cur.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            while batch := list(_take(rows, self.BATCH)):
                cur.executemany(sql, batch)
        cur.close()
        return n

    def finish(self) -> None:
        if self.dialect == "postgresql":
            cur = self.raw.cursor()
            cur.execute("SELECT setval(pg_get_serial_sequence('work_orders', 'id'), "
                        "(SELECT coalesce(max(id), 0) + 1 FROM work_orders), false)")
            cur.execute("ANALYZE")
            cur.close()
        else:
            self.raw.execute("ANALYZE")
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


def _plain(v: np.ndarray | list) -> list:
    """numpy values as Python's (the drivers adapt those)."""
    return v.tolist() if isinstance(v, np.ndarray) else list(v)


def _take(it, n: int):  # type: ignore[no-untyped-def]
    from itertools import islice
    return islice(it, n)


# --- the command ---------------------------------------------------------------------------------

def main(url: str, seed: int, scale: float) -> Summary:
    """`hotline stats generate`: schema to head, then the half year."""

    engine = db.make_engine(url)
    db.create_schema(engine)
    try:
        return generate(engine, seed=seed, scale=scale, log=print)
    finally:
        engine.dispose()
