"""The Mandarin IVR on the real Asterisk: SIPp callers press keys (RFC 2833 for the first,
SIP INFO after), the FastAGI server walks the menu, the dialplan routes and reports."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.shell.simulate.processes import stop
from ivr import prompts
from tests.support.ami_tap import AmiTap
from tests.support.rig import RunningPbx

pytestmark = pytest.mark.asterisk


class IvrProcess:
    def __init__(self, pbx: RunningPbx, redis_url: str | None) -> None:
        env = {**os.environ, "HOTLINE_VAR": str(pbx.state),
               "HOTLINE_ASTERISK_ROOT": str(pbx.instance.root)}
        base = [sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file)]
        subprocess.run([*base, "prompts", "build"], env=env, check=True, capture_output=True,
                       timeout=120)
        args = [*base, "ivr", "serve", "--instance", pbx.instance.name]
        args += ["--redis", redis_url] if redis_url else ["--no-redis"]
        self.env, self.base, self.redis_url = env, base, redis_url
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 20
        while not any("ivr listening" in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("ivr did not start: " + "".join(self.lines))
            time.sleep(0.05)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace"))

    def hotline(self, *args: str) -> str:
        out = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def stop(self) -> None:
        stop(self.proc)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def ivr(pbx: RunningPbx, redis_url: str) -> Iterator[IvrProcess]:
    p = IvrProcess(pbx, redis_url)
    try:
        yield p
    finally:
        p.stop()


def ivr_events(tap: AmiTap, numbers: set[str], timeout: float) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {e["CallerIDNum"]: e for e in list(tap.events)
               if e.get("UserEvent") == "HotlineIvr" and e.get("CallerIDNum") in numbers}
        if len(got) == len(numbers):
            return got
        time.sleep(0.2)
    return got


# branch (a label) -> (keys with the delay before each, expected status, queue, handoff, path);
# each caller hangs up 8 s after its last key (20 s for the one that hears "invalid" twice).
BRANCHES = {
    "11": ([(1.5, "1"), (2.0, "2")], "queue", "highway", "", "1>2"),
    "21": ([(4.0, "1"), (2.0, "2")], "queue", "highway", "", "1>2"),
    "12": ([(1.5, "2")], "queue", "urban", "", "2"),
    "13": ([(1.5, "3")], "queue", "road", "", "3"),
    "14": ([(1.5, "4"), (2.0, "1")], "queue", "waterway", "", "4>1"),
    "15": ([(1.5, "5")], "queue", "complaint", "", "5"),
    "16": ([(1.5, "6")], "queue", "suggestion", "", "6"),
    "17": ([(1.5, "0")], "queue", "manual", "", "0"),
    "18": ([(1.5, "9"), (2.0, "0")], "queue", "manual", "", "9>0"),
    "19": ([(1.5, "7"), (2.0, "1"), (7.0, "1")], "handoff", "", "12306", "7>1>1"),
    # a key the main menu does not know, three times (8 is order progress since issue 16)
    "20": ([(1.5, "*"), (7.0, "*"), (7.0, "*")], "queue", "manual", "", "*>*>*"),
    "22": ([(1.5, "7"), (2.0, "2"), (7.0, "1")], "handoff", "", "12326", "7>2>1"),
    "23": ([(1.5, "7"), (2.0, "3"), (7.0, "1")], "handoff", "", "12305", "7>3>1"),
    "24": ([(1.5, "1"), (6.0, "8"), (7.0, "1")], "handoff", "", "12122", "1>8>1"),
    "25": ([(1.5, "4"), (6.0, "8"), (7.0, "1")], "handoff", "", "12395", "4>8>1"),
}


def test_every_branch_of_the_default_menu(pbx: RunningPbx, sipp, ivr, numbers) -> None:
    sipp.answerer("rail-hotline", pbx.pstn_port, ring_s=0.2, talk_s=1.0)
    caller = {label: numbers.one() for label in BRANCHES}
    tap = AmiTap(**pbx.ami)
    try:
        for label, (digits, *_rest) in BRANCHES.items():
            sipp.callers(f"b{label}", [caller[label]], digits=digits,
                         hold_s=20 if label == "20" else 12)
        got = ivr_events(tap, set(caller.values()), timeout=60)
    finally:
        tap.close()
    wrong = {}
    for label, (_d, status, queue, handoff, path) in BRANCHES.items():
        number = caller[label]
        e = got.get(number, {})
        seen = (e.get("Status"), e.get("Queue"), e.get("Handoff"), e.get("Path"),
                e.get("AgiStatus"))
        if seen != (status, queue, handoff, path, "SUCCESS"):
            wrong[number] = seen
    assert wrong == {}


def test_no_key_replays_then_a_seat(pbx: RunningPbx, sipp, ivr, numbers) -> None:
    silent = numbers.one()
    tap = AmiTap(**pbx.ami)
    try:
        sipp.callers("silent", [silent], digits=[], hold_s=120)
        got = ivr_events(tap, {silent}, timeout=150)
    finally:
        tap.close()
    e = got[silent]
    assert (e["Status"], e["Queue"], e["Path"]) == ("queue", "manual", "->->-")


def test_a_missing_prompt_does_not_undo_the_callers_choice(pbx: RunningPbx, sipp, ivr,
                                                           numbers) -> None:
    """A prompt file gone from the instance (an operator's slip): the IVR goes on without it,
    and the caller who pressed 1 then 2 is queued for highway, not sent to the default queue
    because one STREAM FILE failed (that failure leaves AGISTATUS at FAILURE)."""
    gone = pbx.instance.prompts / "highway_rescue.wav"
    assert gone.exists()
    gone.unlink()
    caller = numbers.one()
    tap = AmiTap(**pbx.ami)
    try:
        sipp.callers("no-prompt", [caller], digits=[(1.5, "1"), (2.0, "2")], hold_s=12)
        e = ivr_events(tap, {caller}, timeout=60).get(caller, {})
    finally:
        tap.close()
        prompts.install(pbx.instance.prompts, pbx.state / "prompts" / "zh")
    assert (e.get("Status"), e.get("Queue"), e.get("Path"), e.get("AgiStatus")) == \
        ("queue", "highway", "1>2", "FAILURE"), e


def seconds(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        return w.getnframes() / w.getframerate()


def test_emergency_broadcast_plays_after_the_welcome(pbx: RunningPbx, sipp, ivr, numbers,
                                                     tmp_path) -> None:
    text = "大雪，沈阳绕城高速部分路段封闭。"
    redis = ("--redis", ivr.redis_url or "")
    ivr.hotline("ivr", "broadcast", "set", text, *redis)  # cleared with Redis after the test
    assert "沈阳绕城" in ivr.hotline("ivr", "broadcast", "show", *redis)
    # When each part is heard follows from how long espeak-ng speaks them: the welcome and
    # the broadcast (spoken here again, as the IVR does), not from a fixed guess.
    welcome = seconds(pbx.state / "prompts" / "zh" / "welcome.wav")
    broadcast = seconds(tmp_path / (prompts.broadcast_prompt(text, tmp_path) + ".wav"))
    heard, gone, after = numbers(3)
    tap = AmiTap(**pbx.ami)
    try:
        # The first key falls in the welcome (dropped: the broadcast is heard whole), the
        # second one in the main menu (its prompt and 5 s wait follow the broadcast); a third
        # caller hears the broadcast and hangs up in the main menu.
        sipp.callers("heard", [heard], hold_s=welcome + broadcast + 10,
                     digits=[(1.0, "0"), (welcome + broadcast + 1.5, "0")])
        sipp.callers("gone", [gone], digits=[], hold_s=welcome + broadcast + 3)
        first = ivr_events(tap, {heard, gone}, timeout=90)
        ivr.hotline("ivr", "broadcast", "clear", *redis)
        sipp.callers("after", [after], digits=[(1.5, "0")], hold_s=8)
        second = ivr_events(tap, {after}, timeout=60)
    finally:
        tap.close()
    assert first[heard]["Broadcast"] == "1"
    assert first[heard]["Status"] == "queue"
    assert first[heard]["Path"] == "0"
    assert (first[gone]["Status"], first[gone]["Broadcast"]) == ("abandoned_ivr", "1")
    assert second[after]["Broadcast"] == ""
    assert second[after]["Path"] == "0"


@pytest.mark.parametrize("key", ["1", "2", "3", "4", ""])
def test_survey_after_the_seat_hangs_up(pbx: RunningPbx, sipp, ivr, key: str,
                                       numbers) -> None:
    sipp.seat("8001", pbx.seat_password("8001"), ring_s=0.2, talk_s=1.0)
    pbx.instance.cli("queue add member PJSIP/8001 to manual penalty 0 as 8001")
    number = numbers.one()
    # The caller presses the key again and again: those while the seat talks reach the seat's
    # phone, which ignores them; the first one after the seat hangs up is the score.
    digits = [(1.5, "0")] + ([(3.0, key)] + [(1.0, key)] * 15 if key else [])
    tap = AmiTap(**pbx.ami)
    try:
        sipp.callers("survey", [number], digits=digits, hold_s=40).wait(60)
        deadline = time.monotonic() + 20
        survey = None
        while survey is None and time.monotonic() < deadline:
            survey = next((e for e in list(tap.events) if e.get("UserEvent") == "HotlineSurvey"
                           and e.get("CallerIDNum") == number), None)
            time.sleep(0.2)
    finally:
        tap.close()
    assert survey is not None
    assert survey["Score"] == key and survey["Seat"] == "8001"


def test_the_same_menu_walk_over_classic_agi(tmp_path, redis_url, numbers) -> None:
    """Asterisk runs agi_scripts/hotline_ivr.py itself (pyst2, inside its root)."""
    from hotline.shell.simulate.sipp import Sipp
    from tests.support.rig import example_center_data, running_pbx

    data = example_center_data()
    data["center"]["ivr"] = "agi"
    env = {**os.environ, "HOTLINE_VAR": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "hotline.shell.cli", "prompts", "build"], env=env, check=True,
                   capture_output=True, timeout=120)
    old = os.environ.get("HOTLINE_VAR")
    os.environ["HOTLINE_VAR"] = str(tmp_path)  # the rig installs prompts from here
    try:
        with running_pbx(tmp_path, f"classic-{os.getpid()}", data) as pbx:
            sipp = Sipp("127.0.0.1", pbx.node.sip_port)
            tap = AmiTap(**pbx.ami)
            chosen = {numbers.one(): (label, BRANCHES[label])
                      for label in ("11", "14", "18", "19")}
            try:
                for number, (label, (digits, *_rest)) in chosen.items():
                    # The first key 3 s later than over FastAGI: Asterisk starts a Python
                    # process for each call here, and a key pressed before it reads is lost
                    # (a caller hears the welcome first, from that process).
                    later = [(digits[0][0] + 3.0, digits[0][1]), *digits[1:]]
                    sipp.callers(f"c{label}", [number], digits=later, hold_s=8)
                got = ivr_events(tap, set(chosen), timeout=60)
            finally:
                tap.close()
                sipp.close()
    finally:
        if old is None:
            os.environ.pop("HOTLINE_VAR", None)
        else:
            os.environ["HOTLINE_VAR"] = old
    for number, (_label, (_d, status, queue, handoff, path)) in chosen.items():
        e = got.get(number, {})
        # The rail caller's transfer is dialled to the test's gateway port, where nothing
        # answers in this test: the IVR's report is what is checked here.
        assert (e.get("Status"), e.get("Queue"), e.get("Path"), e.get("AgiStatus")) == \
            (status, queue, path, "SUCCESS"), (number, e)
        assert e.get("Handoff") == handoff
