"""docker/ as a province runs it, on podman: the images built offline (cached by a hash of what
goes into each), the compose file brought up with podman-compose, calls placed through it by
SIPp (IVR, queue, seat, survey), the ledger in the PostgreSQL container, the wallboard's API,
the metrics address and Asterisk's queue_log checked; the engine's container stopped while a
call is answered and started again, the call then replayed from queue_log in the shared
volume; everything brought down, nothing left running.

The first build on a machine makes the Debian bases (mmdebstrap, the rig's root for Asterisk)
and the images: minutes (BENCHMARKS.md); later runs reuse every image whose inputs did not
change."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from acd.history.models import Call, QueueCall
from asterisk_conf import rig
from hotline.shell.deploy import images
from hotline.shell.simulate.sipp import Sipp
from queue_stats.reconcile import differences
from tests.support.compose import Stack, podman_compose
from tests.support.metrics import sample, scrape
from tests.support.real import unavailable
from tests.support.rig import example_center_data
from tests.test_engine_shift import wait_until

pytestmark = pytest.mark.containers


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    for tool in ("podman", "runc", "mmdebstrap", "sipp"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (./run installs it)")
    if not os.path.exists(podman_compose()[0]):
        unavailable("podman-compose is not installed (the test extras)")
    try:
        return images.build_all("podman", asterisk_root=rig.build_root(progress=False))
    except (images.ImageError, rig.RigError) as exc:
        unavailable(f"the images could not be built: {exc}")
        raise


@pytest.fixture
def stack(built: dict[str, str], tmp_path) -> Iterator[Stack]:
    data = example_center_data()
    data["center"]["code"] = "dock"
    s = Stack(project=f"hl{os.getpid()}", workdir=tmp_path, center=data, image_refs=built,
              seat_secrets={"8001": "seat-8001-from-env", "8002": "seat-8002-from-env"})
    try:
        yield s
    finally:
        s.down()
        assert s.leftovers() == ([], []), "the stack left containers or volumes behind"


def _api(port: int, path: str, token: str) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def _calls(db, numbers: list[str]) -> dict[str, Call]:  # type: ignore[no-untyped-def]
    with Session(db) as s:
        return {c.caller_number: c for c in
                s.scalars(select(Call).where(Call.caller_number.in_(numbers)))}


def _stays(db, number: str) -> list[QueueCall]:  # type: ignore[no-untyped-def]
    with Session(db) as s:
        return list(s.scalars(select(QueueCall).join(Call).where(Call.caller_number == number)))


def test_the_compose_file_runs_a_center_on_podman(stack: Stack, tmp_path) -> None:
    center = stack.center
    node = center["nodes"][0]
    http, metrics = center["engine"]["http_port"], center["engine"]["metrics_port"]
    started = time.time()
    stack.compose("up", "-d")
    stack.wait_for_log("engine", "ami connected", 90)
    stack.wait_for_log("ivr", "ivr listening", 60)
    # Every service runs as a plain user; each healthcheck passes (podman 4.3 runs them on
    # request only: it has no systemd here to schedule them).
    users = {svc: stack.exec(svc, "id", "-un").strip()
             for svc in ("asterisk", "engine", "ivr", "redis", "postgres")}
    assert users == {"asterisk": "asterisk", "engine": "hotline", "ivr": "hotline",
                     "redis": "redis", "postgres": "postgres"}
    for svc in ("asterisk", "engine", "ivr", "redis", "postgres"):
        assert stack.podman("healthcheck", "run", stack.container(svc),
                            check=False).returncode == 0, svc
    assert stack.state("prepare")["ExitCode"] == 0
    # The seats' passwords came from the environment; credentials need no Asterisk root.
    creds = stack.hotline("pbx", "credentials")
    assert "seat 8001: username 8001  password seat-8001-from-env" in creds
    # The prompts were built by the prepare step and installed where Asterisk plays them.
    prompts = stack.exec("asterisk", "ls", f"/srv/hotline/{stack.instance}/prompts").split()
    assert "welcome.wav" in prompts and len(prompts) >= 10

    token = stack.hotline("engine", "token", "add", "wallboard", "--role", "supervisor").strip()
    db = create_engine(stack.database_url)
    sipp = Sipp("127.0.0.1", node["sip_port"])
    try:
        sipp.seat("8001", "seat-8001-from-env", ring_s=0.3, talk_s=2.0)
        stack.hotline("seat", "signin", "8001")
        # IVR 1 (highway) > 2, the seat answers, hangs up first; the caller rates 1.
        first = "13912340001"
        caller = sipp.callers("first", [first], digits=[(1.5, "1"), (2.0, "2"), (9.0, "1")],
                              hold_s=25)
        assert caller.wait(60) == 0, caller.errors()
        wait_until(lambda: first in _calls(db, [first]) and
                   _calls(db, [first])[first].survey_score == 1, 30,
                   lambda: {k: vars(v) for k, v in _calls(db, [first]).items()})
        call = _calls(db, [first])[first]
        assert (call.outcome, call.seat_id, call.ivr_path, call.node) == \
            ("answered", "8001", "1>2", "pbx1")
        assert [(s.queue, s.outcome) for s in _stays(db, first)] == [("highway", "answered")]
        live = _api(http, "/api/live", token)
        assert live["queues"]["highway"]["answered_today"] == 1
        assert live["seats"]["8001"]["state"] in ("ready", "wrapup")
        scraped = scrape(metrics)
        assert sample(scraped, "hotline_queue_answered_total", queue="highway") == 1

        # The engine's container stops; a call is answered meanwhile (IVR key 0: manual);
        # the engine starts again and replays it from queue_log in the shared volume.
        log_before = len(stack.logs("engine"))
        stack.compose("stop", "engine")
        assert stack.state("engine")["Running"] is False
        second = "13912340002"
        sipp.callers("second", [second], digits=[(1.5, "0")], hold_s=6).wait(60)
        stack.compose("start", "engine")
        stack.wait_for_log("engine", "ami connected", 90, after=log_before)
        wait_until(lambda: second in _calls(db, [second]), 30, lambda: _calls(db, [second]))
        stays = _stays(db, second)
        assert [(s.queue, s.outcome, s.seat_id) for s in stays] == \
            [("manual", "answered", "8001")]
        live = _api(http, "/api/live", token)
        assert live["queues"]["highway"]["answered_today"] == 1
        assert live["queues"]["manual"]["answered_today"] == 1
        assert live["nodes"]["pbx1"]["ami"] == "up"
    finally:
        sipp.close()
        db.dispose()
    # The ledger and Asterisk's queue_log (read from the volume) agree, call for call.
    queue_log = tmp_path / "queue_log"
    queue_log.write_text(stack.exec("asterisk", "cat",
                                    f"/srv/hotline/{stack.instance}/log/queue_log"))
    rows = [line.split("|") for line in queue_log.read_text().splitlines()]
    assert any(r[4] == "CONNECT" and r[1] == call.uniqueid for r in rows)
    assert differences(db, queue_log, started - 2, time.time()) == []
    db.dispose()
    stack.down()
    assert stack.leftovers() == ([], [])
