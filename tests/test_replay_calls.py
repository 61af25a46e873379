"""Calls recorded on the real rig (tests/fixtures/ami/), replayed through the engine's pipeline
into a fresh SQLite ledger with no Asterisk. Every expected value is what the recorder made
happen (tests/fixtures/ami/record.py, the scenario of the same name): ring times, when callers
hang up, the queues' wrap-up (5 s in manual and highway), the keys pressed. Times are within
a tolerance: SIPp and the IVR take a few tenths of a second to act."""

from __future__ import annotations

import pytest

from acd.history.models import Call
from tests.support.recorded import Interval, Replayed


def approx(seconds: float, within: float = 1.0):  # type: ignore[no-untyped-def]
    return pytest.approx(seconds, abs=within)


def stays(r: Replayed, call: Call) -> list[tuple[str, str, str]]:
    return [(s.queue, s.outcome, s.seat_id) for s in r.stays(call.uniqueid)]


def shape(intervals: list[Interval]) -> list[tuple[str, str]]:
    return [(i.state, i.reason) for i in intervals]


def answered_by(r: Replayed, seat: str, call: Call, queue: str) -> None:
    """The seat's intervals of a signed-in seat that answered one call and wrapped up 5 s:
    the ringing, the talk and the wrap-up name the call and its queue; all closed."""
    got = r.intervals(seat)
    assert shape(got) == [("ready", ""), ("ringing", ""), ("on_call", ""), ("wrapup", ""),
                          ("ready", "")]
    ringing, on_call, wrapup = got[1:4]
    assert {(i.queue, i.uniqueid) for i in (ringing, on_call, wrapup)} == {(queue, call.uniqueid)}
    assert ringing.seconds == approx(0.5, 0.3)           # the phone answers after 0.5 s
    assert on_call.seconds == pytest.approx(call.talk_s, abs=0.01)
    assert wrapup.seconds == pytest.approx(5.0, abs=0.01)
    assert call.wrapup_s == pytest.approx(5.0, abs=0.01)
    assert all(i.seconds is not None for i in got), "signed out at the end: nothing open"


def test_a_call_answered_with_wrapup(replayed) -> None:
    r = replayed("answered_wrapup")
    call = r.calls()["13900000011"]
    assert (call.outcome, call.first_queue, call.final_queue, call.seat_id) == \
        ("answered", "manual", "manual", "8001")
    assert stays(r, call) == [("manual", "answered", "8001")]
    assert call.wait_s == approx(0.5, 0.3)
    # The caller hangs up 5 s after pressing 0: about 4.5 s of talk after 0.5 s of ringing.
    assert call.talk_s == approx(4.5)
    assert call.hangup_by == "caller" and call.survey_score is None
    assert (call.ivr_path, call.ivr_result, call.dialed) == ("0", "queue", "12328")
    assert call.recording.endswith(f"/{call.uniqueid}.wav")
    assert call.ended_at is not None
    answered_by(r, "8001", call, "manual")


def test_a_caller_who_abandons_while_waiting(replayed) -> None:
    r = replayed("abandon")
    call = r.calls()["13900000021"]
    assert stays(r, call) == [("manual", "abandoned", "")]
    assert (call.outcome, call.seat_id, call.talk_s, call.answered_at) == \
        ("abandoned", "", None, None)
    assert call.wait_s == approx(4.0, 0.5)        # hangs up 4 s after pressing 0
    assert call.hangup_by == "caller"


def test_a_timeout_and_an_overflow_to_another_queue(replayed) -> None:
    r = replayed("timeout_overflow")
    calls = r.calls()
    over = calls["13900000031"]
    assert stays(r, over) == [("highway", "overflowed", ""), ("manual", "answered", "8004")]
    highway, manual = r.stays(over.uniqueid)
    assert highway.wait_s == approx(5.0, 0.5)     # highway's overflow_after_s
    assert manual.wait_s == approx(0.5, 0.3)
    assert (over.outcome, over.first_queue, over.final_queue, over.seat_id) == \
        ("answered", "highway", "manual", "8004")
    assert over.wait_s == approx(5.5)              # both stays
    assert over.talk_s == approx(4.5)              # hangs up 10 s after its last key
    assert over.ivr_path == "1>2"
    answered_by(r, "8004", over, "manual")

    out = calls["13900000032"]
    assert stays(r, out) == [("complaint", "timeout", "")]
    assert (out.outcome, out.seat_id, out.talk_s) == ("timeout", "", None)
    assert out.wait_s == approx(4.0, 0.5)          # complaint's max_wait_s
    assert out.ivr_path == "5"


def test_ring_no_answer_then_another_seat_answers(replayed) -> None:
    r = replayed("ring_no_answer")
    call = r.calls()["13900000061"]
    assert stays(r, call) == [("manual", "answered", "8002")]
    # 15 s ringing 8001 (manual's ring timeout), 1 s before the queue retries, 0.5 s ringing
    # 8002; the caller hangs up 28 s after its key.
    assert call.wait_s == approx(16.5)
    assert call.talk_s == approx(11.5)
    rang = r.intervals("8001")
    assert shape(rang) == [("ready", ""), ("ringing", ""), ("ready", ""), ("busy", "other")]
    assert (rang[1].queue, rang[1].uniqueid) == ("manual", call.uniqueid)
    assert rang[1].seconds == approx(15.0, 0.5)
    assert rang[2].seconds == approx(0.0, 0.5)     # set busy as soon as it was not answered
    answered_by(r, "8002", call, "manual")


def test_the_satisfaction_survey_after_the_seat_hangs_up(replayed) -> None:
    r = replayed("survey")
    call = r.calls()["13900000071"]
    assert stays(r, call) == [("manual", "answered", "8001")]
    assert call.talk_s == approx(1.0, 0.5)         # the seat hangs up after 1 s
    assert call.hangup_by == "seat"
    assert call.survey_score == 1                  # the caller pressed 1
    assert call.survey_at is not None and call.survey_at > call.answered_at
    answered_by(r, "8001", call, "manual")


def test_ivr_handoff_and_a_caller_gone_in_the_ivr(replayed) -> None:
    r = replayed("ivr_handoff")
    calls = r.calls()
    rail = calls["13900000081"]
    assert (rail.ivr_path, rail.ivr_result, rail.handoff_to, rail.outcome) == \
        ("7>1>1", "handoff", "12306", "handoff")
    assert r.stays(rail.uniqueid) == [] and rail.queued_at is None and rail.seat_id == ""
    gone = calls["13900000082"]
    assert (gone.ivr_path, gone.ivr_result, gone.outcome) == ("", "abandoned_ivr", "ivr")
    assert gone.ivr_seconds == approx(3.0)          # hangs up 3 s into the welcome
    assert r.stays(gone.uniqueid) == []


def test_the_dialled_handoff_leg_is_not_a_call_into_the_center(replayed) -> None:
    r = replayed("ivr_handoff")
    assert sorted(r.calls()) == ["13900000081", "13900000082"]


def test_two_overlapping_calls_in_two_queues(replayed) -> None:
    r = replayed("overlapping")
    calls = r.calls()
    first, second = calls["13900000091"], calls["13900000092"]
    assert stays(r, first) == [("manual", "answered", "8001")]
    assert stays(r, second) == [("highway", "answered", "8002")]
    assert first.talk_s == approx(7.5)             # hangs up 8 s after its key
    assert second.talk_s == approx(5.5)            # 6 s after its last key
    (a,), (b,) = r.stays(first.uniqueid), r.stays(second.uniqueid)
    assert max(a.answered_at, b.answered_at) < min(a.ended_at, b.ended_at), "they overlap"
    answered_by(r, "8001", first, "manual")
    answered_by(r, "8002", second, "highway")
