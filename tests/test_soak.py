"""The shift with faults at the suite's size (issue 13; bench/soak.py runs it bigger, see
RELIABILITY.md): a few dozen calls through the real IVR, queues, seats and the survey, the
engine on a real PostgreSQL, and each fault once: the engine SIGKILLed twice (the second time
with calls in long talk), Redis and the FastAGI server stopped, a database lock longer than
the engine's timeout, PostgreSQL and Asterisk restarted. Afterwards nothing is lost: every
call of queue_log has its ledger row and they agree (outcome, wait, seat, talk, every stay),
no call or wrap-up is left open, the upload holds every ended call, and only the callers on
the Asterisk that restarted were cut short. A callback's leg (a rater pressing 1 in a queue books
a callback, issue 16) is reconciled with queue_log and must end, but it is not a call into the
center (docs/indicators.md): not in the upload, not a caller to be cut short."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import pytest

from hotline.shell.simulate.soak import FAULTS, Plan, Shift
from tests.support.real import unavailable

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres, pytest.mark.redis]


def test_a_shift_with_every_fault_loses_nothing(tmp_path) -> None:
    for tool in ("sipp", "redis-server"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed")
    v = Shift(Plan.small(), workdir=tmp_path / "soak").run()
    report = json.dumps(asdict(v), indent=1)  # everything, if anything fails
    assert sorted(f["name"] for f in v.faults) == sorted(FAULTS), report
    assert all(f["recovered"] and not f["note"].startswith("failed") for f in v.faults), report
    kill2 = next(f for f in v.faults if f["name"] == "kill2")
    assert int(kill2["note"].split()[0]) >= Plan.small().long_talk, report  # in long talk
    assert v.calls_in_queue_log > 0 and v.calls_in_ledger >= v.calls_in_queue_log, report
    assert (v.lost, v.differences) == (0, 0), report
    assert v.settled and v.open_calls == 0 and v.open_wrapups == 0, report
    assert v.talks_without_interval == 0, report
    assert v.ended_not_uploaded == 0 and v.uploaded == v.calls_in_ledger, report
    assert v.dropped_outside_restart == 0, report
