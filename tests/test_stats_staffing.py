"""Erlang C against values worked by hand, and the staffing rule's edges."""

from __future__ import annotations

import pytest

from acd.live.staffing import erlang_c, seats_needed


def test_erlang_c_textbook_value() -> None:
    # 10 erlangs on 11 seats: P(wait) = 0.6821 (standard Erlang C table).
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # by hand: (1/2·2)/(1+1+1) = 1/3
    assert erlang_c(3, 3.0) == 1.0


def test_seats_needed_meets_both_targets_and_one_fewer_does_not() -> None:
    r = seats_needed(300, 180)  # 15 erlangs
    assert r.average_wait_s <= 25 and r.within_patience >= 0.95
    assert r.traffic_erlangs == 15.0 and r.seats > 15
    a = 15.0
    fewer = r.seats - 1
    if fewer > a:
        c = erlang_c(fewer, a)
        import math
        asa = c * 180 / (fewer - a)
        within = 1 - c * math.exp(-(fewer - a) * 60 / 180)
        assert asa > 25 or within < 0.95
    assert seats_needed(0, 180).seats == 1
    with pytest.raises(ValueError):
        seats_needed(10, 0)
