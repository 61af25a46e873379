"""Garbage and truncated AMI frames through the parser and the engine's pipeline: skipped and
logged, never a crash, and the model stays usable."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panoramisk.message import Message

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

frames = st.dictionaries(
    st.sampled_from(KEYS),
    st.one_of(st.sampled_from(NAMES + ["manual", "8001", "1", "0", "x", "", "-5",
                                       "1795400000.5", "pbx1-1.1", "HotlineIvr",
                                       "HotlineSurvey", "hotline-inbound"]),
              st.text(max_size=12)),
    max_size=10)


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

    asyncio.run(feed())
    # Whatever came in, every seat is in a known state and the views still render.
    assert all(isinstance(s.state, SeatState) for s in engine.model.seats.values())
    engine.snapshot()


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
        try:
            Event.parse(dict(message), "pbx1")
        except MalformedEvent:
            pass


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
