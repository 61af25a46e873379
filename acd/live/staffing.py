"""Erlang C: how many seats an hour needs.

Erlang C has callers wait forever; a 12328 center is judged on calls answered (95 %) and the
average wait (25 s). So: the fewest seats N for which the average wait (ASA) is at most the
target and the share of callers who wait no longer than their patience (default 60 s: who
would otherwise hang up) is at least the answered target. Stated here, and printed with the
result, because the answer depends on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


def erlang_c(n: int, a: float) -> float:
    """Probability that a call waits, with n seats and a erlangs of traffic (n > a)."""
    if n <= a:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, n):
        term *= a / k
        total += term
    top = term * a / n * n / (n - a)
    return top / (total + top)


@dataclass(frozen=True)
class Staffing:
    seats: int
    traffic_erlangs: float
    wait_probability: float
    average_wait_s: float
    within_patience: float
    occupancy: float


def seats_needed(calls_per_hour: float, handle_s: float, answered: float = 0.95,
                 average_wait_s: float = 25.0, patience_s: float = 60.0) -> Staffing:
    if calls_per_hour < 0 or handle_s <= 0:
        raise ValueError("calls per hour must be >= 0 and handle time > 0")
    a = calls_per_hour * handle_s / 3600.0
    n = max(1, math.floor(a) + 1)
    while True:
        c = erlang_c(n, a)
        asa = c * handle_s / (n - a)
        within = 1.0 - c * math.exp(-(n - a) * patience_s / handle_s)
        if asa <= average_wait_s and within >= answered:
            return Staffing(n, round(a, 3), round(c, 4), round(asa, 2), round(within, 4),
                            round(a / n, 4))
        n += 1


# --- a plan per hour for a day to come, from the same day of last year ----------------------
#
# Seed 000 §四: at holiday peaks Liaoning's platform moved seats between centers. To know how
# many, a day is planned from its counterpart of last year, chosen by the official calendar
# (chinesecalendar, as acd/orders/workdays.py): the same day of the same holiday (its k-th day),
# else the same weekday 52 weeks earlier that was not a holiday. Each hour's calls there (times
# `growth`, the year's trend) and the queue's handle time give Erlang C's seats for the hour.

HOLIDAYS_ZH = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
               "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
               "Mid-autumn Festival": "中秋节"}


class PlanError(ValueError):
    """No plan can be made (the calendar does not know the year, no counterpart day)."""


@dataclass(frozen=True)
class Counterpart:
    day: date            # the day planned
    reference: date      # its counterpart of last year
    holiday: str         # the holiday's Chinese name, "" for an ordinary day
    label: str           # how it was chosen, for people: 国庆节第2天 ← 2025-10-02


@dataclass(frozen=True)
class HourPlan:
    hour: int                 # local hour of the day, 0-23
    calls: float              # calls expected in the hour
    handle_s: float | None    # talk + wrap-up; None: no answered call to learn it from
    seats: int | None         # Erlang C's seats; None without a handle time


def _holiday(day: date) -> str:
    try:
        on, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        raise PlanError(f"the holiday calendar (chinesecalendar) does not know {day.year} yet; "
                        "name the day to plan from (--reference)") from None
    return HOLIDAYS_ZH.get(str(name), str(name)) if on and name else ""


def _holiday_days(name: str, year: int) -> list[date]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        if _holiday(day) == name:
            out.append(day)
        day += timedelta(days=1)
    return out


def counterpart(day: date) -> Counterpart:
    """The day of last year that `day` is planned from (the calendar decides)."""
    name = _holiday(day)
    if name:
        this_year = _holiday_days(name, day.year)
        last_year = _holiday_days(name, day.year - 1)
        if not last_year:
            raise PlanError(f"{day.year - 1} has no {name} in the calendar")
        # The k-th day of this year's run of the holiday, against last year's k-th.
        run = [d for d in this_year if abs((d - day).days) <= 10]
        k = sorted(run).index(day)
        ref = sorted(last_year)[min(k, len(last_year) - 1)]
        return Counterpart(day, ref, name, f"{name}第{k + 1}天 ← {ref.isoformat()}")
    ref = day - timedelta(weeks=52)
    for _ in range(5):
        if not _holiday(ref):
            return Counterpart(day, ref, "", f"去年同期同星期 ← {ref.isoformat()}")
        ref -= timedelta(weeks=1)
    raise PlanError(f"no ordinary day near {day - timedelta(weeks=52)} to plan {day} from")


def hourly_plan(calls_by_hour: Sequence[float], handle_s: float | None, growth: float = 1.0,
                answered: float = 0.95, average_wait_s: float = 25.0,
                patience_s: float = 60.0) -> list[HourPlan]:
    """Erlang C per hour: 24 counts of last year's calls (times `growth`), one handle time."""
    if len(calls_by_hour) != 24 or growth <= 0:
        raise ValueError("24 hourly counts and a positive growth are needed")
    out = []
    for hour, n in enumerate(calls_by_hour):
        calls = round(n * growth, 2)
        if handle_s is None:
            out.append(HourPlan(hour, calls, None, None))
            continue
        seats = seats_needed(calls, handle_s, answered, average_wait_s, patience_s).seats \
            if calls else 0
        out.append(HourPlan(hour, calls, round(handle_s, 1), seats))
    return out
