"""Callers who do not wait (issue 16), recorded on the real rig (tests/fixtures/ami/: the
scenarios `callback` and `message`) and replayed through the engine's pipeline into a fresh
ledger, no Asterisk: what the ledger keeps of a callback and of a message, and how the
indicators count them (docs/indicators.md, "Callers who do not wait")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from queue_stats.indicators import call_indicators
from queue_stats.order_indicators import order_indicators
from tests.support.recorded import Replayed


def window(r: Replayed) -> tuple[datetime, datetime]:
    first, last = r.recording.span
    return (datetime.fromtimestamp(first - 5, UTC).replace(tzinfo=None),
            datetime.fromtimestamp(last + 5, UTC).replace(tzinfo=None))


def test_a_callback_counts_its_call_answered_and_its_legs_nowhere(replayed) -> None:
    """Seed 002 art. 6 (二) 人工接通率 "人工接听量与人工排队量的比率" and (四) 平均等待时长
    "从来电人拨打12328电话到获得服务的平均时长": the caller who pressed 1 is one queued call,
    answered when the callback reached it, its wait running from dialling to that moment.
    The leg that held its place and rang it back is not a call into the center."""
    r = replayed("callback")
    with Session(r.db) as s:
        original = s.scalars(select(Call).where(Call.caller_number == "13900000102",
                                                Call.callback_of.is_(None))).one()
        legs = list(s.scalars(select(Call).where(Call.callback_of == original.uniqueid)))
        stay = s.scalars(select(QueueCall).where(QueueCall.uniqueid == original.uniqueid)).one()
    assert (original.outcome, original.seat_id, original.final_queue) == \
        ("callback_answered", "8001", "manual")
    # In the queue until it pressed 1 (3 s after its key: about 3 s), as queue_log has it...
    assert stay.outcome == "callback_answered" and stay.wait_s == pytest.approx(3.0, abs=1.0)
    # ...served when the callback reached it: after the first call (6 s) and the seat's
    # 5 s wrap-up, with the ring and the seat's announcement on the way.
    assert original.wait_s > stay.wait_s + 5
    assert original.answered_at is not None and original.talk_s is not None
    assert len(legs) == 1 and legs[0].outcome == "answered" and legs[0].seat_id == "8001"

    since, until = window(r)
    ind = call_indicators(r.db, since, until)
    assert (ind.queued, ind.answered, ind.abandoned) == (2, 2, 0)   # the leg is not counted
    assert ind.manual_connection_rate.value == 1.0
    assert ind.average_queue_wait_s.total == pytest.approx(
        original.wait_s + r.calls()["13900000101"].wait_s, abs=0.01)
    # The order generation rate counts the caller's call, not the leg, among answered calls.
    assert order_indicators(r.db, since, until).order_generation_rate.denominator == 2
    # The wallboard's counts of the day: two offered, two answered.
    today = r.engine.model.today["manual"]
    assert (today.offered, today.answered, today.abandoned) == (2, 2, 0)


def test_a_message_is_no_queued_call_and_keeps_its_recording(replayed) -> None:
    """A caller who found no seat signed in never queued: not in the connection rate, not
    abandoned; its call keeps the message's recording."""
    r = replayed("message")
    call = r.calls()["13900000111"]
    assert (call.ivr_result, call.queued_at, call.outcome) == ("no_seat", None, "ivr")
    assert call.recording.endswith(f"/{call.uniqueid}-message.wav")
    since, until = window(r)
    assert call_indicators(r.db, since, until).queued == 0


def test_a_legs_agent_complete_after_its_hangup_does_not_reopen_it(tmp_path) -> None:
    """Asterisk may report the callback leg's AgentComplete after the leg's Hangup. The late
    event completes the leg as it ended; it never puts the leg back among the calls in
    progress (where the next resync moved its end to the resync's time)."""
    import asyncio

    from acd.engine import Engine
    from acd.history import db
    from tests.support import recorded

    events = list(recorded.load("callback").events)
    leg = "pbx1-hotline-cb-1-1-q"
    complete = next(i for i, e in enumerate(events)
                    if e.get("Event") == "AgentComplete" and e.get("Uniqueid") == leg)
    hangup = next(i for i, e in enumerate(events)
                  if e.get("Event") == "Hangup" and e.get("Uniqueid") == leg)
    assert complete < hangup  # as recorded; the test swaps them
    events.insert(hangup, events.pop(complete))
    ledger = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    db.create_schema(ledger)
    try:
        engine = Engine(recorded.recording_center(), db.session_factory(ledger),
                        {recorded.NODE: ""}, None, {recorded.NODE: None})
        asyncio.run(recorded.replay(engine, events))
        assert leg not in engine.model.calls
        assert engine.model.calls == {}
        with Session(ledger) as s:
            row = s.get(Call, leg)
            assert row is not None and row.ended_at is not None
            ended = datetime.fromtimestamp(float(events[hangup - 1]["Timestamp"]), UTC)
            assert row.ended_at == ended.replace(tzinfo=None)
            assert (row.outcome, row.seat_id) == ("answered", "8001")
    finally:
        ledger.dispose()
