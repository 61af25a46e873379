"""Erlang C: how many seats an hour needs.

Erlang C has callers wait forever; a 12328 center is judged on calls answered (95 %) and the
average wait (25 s). So: the fewest seats N for which the average wait (ASA) is at most the
target and the share of callers who wait no longer than their patience (default 60 s: who
would otherwise hang up) is at least the answered target. Stated here, and printed with the
result, because the answer depends on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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
