"""The quality inspector's view (/inspect): its queries on the ledger (SQLite and the real
PostgreSQL), then the page on the running stack: SIPp calls answered by a SIPp seat with
recording on, the recording played in Debian's chromium, the day's sample, the seat's timeline;
the roles and the refusal of paths outside the recordings directory over plain HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from acd.errors import Refused
from acd.history.models import Call, SeatInterval
from acd.web.errors import status_of
from acd.web.inspector import Inspector
from hotline import center as center_mod
from tests import test_web
from tests.support.browser import ARTIFACTS, launch, log_in, require_chromium
from tests.support.waiting import wait_for
from tests.test_web import Client

stack = test_web.stack  # the running engine with its web users, as tests/test_web.py has it
CENTER = center_mod.load(center_mod.EXAMPLE)
TZ, UTC = ZoneInfo(CENTER.timezone), ZoneInfo("UTC")
DAY = date(2026, 3, 10)


def utc(local: str) -> datetime:
    """A time of the center's day, as the ledger stores it (naive UTC)."""
    return datetime.fromisoformat(local).replace(tzinfo=TZ).astimezone(UTC).replace(tzinfo=None)


def a_call(uid: str, started: str, *, seat: str = "8001", queue: str = "manual",
           answered: bool = True, recording: str | None = None, center: str = CENTER.code,
           node: str = "pbx1") -> Call:
    t = utc(started)
    return Call(uniqueid=uid, linkedid=uid, node=node, center=center, caller_number="13912345678",
                started_at=t, first_queue=queue, final_queue=queue,
                outcome="answered" if answered else "abandoned",
                seat_id=seat if answered else "", answered_at=t + timedelta(seconds=8)
                if answered else None, wait_s=8.0, talk_s=60.0 if answered else None,
                recording=f"{center}/{t:%Y%m%d}/{uid}.wav" if recording is None else recording)


@pytest.fixture
def inspector(db_engine, tmp_path):  # type: ignore[no-untyped-def]
    """An Inspector on a fresh ledger whose node records into tmp_path/monitor."""
    rec = tmp_path / "monitor"
    rec.mkdir()
    return Inspector(CENTER, sessionmaker(db_engine), {"pbx1": rec}, b"k" * 32)


def write_wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF0000WAVE")


# --- the queries, on SQLite and PostgreSQL -----------------------------------------------------

def test_recordings_of_a_local_day_by_seat_and_queue(inspector) -> None:
    with inspector.sessions.begin() as s:
        s.add_all([
            a_call("pbx1-1.1", "2026-03-10T00:30:00"),  # 16:30 UTC the day before: still the 10th
            a_call("pbx1-1.2", "2026-03-09T23:59:00"),  # the 9th
            a_call("pbx1-1.3", "2026-03-10T23:59:59", seat="8002", queue="highway"),
            a_call("pbx1-1.4", "2026-03-10T10:00:00", recording=""),  # not recorded
            a_call("pbx1-1.5", "2026-03-10T11:00:00", center="huludao"),  # another center
        ])
    write_wav(inspector.recordings["pbx1"] / "shenyang/20260309/pbx1-1.1.wav")
    got = inspector.list_recordings(DAY)
    assert [r["uniqueid"] for r in got] == ["pbx1-1.1", "pbx1-1.3"]
    assert got[0]["started"] == "2026-03-10T00:30:00+08:00"
    assert got[0]["caller"] == "139****5678"  # an inspector needs the call, not the number
    assert [r["file"] for r in got] == [True, False]
    assert [r["uniqueid"] for r in inspector.list_recordings(DAY, seat="8002")] == ["pbx1-1.3"]
    assert [r["uniqueid"] for r in inspector.list_recordings(DAY, queue="manual")] == ["pbx1-1.1"]
    assert [r["uniqueid"] for r in inspector.list_recordings(DAY - timedelta(days=1))] == \
        ["pbx1-1.2"]


def test_the_sample_is_reproducible_and_only_answered_recorded_calls(inspector) -> None:
    with inspector.sessions.begin() as s:
        for i in range(20):
            s.add(a_call(f"pbx1-2.{i}", f"2026-03-10T09:{i:02d}:00"))
        for i in range(10):
            s.add(a_call(f"pbx1-3.{i}", f"2026-03-10T10:{i:02d}:00", answered=False))
            s.add(a_call(f"pbx1-4.{i}", f"2026-03-10T11:{i:02d}:00", recording=""))
    first = [r["uniqueid"] for r in inspector.sample(DAY, 5)]
    assert len(first) == 5 and all(u.startswith("pbx1-2.") for u in first)
    # Another inspector (another process of the same server) sees the same sample.
    again = Inspector(CENTER, inspector.sessions, inspector.recordings, b"k" * 32)
    assert [r["uniqueid"] for r in again.sample(DAY, 5)] == first
    assert [r["uniqueid"] for r in again.sample(DAY, 50)] == [f"pbx1-2.{i}" for i in range(20)]
    # Another server secret draws another sample: a seat cannot work out which calls are drawn.
    other = Inspector(CENTER, inspector.sessions, inspector.recordings, b"x" * 32)
    assert [r["uniqueid"] for r in other.sample(DAY, 5)] != first
    # A call later in the day changes the sample by at most the one call it displaces.
    with inspector.sessions.begin() as s:
        s.add(a_call("pbx1-2.99", "2026-03-10T20:00:00"))
    later = [r["uniqueid"] for r in inspector.sample(DAY, 5)]
    assert len(set(later) - set(first)) <= 1 and len(later) == 5
    assert inspector.sample(DAY - timedelta(days=1), 5) == []


def test_a_recording_is_served_only_from_inside_the_recordings_dir(inspector, tmp_path) -> None:
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    rec = inspector.recordings["pbx1"]
    (rec / "shenyang").mkdir()
    (rec / "shenyang/link.wav").symlink_to(outside)
    with inspector.sessions.begin() as s:
        s.add_all([
            a_call("pbx1-5.1", "2026-03-10T09:00:00"),
            a_call("pbx1-5.2", "2026-03-10T09:01:00", recording="../secret.wav"),
            a_call("pbx1-5.3", "2026-03-10T09:02:00", recording=str(outside)),
            a_call("pbx1-5.4", "2026-03-10T09:03:00", recording="shenyang/link.wav"),
            a_call("pbx1-5.5", "2026-03-10T09:04:00", recording="shenyang/x.txt"),
            a_call("pbx1-5.6", "2026-03-10T09:05:00", recording=""),
            a_call("pbx1-5.7", "2026-03-10T09:06:00", center="huludao"),
            a_call("pbx1-5.8", "2026-03-10T09:07:00", node="pbx9"),  # a node it has no dir for
        ])

    def status(uid: str) -> int:
        try:
            inspector.recording_file(uid)
        except Refused as exc:
            return status_of(exc)
        return 200

    assert status("pbx1-5.1") == 404  # in the ledger, not (yet) on disk
    good = rec / "shenyang/20260310/pbx1-5.1.wav"
    write_wav(good)
    assert inspector.recording_file("pbx1-5.1") == good.resolve()
    assert [status(f"pbx1-5.{i}") for i in range(2, 9)] == [403, 403, 403, 403, 404, 404, 404]
    for bad in ("../etc/passwd", "..", "a/b", "", "x" * 65):
        assert status(bad) == 400, bad


def test_a_seats_timeline_clipped_to_the_day_with_totals(inspector) -> None:
    def seg(state: str, start: str, end: str | None, reason: str = "",
            seat: str = "8001") -> SeatInterval:
        return SeatInterval(seat_id=seat, center=CENTER.code, state=state, reason=reason,
                            started_at=utc(start), ended_at=utc(end) if end else None)

    with inspector.sessions.begin() as s:
        s.add_all([
            seg("ready", "2026-03-09T23:00:00", "2026-03-10T00:10:00"),  # from the day before
            seg("busy", "2026-03-10T00:10:00", "2026-03-10T00:25:00", "meal"),
            seg("on_call", "2026-03-10T00:25:00", "2026-03-10T00:27:30"),
            seg("wrapup", "2026-03-10T00:27:30", "2026-03-10T00:27:45"),
            seg("busy", "2026-03-10T00:27:45", None, "training"),  # left open: engine stopped
            seg("busy", "2026-03-10T09:00:00", "2026-03-10T09:05:00", "meal"),
            seg("ready", "2026-03-10T23:50:00", None),  # still open: ends now (or at midnight)
            seg("on_call", "2026-03-10T10:00:00", "2026-03-10T10:01:00", seat="8002"),
        ])
    t = inspector.timeline("8001", DAY, now=utc("2026-03-11T08:00:00"))
    assert t["day_start"] == "2026-03-10T00:00:00+08:00" and t["day_s"] == 86400
    assert [(x["state"], x["start"][11:19], x["end"][11:19]) for x in t["segments"]] == [
        ("ready", "00:00:00", "00:10:00"), ("busy", "00:10:00", "00:25:00"),
        ("on_call", "00:25:00", "00:27:30"), ("wrapup", "00:27:30", "00:27:45"),
        ("busy", "00:27:45", "09:00:00"), ("busy", "09:00:00", "09:05:00"),
        ("ready", "23:50:00", "00:00:00")]
    assert t["totals"]["on_call"] == 150 and t["totals"]["wrapup"] == 15
    assert t["totals"]["ready"] == 600 + 600
    assert t["busy_by_reason"] == {"meal": 900 + 300, "training": 8 * 3600 + 32 * 60 + 15}
    assert sum(t["totals"].values()) == sum(x["to_s"] - x["from_s"] for x in t["segments"])
    today = inspector.timeline("8001", DAY, now=utc("2026-03-10T23:55:00"))
    assert today["segments"][-1]["end"][11:19] == "23:55:00" and today["segments"][-1]["open"]
    assert inspector.timeline("8003", DAY, now=utc("2026-03-11T08:00:00"))["segments"] == []


def test_input_is_checked_with_clear_4xx(inspector) -> None:
    def refused(fn, *args) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        with pytest.raises(Refused) as err:
            fn(*args)
        return status_of(err.value), str(err.value)

    assert refused(inspector.day, "2026-13-01")[0] == 400
    assert refused(inspector.day, "20260310") == (400, "date must be YYYY-MM-DD, got '20260310'")
    assert refused(inspector.day, "tomorrow")[0] == 400
    tomorrow = (datetime.now(TZ).date() + timedelta(days=1)).isoformat()
    assert "in the future" in refused(inspector.day, tomorrow)[1]
    assert inspector.day("") == datetime.now(TZ).date()
    assert refused(inspector.seat, "9999") == (404, "no seat '9999' in center shenyang")
    assert refused(inspector.seat, "", True)[0] == 400
    assert refused(inspector.queue, "rail")[0] == 404
    for n in ("0", "51", "x", "-1", "2.5"):
        assert refused(inspector.count, n)[0] == 400, n
    assert inspector.count(None) == 5 and inspector.count("50") == 50


# --- the running stack: HTTP and chromium ------------------------------------------------------

def get(c: Client, path: str) -> tuple[int, bytes]:
    try:
        with c.opener.open(f"http://127.0.0.1:{c.port}{path}") as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get_json(c: Client, path: str) -> dict:  # type: ignore[type-arg]
    code, body = get(c, path)
    assert code == 200, (path, code, body)
    return json.loads(body)


@pytest.mark.asterisk
def test_roles_traversal_and_bad_input_over_http(stack, ledger) -> None:
    port, pbx = stack
    _, engine = ledger
    today = datetime.now(TZ).date()
    started = datetime.now(UTC).replace(tzinfo=None)
    rec_dir = pbx.instance.recordings
    with sessionmaker(engine).begin() as s:
        s.add(Call(uniqueid="pbx1-9.1", linkedid="pbx1-9.1", node="pbx1", center=pbx.center.code,
                   started_at=started, recording="../../../../../../../../etc/passwd"))
        s.add(Call(uniqueid="pbx1-9.2", linkedid="pbx1-9.2", node="pbx1", center=pbx.center.code,
                   started_at=started, recording=f"{pbx.center.code}/none/pbx1-9.2.wav"))
        s.add(Call(uniqueid="pbx1-9.3", linkedid="pbx1-9.3", node="pbx1", center=pbx.center.code,
                   started_at=started, recording=f"{pbx.center.code}/t/pbx1-9.3.wav"))
    write_wav(rec_dir / pbx.center.code / "t/pbx1-9.3.wav")
    try:
        routes = ["/inspect", "/web/recordings/pbx1-9.3", "/web/inspect/recordings",
                  "/web/inspect/sample", "/web/inspect/timeline?seat=8001",
                  "/web/inspect/center"]
        for role, want in (("seat", 403), ("analyst", 403), ("inspector", 200),
                           ("supervisor", 200), ("admin", 200)):
            c = Client(port)
            assert c.login(role) == 200
            assert [get(c, r)[0] for r in routes] == [want] * len(routes), role
        assert get(Client(port), "/web/recordings/pbx1-9.3")[0] == 401
        c = Client(port)
        c.login("inspector")
        code, body = get(c, "/web/recordings/pbx1-9.3")
        assert code == 200 and body == b"RIFF0000WAVE"
        # A stored path that leaves the recordings directory is refused, and nothing read.
        code, body = get(c, "/web/recordings/pbx1-9.1")
        assert code == 403 and b"root:" not in body and b"not under" in body
        assert get(c, "/web/recordings/pbx1-9.2")[0] == 404  # the file is missing
        assert get(c, "/web/recordings/pbx1-0.0")[0] == 404  # no such call
        # A name from the URL: the handler refuses what is not a call id (aiohttp hands it
        # "../../../etc/passwd" decoded); what does not match the route is the router's 404.
        code, body = get(c, "/web/recordings/..%2F..%2F..%2Fetc%2Fpasswd")
        assert code == 400 and b"not a call id" in body, (code, body)
        for path in ("/web/recordings/%2E%2E", "/web/recordings/../../../etc/passwd",
                     "/web/recordings/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"):
            code, body = get(c, path)
            assert code in (400, 404) and b"root:" not in body, (path, code)
        for path, code in (("/web/inspect/recordings?date=2026-02-30", 400),
                           ("/web/inspect/recordings?date=yesterday", 400),
                           (f"/web/inspect/recordings?date={today + timedelta(days=1)}", 400),
                           ("/web/inspect/recordings?seat=9999", 404),
                           ("/web/inspect/recordings?queue=rail", 404),
                           ("/web/inspect/sample?n=0", 400), ("/web/inspect/sample?n=lots", 400),
                           ("/web/inspect/timeline", 400),
                           ("/web/inspect/timeline?seat=9999", 404)):
            got, body = get(c, path)
            assert got == code and json.loads(body)["error"], (path, got, body)
        # The ledger holds this test's calls alone (its replay starts at the test's start).
        listed = {r["uniqueid"]: r["file"] for r in get_json(
            c, f"/web/inspect/recordings?date={today}")["recordings"]}
        assert listed == {"pbx1-9.1": False, "pbx1-9.2": False, "pbx1-9.3": True}
    finally:
        (rec_dir / pbx.center.code / "t/pbx1-9.3.wav").unlink()



@pytest.mark.asterisk
def test_inspector_plays_a_recording_and_sees_the_sample_and_timeline(stack, sipp,
                                                                    ledger, numbers) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright
    port, pbx = stack
    _, engine = ledger
    assert pbx.center.recording, "the test center records its calls"
    base = f"http://127.0.0.1:{port}"
    boss = Client(port)
    assert boss.login("supervisor") == 200
    sipp.seat("8002", pbx.seat_password("8002"), ring_s=0.3, talk_s=3)
    assert boss.post("/web/seats/8002/signin", {}) == 200
    numbers = numbers(3)
    sessions = sessionmaker(engine)

    def ended_with_wrapup(count: int) -> list[Call]:
        with sessions() as s:
            calls = list(s.scalars(select(Call).where(
                Call.caller_number.in_(numbers), Call.ended_at.is_not(None))))
            ok = [c for c in calls if c.answered_at and c.recording and c.seat_id == "8002"]
            wrapups = s.scalars(select(SeatInterval).where(
                SeatInterval.seat_id == "8002", SeatInterval.state == "wrapup",
                SeatInterval.ended_at.is_not(None))).all()
            return ok if len(ok) >= count and len(wrapups) >= count else []

    # One call at a time: SIPp's caller sends its few seconds of audio right after the answer,
    # so a caller left waiting would be bridged in silence and recorded as an empty WAV.
    answered: list[Call] = []
    for count, number in enumerate(numbers, 1):
        sipp.callers(f"inspect-{count}", [number], hold_s=40)
        answered = wait_for(f"call {count} answered, recorded, ended and wrapped up",
                              partial(ended_with_wrapup, count), 60)
    files = {c.uniqueid: pbx.instance.recordings / c.recording for c in answered}

    def sizes() -> dict[str, int | None]:
        return {str(f): f.stat().st_size if f.is_file() else None for f in files.values()}
    try:
        wait_for("the recordings on disk", lambda: all(
            (n or 0) > 44 for n in sizes().values()), 20)
    except AssertionError:
        raise AssertionError(f"recordings no longer than a WAV header: {sizes()}") from None

    # The sample: the same on two requests, only answered calls with a recording.
    insp = Client(port)
    assert insp.login("inspector") == 200
    first = get_json(insp, "/web/inspect/sample?n=2")["sample"]
    assert first == get_json(insp, "/web/inspect/sample?n=2")["sample"]
    assert len(first) == 2 and {r["uniqueid"] for r in first} <= set(files)
    everyone = get_json(insp, "/web/inspect/sample?n=50")["sample"]
    assert {r["uniqueid"] for r in everyone} == set(files)  # this test's three calls
    with sessions() as s:
        for r in everyone:
            c = s.get(Call, r["uniqueid"])
            assert c is not None and c.answered_at and c.seat_id and c.recording, r
    timeline = get_json(insp, "/web/inspect/timeline?seat=8002")
    assert timeline["totals"]["on_call"] > 0 and timeline["totals"]["wrapup"] > 0

    with sync_playwright() as p:
        browser = launch(p, "--autoplay-policy=no-user-gesture-required")
        try:
            # the page's own CSP applies
            page = log_in(browser, base, "inspector", "/inspect", bypass_csp=False)
            page.wait_for_selector("body[data-ready='1']")
            assert page.text_content("#msg") == ""
            rows = page.locator("#recordings tbody tr")
            listed = rows.evaluate_all("rs => rs.map(r => r.dataset.uniqueid)")
            assert set(listed) == set(files)
            uid = answered[0].uniqueid
            page.evaluate("""() => { window.__played = false; document.getElementById('player')
                .addEventListener('playing', () => { window.__played = true; }); }""")
            page.click(f"#recordings tr[data-uniqueid='{uid}'] button.play")
            page.wait_for_function("""() => { const a = document.getElementById('player');
                return a.duration > 0 && (window.__played || a.readyState >= 2) || a.error; }""",
                                   timeout=15000)
            state = page.evaluate("""() => { const a = document.getElementById('player');
                return {duration: a.duration, ready: a.readyState, played: window.__played,
                        src: a.currentSrc, error: a.error && a.error.code}; }""")
            assert state["error"] is None and state["duration"] > 0, state
            assert state["played"] or state["ready"] >= 2, state
            assert state["src"].endswith(f"/web/recordings/{uid}")
            page.screenshot(path=str(ARTIFACTS / "inspector-recordings.png"), full_page=True)
            # The page's sample is the API's.
            page.fill("#n", "2")
            page.click("#sample-form button[type=submit]")
            # (a function, not an expression: the page's CSP forbids eval)
            page.wait_for_function(
                "() => document.querySelectorAll('#sample tbody tr').length === 2")
            shown = page.locator("#sample tbody tr").evaluate_all(
                "rs => rs.map(r => r.dataset.uniqueid)")
            assert shown == [r["uniqueid"] for r in first]
            # The seat that answered: its day as bars, on-call and wrap-up among them.
            page.select_option("#tl-seat", "8002")
            page.click("#timeline-form button[type=submit]")
            page.wait_for_selector("#timeline .seg[data-state='on_call']")
            page.wait_for_selector("#timeline .seg[data-state='wrapup']")
            assert page.locator("#segments tbody tr[data-state='on_call']").count() >= 2
            assert page.text_content("#tl-range").startswith("8002")
            page.locator("#timeline-section").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "inspector-timeline.png"), full_page=True)
        finally:
            browser.close()
