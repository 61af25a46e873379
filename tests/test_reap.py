"""`hotline pbx reap --run ID` kills only what a run started: `./run tests` ends by reaping
its leftovers, and once killed a helper's running tests (and would kill an operator's demo)
on the same machine, because it killed every Asterisk and SIPp there was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from asterisk_conf import rig
from hotline.shell.simulate.ports import free_ports, media_port


def _sipp(run: str) -> subprocess.Popen[bytes]:
    port = free_ports(1)[0]
    return subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port),
                             "-mp", str(media_port()), "-nostdin"],
                            env={**os.environ, rig.RUN_VARIABLE: run},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_reap_of_a_run_leaves_other_runs_alone() -> None:
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (./run installs sip-tester)")
    ours, theirs = f"test-ours-{os.getpid()}", f"test-theirs-{os.getpid()}"
    mine, other = _sipp(ours), _sipp(theirs)
    try:
        time.sleep(0.3)
        assert mine.poll() is None and other.poll() is None
        assert rig.reap_named(("sipp",), run=ours) == [mine.pid]
        mine.wait(5)
        assert other.poll() is None    # another run's SIPp still runs
        # The command: the same, and --check says something had to be killed.
        out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "pbx", "reap",
                              "--check", "--run", theirs], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 1 and f"sipp {other.pid}" in out.stderr, out.stderr
        other.wait(5)
    finally:
        for p in (mine, other):
            if p.poll() is None:
                p.kill()
                p.wait(5)


@pytest.mark.parametrize("run", ["", " ", "tests 1", "x;kill -9 -1", "$(id)", "../..",
                                 "运行", "t" * 65, "a\nb"])
def test_a_hostile_run_id_is_refused_and_kills_nothing(run: str) -> None:
    """An empty id would match every process (reap everything), so it is refused like any id
    `./run tests` would not make; the command says why in one line and kills nothing."""
    if shutil.which("sipp") is None:
        pytest.skip("SIPp is not installed (./run installs sip-tester)")
    bystander = _sipp(f"test-bystander-{os.getpid()}")
    try:
        out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "pbx", "reap",
                              "--check", f"--run={run}"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 2, out
        assert "a run id is 1 to 64 letters" in out.stderr and "Traceback" not in out.stderr
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait(5)


def test_reap_of_a_run_kills_its_engines_and_ivrs_only() -> None:
    """An engine whose test failed to start it was left running after the suite (seen in
    CI): with --run, the run's `python -m hotline.shell.cli` processes are reaped too, and
    another run's are left alone."""
    ours, theirs = f"test-ours-{os.getpid()}", f"test-theirs-{os.getpid()}"
    # The engine's command line without its work: only the marker and the run matter here.
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)", "hotline.shell.cli"]
    mine, other = (subprocess.Popen(sleeper, env={**os.environ, rig.RUN_VARIABLE: r})
                   for r in (ours, theirs))
    try:
        out = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "pbx", "reap",
                              "--check", "--run", ours], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 1 and f"hotline {mine.pid}" in out.stderr, out.stderr
        assert mine.wait(5) == -9
        assert other.poll() is None
    finally:
        for p in (mine, other):
            if p.poll() is None:
                p.kill()
                p.wait(5)
