"""The live staffing advice of the wallboard's feed: Erlang C for the calls of the last hour
and today's handle time (unit test of the model; the browser test in test_web.py shows it on
the real stack)."""

from __future__ import annotations

from acd.model import LiveModel
from acd.seats.state import SeatState
from hotline.center import EXAMPLE, load

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
    assert (queue.name, queue.wrapup_s) == ("manual", 5)  # the example center's first queue
    assert advice["calls_last_hour"] == 120 and advice["handle_s"] == 155.0
    # Erlang C for 120 calls of 155 s (5.1667 erlangs), by hand: 8 seats keep the average
    # wait at 10.55 s but answer only 93.56 % within 60 s; 9 seats answer 97.84 %.
    assert advice["seats_needed"] == 9
    assert advice["signed_in"] == 1
    assert today.offered == 121  # the day's count keeps every call
    assert model.staffing(queue.name, now + 7200)["seats_needed"] == 0  # a quiet hour


def test_todays_connection_rate_counts_a_call_in_the_queue_it_ended_in() -> None:
    """Live 'manual connection rate today' = answered / queued, as in docs/indicators.md; a
    call that overflowed counts in the queue it overflowed to, not twice."""
    from acd.ami.events import Event

    model = LiveModel(CENTER)

    def ev(**fields: str) -> None:
        model.handle(Event.parse({"Timestamp": "1800000000.0", "Uniqueid": "pbx1-1.1",
                                  "Linkedid": "pbx1-1.1", **fields}, "pbx1"))

    ev(Event="QueueCallerJoin", Queue="highway", Position="1")
    ev(Event="QueueCallerLeave", Queue="highway", Position="1")
    ev(Event="UserEvent", UserEvent="HotlineQueueResult", Queue="highway", Status="TIMEOUT")
    ev(Event="QueueCallerJoin", Queue="manual", Position="1")
    highway, manual = model.queue_view("highway", 0), model.queue_view("manual", 0)
    assert highway["offered_today"] == 0 and highway["manual_connection_rate_today"] is None
    assert manual["offered_today"] == 1 and manual["manual_connection_rate_today"] == 0.0
