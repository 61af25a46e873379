"""What the tests of issue 16 (callers never left waiting) share: the session's Asterisk with a
center file of their own (short announcement and retry intervals, office hours, revisits
dialled, SMS to a local receiver), the engine with its dialer and the IVR as processes, each
with an injected clock (`--clock`), never the machine's date."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

from hotline.shell.simulate.processes import stop
from ivr import prompts
from tests.support.engine import EngineProcess
from tests.support.rig import RunningPbx, dump_toml

# The clocks (Beijing time): National Day 2026 is a public holiday; Saturday 10 October is a
# swapped working day (调休) of the same holiday. At 20:30 that Saturday the center's office
# hours (to 20:00 on workdays) are over, while queues kept open to 22:00 on workdays only
# ("late": closed at weekends and on holidays) are open: the calendar says it is a workday.
HOLIDAY = "2026-10-01T10:00"
SWAPPED_SATURDAY_EVENING = "2026-10-10T20:30"
LATE_QUEUES = ("manual", "urban")


def center_file(pbx: RunningPbx, path: Path, sms_url: str, **callers: Any) -> Path:
    """The session's center (same nodes, queues, seats: Asterisk runs it already) with the
    [callers] and SMS settings of these tests."""
    data = tomllib.loads(pbx.center_file.read_text(encoding="utf-8"))
    data["callers"].update({"hours": "office", "calling_hours": "24h", "announce_every_s": 4,
                            "callback_attempts": 2, "callback_retry_s": 3,
                            "callback_ring_s": 8, "message_max_s": 20, "revisit_dial": "auto",
                            "revisit_retry_s": 5, **callers})
    # Open until 22:00 on workdays, closed at weekends and on holidays: a swapped working
    # Saturday is a workday.
    data.setdefault("schedules", {})["late"] = {"workday": ["08:00-22:00"], "weekend": [],
                                                 "holiday": []}
    for q in data["queues"]:
        if q["name"] in LATE_QUEUES:
            q["hours"] = "late"
    data["exchange"]["sms_url"] = sms_url
    data["exchange"]["retry_s"] = 1
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


def _env(pbx: RunningPbx) -> dict[str, str]:
    return {**os.environ, "HOTLINE_VAR": str(pbx.state),
            "HOTLINE_ASTERISK_ROOT": str(pbx.instance.root)}


def build_prompts(pbx: RunningPbx, center: Path | None = None) -> None:
    """The menu's prompts in the instance, built once for each state directory (where they
    are built; cached by text after). Without them Asterisk's Playback of a prompt fails at
    once: a caller told "callback booked" is hung up at once instead of 7 s later."""
    if pbx.state not in Ivr.built:
        subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center",
                        str(center or pbx.center_file), "prompts", "build"], env=_env(pbx),
                       check=True, capture_output=True, timeout=180)
        Ivr.built.add(pbx.state)
    # Where Asterisk plays them from (the IVR's start installs them too).
    prompts.install(pbx.instance.prompts, pbx.state / "prompts" / "zh")


class Ivr:
    """`hotline ivr serve` on a center file, a database and a clock."""

    # The state directories whose prompts this process built: one per Asterisk (the
    # session's, a module's own), never one for all (a second instance had no prompts).
    built: set[Path] = set()

    def __init__(self, pbx: RunningPbx, center: Path, database: str, redis_url: str,
                 clock: str, log: Path) -> None:
        self.env = _env(pbx)
        base = [sys.executable, "-m", "hotline.shell.cli", "--center", str(center)]
        build_prompts(pbx, center)
        self.proc = subprocess.Popen([*base, "ivr", "serve", "--instance", pbx.instance.name,
                                      "--redis", redis_url, "--database", database,
                                      "--clock", clock], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.log = log
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not any("ivr listening" in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("ivr did not start: " + "".join(self.lines))
            time.sleep(0.05)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with open(self.log, "ab") as out:
            for line in self.proc.stderr:
                out.write(line)
                self.lines.append(line.decode(errors="replace"))

    def stop(self) -> None:
        stop(self.proc)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def engine(pbx: RunningPbx, center: Path, database: str, redis_url: str, clock: str,
           log: Path) -> EngineProcess:
    """`hotline engine run` (with its dialer) on the center file and a clock."""
    mine = dataclasses.replace(pbx, center_file=center)
    proc = EngineProcess(mine, database, redis_url, log,
                         extra_args=("--instance", pbx.instance.name, "--clock", clock))
    proc.start()
    proc.wait_for("dialer connected", 20)
    return proc


def hotline(pbx: RunningPbx, center: Path, *args: str) -> str:
    env = {**os.environ, "HOTLINE_VAR": str(pbx.state)}
    out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(center),
                          "--log-level", "WARNING", *args], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout
