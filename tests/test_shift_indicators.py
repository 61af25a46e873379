"""A shift on the real Asterisk with the engine writing to PostgreSQL (the production database),
the real IVR routing the callers, and the province's call indicators computed from that ledger,
checked exactly against Asterisk's own queue_log read by hand in this test (not by the project's
reader, `acd/history/queue_log.py`).

The shift, so the test knows what must come out: two callers wait in `manual` while its one
seat signed in (phone registered) is busy, and hang up (abandoned; with no seat signed in they
would be offered a message instead, issue 16, and never queue); then that seat is ready and a
second signs in to `manual`, four callers press 0 for a seat and are answered within a few
seconds, and one presses 1 then 2 for the highway queue, where no seat is: after 12 s it
overflows to `manual` and is answered there. So four answered calls wait well under 10 s and
one well over (`manual` has no wrap-up and the center no position announcements here, so that
no wait comes near the 10 s line, where queue_log's whole seconds could tip it either way).

The indicators (docs/indicators.md, seed 002 article 6 and seed 001 article 20):
- 人工接通率 = answered calls / queued calls; a call that overflowed is one call, counted with
  the outcome of its last stay;
- 平均等待时长 = seed 002 art. 6 (四): "平均等待时长：从来电人拨打12328电话到获得服务的平均时长",
  from dialling 12328 (the call's first channel, the IVR included) to a seat's answer, over
  the answered calls; queue_log has no line for the dialling, but Asterisk's Uniqueid (the
  callid, `<systemname>-<epoch>.<n>`) carries the second the first channel was made;
- the queue wait (`average_queue_wait_s`) = the sum of a call's stays from entering a queue
  to being answered / answered calls;
- 10 秒接通率 = answered calls with queue wait ≤ 10 s / answered calls;
- abandon rate = abandoned calls / queued calls.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from acd.history import db
from acd.history.models import Call, QueueCall
from hotline.shell.simulate.sipp import Sipp
from queue_stats.indicators import call_indicators
from queue_stats.reconcile import differences
from tests.support.engine import EngineProcess
from tests.support.rig import example_center_data, running_pbx
from tests.support.waiting import wait_for
from tests.test_engine_shift import hotline
from tests.test_ivr_calls import IvrProcess

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]


def raw_queue_log(path: Path, since: float) -> dict[str, list[tuple[int, str, str, list[str]]]]:
    """Asterisk 22's queue_log, split by hand: callid -> [(time, queue, event, data...)] of the
    lines at or after `since` (time|callid|queue|agent|event|data1|data2|...)."""
    calls: dict[str, list[tuple[int, str, str, list[str]]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        f = line.split("|")
        if len(f) < 5 or not f[0].isdigit() or int(f[0]) < int(since) or f[1] == "NONE":
            continue
        calls[f[1]].append((int(f[0]), f[2], f[4], f[5:]))
    # Only calls (a member added by the manager is logged under the callid MANAGER).
    return {c: rows for c, rows in calls.items() if any(r[2] == "ENTERQUEUE" for r in rows)}


def expected_from(calls: dict[str, list[tuple[int, str, str, list[str]]]]) -> dict[str, object]:
    """The call indicators of these queue_log calls, by the formulas of docs/indicators.md."""
    queued = answered = abandoned = within_10 = 0
    waits: dict[str, int] = {}
    from_dialling: dict[str, int] = {}
    for callid, rows in calls.items():
        queued += 1
        last = [r for r in rows if r[2] in ("CONNECT", "ABANDON", "EXITWITHTIMEOUT",
                                            "EXITEMPTY", "EXITWITHKEY")][-1]
        if last[2] == "CONNECT":
            answered += 1
            # Each stay's wait: EXITWITHTIMEOUT|position|origposition|waittime for a stay that
            # timed out (the overflow), CONNECT|holdtime|bridgedchannel|ringtime for the last.
            wait = sum(int(data[2]) for _, _, event, data in rows if event == "EXITWITHTIMEOUT")
            wait += int(last[3][0])
            waits[callid] = wait
            made = int(callid.rsplit("-", 1)[-1].split(".")[0])  # the channel's epoch second
            from_dialling[callid] = last[0] - made
            within_10 += wait <= 10
        elif last[2] == "ABANDON":
            abandoned += 1
    return {"queued": queued, "answered": answered, "abandoned": abandoned,
            "manual_connection_rate": answered / queued,
            "average_wait_s": sum(from_dialling.values()) / len(from_dialling),
            "average_queue_wait_s": sum(waits.values()) / len(waits), "waits": waits,
            "answered_within_10s_rate": within_10 / answered,
            "abandon_rate": abandoned / queued}


@pytest.fixture
def sql(postgres_url: str) -> Iterator[Engine]:
    """The ledger's schema on the session's PostgreSQL, emptied first; its connections closed
    at teardown whether the test passed or not (a pool left to the garbage collector closes
    its psycopg connections in some later test, as a ResourceWarning there)."""
    engine = db.make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        db.create_schema(engine)
        yield engine
    finally:
        engine.dispose()


def test_a_shift_on_postgresql_gives_the_indicators_queue_log_gives(
        tmp_path, postgres_url, sql, numbers) -> None:
    data = example_center_data()
    highway = next(q for q in data["queues"] if q["name"] == "highway")
    highway.update(overflow_to="manual", overflow_after_s=12)
    manual = next(q for q in data["queues"] if q["name"] == "manual")
    manual.update(wrapup_s=0)
    # No position announcements: a caller hearing one was put through only when it ended (in
    # queue_log, seats free from the second after, the callers connected 9-10 s later), which
    # would bring the waits to the 10 s line.
    data["callers"]["announce_every_s"] = 0
    impatient, patient, overflowing = numbers(2), numbers(4), numbers.one()
    with running_pbx(tmp_path, f"pgshift-{os.getpid()}", data) as pbx:
        proc = EngineProcess(pbx, postgres_url, None, tmp_path / "engine.log")
        sipp = Sipp("127.0.0.1", pbx.node.sip_port)
        ivr = None
        try:
            ivr = IvrProcess(pbx, None)
            proc.start()
            started = time.time()

            def stays(who: list[str]) -> list[QueueCall]:
                with Session(sql) as s:
                    return list(s.scalars(select(QueueCall).join(Call).where(
                        Call.caller_number.in_(who))))

            # One seat signed in with its phone registered, but busy: two callers ask for a
            # seat (0), wait and give up. (With no seat signed in, a caller is offered a message
            # instead of the queue: issue 16.)
            sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.3, talk_s=2.0)
            hotline(pbx, "seat", "signin", "8001", "--queue", "manual")
            hotline(pbx, "seat", "busy", "8001", "--reason", "meal")
            sipp.callers("gone", impatient, digits=[(1.5, "0")], hold_s=12, rate=5)
            wait_for("the two abandons in the ledger", lambda: len(
                [s for s in stays(impatient) if s.outcome == "abandoned"]) == 2, 60)
            hotline(pbx, "seat", "ready", "8001")
            sipp.seat("8002", pbx.seat_password("8002"), ring_s=0.3, talk_s=2.0)
            hotline(pbx, "seat", "signin", "8002", "--queue", "manual")
            sipp.callers("seat", patient, digits=[(1.5, "0")], hold_s=60, rate=2)
            sipp.callers("highway", [overflowing], digits=[(1.5, "1"), (2.0, "2")], hold_s=60)
            everyone = impatient + patient + [overflowing]
            wait_for("every call ended in the ledger", lambda: (
                len([s for s in stays(everyone) if s.talk_s is not None]) == 5), 120)
            ended = time.time()
        finally:
            sipp.close()
            proc.stop()
            if ivr is not None:
                ivr.stop()
        queue_log = pbx.instance.queue_log
        raw = raw_queue_log(queue_log, started - 2)
        found = differences(sql, queue_log, started - 2, ended + 1)

    # What the test placed is what queue_log shows: 7 calls, 2 abandoned, 1 overflow.
    assert len(raw) == 7, {c: [(q, e, d) for _, q, e, d in rows] for c, rows in raw.items()}
    paths = sorted(tuple((q, e) for _, q, e, _ in rows if e in (
        "ENTERQUEUE", "EXITWITHTIMEOUT", "CONNECT", "ABANDON")) for rows in raw.values())
    assert paths == sorted(
        [(("manual", "ENTERQUEUE"), ("manual", "ABANDON"))] * 2
        + [(("manual", "ENTERQUEUE"), ("manual", "CONNECT"))] * 4
        + [(("highway", "ENTERQUEUE"), ("highway", "EXITWITHTIMEOUT"),
            ("manual", "ENTERQUEUE"), ("manual", "CONNECT"))])
    want = expected_from(raw)
    assert (want["queued"], want["answered"], want["abandoned"]) == (7, 5, 2)

    # The indicators from the PostgreSQL ledger.
    since = datetime.fromtimestamp(started - 2, UTC).replace(tzinfo=None)
    until = datetime.fromtimestamp(ended + 1, UTC).replace(tzinfo=None)
    got = call_indicators(sql, since, until, center=pbx.center.code)
    assert (got.queued, got.answered, got.abandoned) == (7, 5, 2)
    assert got.manual_connection_rate.value == want["manual_connection_rate"] == 5 / 7
    assert got.abandon_rate.value == want["abandon_rate"] == 2 / 7
    assert got.answered_within_10s_rate.value == want["answered_within_10s_rate"] == 4 / 5, \
        (got.answered_within_10s_rate, want["waits"])
    # queue_log and the Uniqueid keep whole seconds: the ledger's means are within 1 s of
    # theirs; the wait from dialling holds the IVR's seconds too (the key pressed at 1.5 s).
    assert got.average_wait_s.value is not None and got.average_queue_wait_s.value is not None
    assert abs(got.average_queue_wait_s.value - want["average_queue_wait_s"]) < 1.0  # type: ignore[operator]
    assert abs(got.average_wait_s.value - want["average_wait_s"]) < 1.0  # type: ignore[operator]
    assert got.average_wait_s.value > got.average_queue_wait_s.value + 1.5
    with Session(sql) as s:
        waits = {c.uniqueid: c.wait_s for c in s.scalars(select(Call).where(
            Call.outcome == "answered"))}
    assert set(waits) == set(want["waits"])  # type: ignore[arg-type]
    for uid, wait in want["waits"].items():  # type: ignore[attr-defined]
        assert abs(waits[uid] - wait) < 1.0, (uid, waits[uid], wait)
    # ...and the ledger on PostgreSQL agrees with queue_log stay by stay.
    assert found == []
    with Session(sql) as s:
        over = s.scalars(select(Call).where(Call.caller_number == overflowing)).one()
        assert (over.first_queue, over.final_queue, over.outcome) == \
            ("highway", "manual", "answered")
