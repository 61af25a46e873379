"""The live staffing advice of the wallboard's feed: Erlang C for the calls of the last hour
and today's handle time (unit test of the model; the browser test in test_web.py shows it on
the real stack)."""

from __future__ import annotations

from acd.center import EXAMPLE, load
from acd.history.models import SeatState
from acd.model import LiveModel
from queue_stats.staffing import seats_needed

CENTER = load(EXAMPLE)


def test_advice_follows_the_last_hour_and_todays_handle_time() -> None:
    model = LiveModel(CENTER)
    queue = CENTER.queues[0]
    now = 1_800_000_000.0
    assert model.staffing(queue.name, now)["seats_needed"] is None  # no talk time yet: no advice
    today = model._today(queue.name)
    today.entered(now - 4000)                  # more than an hour ago: not this hour's
    for i in range(120):
        today.entered(now - 3500 + i * 25)
    today.talk_sum, today.talked = 150.0 * 40, 40
    seat = next(iter(model.seats.values()))
    seat.queues = {queue.name}
    seat.state = SeatState.READY
    advice = model.staffing(queue.name, now)
    handle = 150.0 + queue.wrapup_s
    assert advice["calls_last_hour"] == 120 and advice["handle_s"] == handle
    assert advice["seats_needed"] == seats_needed(120, handle).seats
    assert advice["signed_in"] == 1
    assert today.offered == 121  # the day's count keeps every call
    assert model.staffing(queue.name, now + 7200)["seats_needed"] == 0  # a quiet hour
