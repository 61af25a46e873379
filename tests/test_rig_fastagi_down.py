"""No caller is dropped because the Python side is down: with the FastAGI server killed, calls
still reach a seat through the default queue."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.support.ami_tap import AmiTap
from tests.support.rig import RunningPbx
from tests.test_rig_calls import add_members, wait_for_outcomes

pytestmark = pytest.mark.asterisk


def test_calls_reach_a_seat_after_the_fastagi_server_is_killed(pbx: RunningPbx, sipp,
                                                               numbers) -> None:
    first, second = numbers(2)
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.3, talk_s=1.0)
    add_members(pbx, "highway", ["8001"])
    add_members(pbx, "manual", ["8001"])
    tap = AmiTap(**pbx.ami)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.agi_router", str(pbx.node.fastagi_port), "queue:highway"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == b"ready"
        sipp.callers("with-ivr", [first], hold_s=20).wait(30)
        # The seat hung up first: the caller went on to the survey, which the server rated.
        ivr = tap.wait_for(UserEvent="HotlineIvr", Status="queue", Queue="highway")
        survey = tap.wait_for(UserEvent="HotlineSurvey", Score="2", Seat="8001")
        assert ivr["AgiStatus"] == "SUCCESS" and survey["Queue"] == "highway"
        server.send_signal(signal.SIGKILL)
        server.wait(5)
        sipp.callers("without-ivr", [second], hold_s=20).wait(30)
        # With the IVR gone, the dialplan reports an IVR error and an unrated survey.
        tap.wait_for(UserEvent="HotlineIvr", Status="error", AgiStatus="FAILURE")
        tap.wait_for(UserEvent="HotlineSurvey", Score="", AgiStatus="FAILURE")
    finally:
        tap.close()
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()

    calls = wait_for_outcomes(pbx, {first, second}, timeout=20)
    with_ivr = calls[first]
    without_ivr = calls[second]
    # While the IVR answered, it chose the queue...
    assert with_ivr[0][4] == "ENTERQUEUE" and with_ivr[0][2] == "highway"
    assert any(r[4] == "CONNECT" and r[3] == "8001" for r in with_ivr)
    # ...and once it was killed, the dialplan sent the caller to the default queue, answered.
    assert without_ivr[0][4] == "ENTERQUEUE" and without_ivr[0][2] == pbx.center.default_queue
    assert any(r[4] == "CONNECT" and r[3] == "8001" for r in without_ivr)


@pytest.mark.parametrize("number", ["12306", "12326"])
def test_a_handoff_is_dialled_through_the_pstn_gateway(pbx: RunningPbx, sipp, number: str,
                                                      numbers) -> None:
    other_hotline = sipp.answerer("rail-hotline", pbx.pstn_port, ring_s=0.3, talk_s=1.0)
    tap = AmiTap(**pbx.ami, events="call,user")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.agi_router", str(pbx.node.fastagi_port),
         f"handoff:{number}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == b"ready"
        caller = sipp.callers("handoff", numbers(1), hold_s=20)
        assert caller.wait(30) == 0, caller.errors()
        tap.wait_for(UserEvent="HotlineIvr", Status="handoff", Handoff=number)
        tap.wait_for(Event="DialBegin", DialString=f"{number}@pstn")
        dial = tap.wait_for(Event="DialEnd", DialStatus="ANSWER")
        assert dial["DestChannel"].startswith("PJSIP/pstn-")
    finally:
        tap.close()
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    assert other_hotline.running()
