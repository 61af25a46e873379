"""Listening is audited, on the real Asterisk with the engine running: a listen from the
wallboard and a refused dial code from the supervisor's phone both end up in the ledger's
spy_sessions (who, whom, how, from when to when), and only admins read the trail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from acd.history.spy import SpySession
from tests.support.ami_tap import AmiTap
from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for
from tests.test_supervisor_spy import (  # noqa: F401 - spy_stack is a fixture
    JsonClient,
    end_spy,
    event_after,
    seat_on_a_call,
    spy_stack,
)

pytestmark = pytest.mark.asterisk


def rows(ledger) -> list[SpySession]:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session
    with Session(ledger[1]) as s:
        return list(s.scalars(select(SpySession).order_by(SpySession.id)))


def test_every_listen_and_refusal_is_in_the_ledger_and_shown_to_admins(
        spy_stack, sipp, ledger, numbers) -> None:  # noqa: F811 - the imported fixture
    port, pbx = spy_stack
    pbx: RunningPbx
    phone = pbx.center.supervisors[0].id
    tap = AmiTap(**pbx.ami, events="call,user")
    try:
        target = seat_on_a_call(pbx, sipp, "8001", numbers.one())
        sipp.seat(phone, pbx.instance.secrets.supervisors[phone], ring_s=0.5, talk_s=120)
        boss = JsonClient(port)
        assert boss.login("boss") == 200
        start = len(tap.events)
        status, out = boss.call("POST", "/web/spy/8001", {"mode": "whisper", "phone": phone})
        assert status == 202, out
        # Opened before the phone rang: who asked is known even if nobody answers.
        first = wait_for("the request's row", lambda: rows(ledger))[0]
        assert (first.by_user, first.supervisor, first.seat, first.mode) == \
            ("boss", phone, "8001", "whisper")
        began = event_after(tap, start, Event="ChanSpyStart", SpyeeChannel=target)
        end_spy(pbx, tap, began["SpyerChannel"], start)
        done = wait_for("the session closed", lambda: [r for r in rows(ledger)
                                                       if r.status == "ended"])[0]
        assert done.id == first.id and done.spyer_uniqueid == began["SpyerUniqueid"]
        assert done.target == target and done.requested_at <= done.started_at < done.ended_at
        # From the phone itself, on a seat that is not on a call: refused, and audited.
        password = pbx.instance.secrets.supervisors[phone]
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(sipp.seat_dial, phone, password, "*318002").result(40) == 0
        refused = wait_for("the refusal", lambda: [r for r in rows(ledger)
                                                   if r.status.startswith("refused")])[0]
        assert (refused.by_user, refused.supervisor, refused.seat, refused.mode,
                refused.status) == ("", phone, "8002", "listen", "refused:no_call")
    finally:
        tap.close()
    # Admins read the trail (in Chinese); a supervisor does not.
    root = JsonClient(port)
    assert root.login("root") == 200
    status, trail = root.call("GET", "/web/audit/spy?days=1")
    assert status == 200, trail
    shown = {s["id"]: s for s in trail["sessions"]}
    assert shown[done.id]["mode_label"] == "密语" and shown[done.id]["status_label"] == "已结束"
    assert shown[done.id]["by"] == "boss" and shown[done.id]["seconds"] is not None
    assert shown[refused.id]["status_label"] == "拒绝：座席无通话"
    assert boss.call("GET", "/web/audit/spy")[0] == 403
    assert root.call("GET", "/web/audit/spy?days=-1")[0] == 400
