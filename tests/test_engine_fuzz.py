"""Garbage and truncated AMI frames through the parser and the engine's pipeline: refused as
malformed (`MalformedEvent`), logged and skipped, and the model stays usable.

The engine keeps going in production whatever a handler raises, but it counts the two apart:
`link.malformed` for frames refused as malformed, `link.failed` for any other exception (a bug
in a handler). These tests fail on the second kind: every frame is either applied or refused
as malformed, never crashes a handler."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panoramisk.message import Message
from structlog.testing import capture_logs

from acd.ami.events import Event, MalformedEvent
from acd.engine import Engine
from acd.history import db
from acd.seats.state import SeatState
from hotline.center import EXAMPLE, load
from tests.support.examples import examples

CENTER = load(EXAMPLE)
NAMES = ["QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
         "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "QueueMemberAdded",
         "QueueMemberRemoved", "QueueMemberPause", "Hangup", "Newchannel", "UserEvent",
         "HotlineWrapupOver", "QueueMember", "Bogus"]
KEYS = ["Event", "Uniqueid", "Linkedid", "Queue", "MemberName", "Interface", "Timestamp",
        "Paused", "PausedReason", "HoldTime", "TalkTime", "Reason", "Context", "UserEvent",
        "Position", "Score", "Status", "CallerIDNum"]

garbage_frames = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(st.sampled_from(NAMES + ["manual", "8001", "1", "0", "x", "", "-5",
                                       "1795400000.5", "pbx1-1.1", "HotlineIvr",
                                       "HotlineSurvey", "hotline-inbound"]),
              st.text(max_size=12)),
    max_size=10)

# Frames as Asterisk sends them (an event name and the fields it carries, drawn from a few
# calls, queues and seats so that events meet the same call and seat), then some fields dropped
# or garbled: these reach every handler, where random dictionaries rarely get past the first
# check.
UIDS = ["pbx1-1.1", "pbx1-1.2", "pbx1-2.1"]
SEATS = [s.id for s in CENTER.seats] + ["9999"]
PLAUSIBLE = {
    "Uniqueid": st.sampled_from(UIDS),
    "Linkedid": st.sampled_from(UIDS),
    "Queue": st.sampled_from([q.name for q in CENTER.queues] + ["nosuch"]),
    "MemberName": st.sampled_from(SEATS),
    "Interface": st.sampled_from([f"PJSIP/{s}" for s in SEATS] + ["Local/x@y"]),
    "Timestamp": st.floats(1795400000, 1795400600).map(lambda t: f"{t:.6f}"),
    "Paused": st.sampled_from(["0", "1"]),
    "PausedReason": st.sampled_from(["", "meal", "training"]),
    "HoldTime": st.integers(0, 120).map(str),
    "TalkTime": st.integers(0, 600).map(str),
    "Position": st.integers(1, 9).map(str),
    "Reason": st.sampled_from(["caller", "agent", "transfer"]),
    "Context": st.sampled_from(["hotline-inbound", "hotline-seats"]),
    "Exten": st.sampled_from(["12328", "s"]),
    "CallerIDNum": st.sampled_from(["13800000001", "8001", ""]),
    "CallerIDName": st.sampled_from(["13800000001", "<script>"]),
    "UserEvent": st.sampled_from(["HotlineIvr", "HotlineQueue", "HotlineSurvey",
                                  "HotlineQueueResult"]),
    "Status": st.sampled_from(["queue", "handoff", "TIMEOUT", "FULL", "ABANDON"]),
    "Path": st.sampled_from(["1>2", "0", ""]),
    "Seconds": st.sampled_from(["12", "-3", "x"]),
    "Score": st.sampled_from(["1", "4", "9"]),
    "Recording": st.sampled_from(["/r/a.wav", ""]),
    "Handoff": st.sampled_from(["12306", ""]),
    "Broadcast": st.sampled_from(["0", "1"]),
}
plausible_frames = st.builds(
    lambda name, fields, dropped, garbled: {
        "Event": name, **{k: v for k, v in fields.items() if k not in dropped}, **garbled},
    st.sampled_from(NAMES),
    st.fixed_dictionaries({}, optional=PLAUSIBLE),
    st.sets(st.sampled_from(sorted(PLAUSIBLE)), max_size=2),
    st.dictionaries(st.sampled_from(sorted(PLAUSIBLE)), st.text(max_size=8), max_size=2))
frames = st.one_of(plausible_frames, plausible_frames, plausible_frames, garbage_frames)


def make_engine(tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    e = db.make_engine(f"sqlite:///{tmp_path / 'fuzz.sqlite'}")
    db.create_schema(e)
    return Engine(CENTER, db.session_factory(e), {"pbx1": "x"}, None, {"pbx1": None})


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(frames, max_size=30))
def test_any_sequence_of_frames_is_survived(tmp_path, sequence) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(tmp_path)
    link = engine.links["pbx1"]

    async def feed() -> None:
        for raw in sequence:
            await engine._on_event(link, raw)

    with capture_logs() as logs:  # shows the traceback of a crash, if any
        asyncio.run(feed())
    # No handler crashed and no ledger write failed (both are logged as errors).
    assert link.failed == 0, [e for e in logs if e["log_level"] == "error"]
    assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
    # Each frame was applied or refused as malformed, never anything else.
    assert link.events + link.malformed >= len(sequence)
    # Whatever came in, every seat is in a known state and the views still render.
    assert all(isinstance(s.state, SeatState) for s in engine.model.seats.values())
    view = engine.snapshot()
    assert view["nodes"]["pbx1"]["failed"] == 0


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=400))
def test_raw_bytes_never_break_the_parser(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for chunk in text.split("\r\n\r\n"):
        try:
            message = Message.from_line(chunk)
        except Exception:  # noqa: BLE001 - panoramisk's own refusal is fine
            continue
        if message is None:
            continue
        fields = dict(message)
        try:
            event = Event.parse(fields, "pbx1")
        except MalformedEvent:
            assert not isinstance(fields.get("Event"), str) or not fields.get("Event")
            continue
        # Parsed: named as the frame names it, every field kept as text.
        assert event.name == fields["Event"] and event.node == "pbx1"
        assert set(event.fields) == {str(k) for k in fields}
        assert all(isinstance(v, str) for v in event.fields.values())


def test_a_truncated_frame_is_skipped_and_the_next_one_applies(tmp_path) -> None:
    engine = make_engine(tmp_path)
    link = engine.links["pbx1"]

    async def feed() -> None:
        await engine._on_event(link, {"Event": "QueueMemberAdded", "Queue": "manual"})  # no member
        await engine._on_event(link, {"Event": "QueueMemberAdded", "Queue": "manual",
                                      "MemberName": "8001", "Paused": "0",
                                      "Timestamp": "17954"})
        await engine._on_event(link, {"Event": "AgentConnect", "Queue": "manual"})  # no uniqueid

    asyncio.run(feed())
    assert link.malformed == 2
    assert engine.model.seats["8001"].state is SeatState.READY
