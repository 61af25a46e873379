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
    """300 calls an hour of 180 s: 15 erlangs. Worked by hand (Erlang C, patience 60 s):
    19 seats: C = 0.2442, average wait 0.2442 × 180 / 4 = 10.99 s, but within patience
    1 − 0.2442·e^(−4·60/180) = 0.9356 < 0.95; 20 seats: C = 0.1604, wait 5.77 s, within
    0.9697. So 20."""
    r = seats_needed(300, 180)
    assert (r.seats, r.traffic_erlangs) == (20, 15.0)
    assert r.wait_probability == pytest.approx(0.1604, abs=1e-4)
    assert r.average_wait_s == pytest.approx(5.77, abs=0.02)
    assert r.within_patience == pytest.approx(0.9697, abs=1e-4)
    assert erlang_c(19, 15.0) == pytest.approx(0.2442, abs=1e-4)
    # 120 calls of 155 s (5.1667 erlangs): 8 seats wait 10.55 s but reach 0.9356; 9 reach 0.9784.
    assert seats_needed(120, 155).seats == 9
    assert seats_needed(0, 180).seats == 1
    with pytest.raises(ValueError):
        seats_needed(10, 0)
