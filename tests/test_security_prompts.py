"""Texts people write (the emergency broadcast, knowledge entries) never become espeak-ng
options and never stop the IVR: a hostile text is spoken exactly as written or refused, and
the caller is routed either way. Redis, which carries the broadcast, asks for a password,
which the IVR reads from its environment.

The reference for "spoken as written" is espeak-ng reading the same text from a file
(`-f FILE`), where it cannot be taken for an option: the IVR's recording must be that one,
byte for byte, and not espeak-ng speaking the file the text names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hotline.shell.redis_server import RedisServer
from ivr import prompts
from tests.support.ami_tap import AmiTap
from tests.support.real import free_port, unavailable
from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for
from tests.test_ivr_calls import IvrProcess

HOSTILE = ["-f/etc/hostname", "--help", "-w hotline-pwned.wav", "--stdin"]
TOO_LONG = "路" * 10_000


def reference(text: str, tmp: Path) -> bytes:
    """espeak-ng reading `text` from a file, converted as the IVR converts."""
    src, raw, out = tmp / "text.txt", tmp / "raw.wav", tmp / "out.wav"
    src.write_text(text, encoding="utf-8")
    subprocess.run(["espeak-ng", *prompts.VOICE, "-w", str(raw), "-f", str(src)], check=True,
                   capture_output=True)
    subprocess.run(["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed",
                    str(out)], check=True, capture_output=True)
    return out.read_bytes()


def _require_tools() -> None:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        unavailable("espeak-ng and sox are not installed (Debian packages)")


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_text_is_spoken_as_written(text: str, tmp_path: Path) -> None:
    _require_tools()
    out = tmp_path / "spoken.wav"
    prompts.synthesize(text, out)
    assert out.read_bytes() == reference(text, tmp_path)
    if text.startswith("-f") and Path(text[2:]).is_file():
        named = Path(text[2:]).read_text(errors="replace").strip()
        if named:  # not the file it names
            assert out.read_bytes() != reference(named, tmp_path)
    assert not Path("hotline-pwned.wav").exists()  # -w was not taken as an option


@pytest.mark.parametrize("text", [TOO_LONG, "", "   ", "停\x00车", "a\x1b[2Jb", "\u202eevil"])
def test_an_oversized_or_control_text_is_refused_before_espeak(text: str, tmp_path: Path,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(prompts, "_tools", lambda: pytest.fail("espeak-ng was run"))
    with pytest.raises(prompts.PromptError):
        prompts.synthesize(text, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


@pytest.fixture
def locked_redis(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """A Redis that wants a password; the password in the environment, as compose sets it."""
    password = "s3cret-for-redis-" + os.urandom(4).hex()
    server = RedisServer(free_port(), tmp_path / "redis", password=password)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - the real part is unavailable
        unavailable(f"Redis could not start: {exc}")
        raise
    monkeypatch.setenv("HOTLINE_REDIS_PASSWORD", password)
    try:
        yield server.url  # no password in the URL: it comes from the environment
    finally:
        server.stop()


@pytest.mark.asterisk
def test_hostile_broadcasts_are_spoken_or_refused_and_callers_still_routed(
        pbx: RunningPbx, sipp, locked_redis: str, tmp_path: Path, numbers) -> None:
    _require_tools()
    password = os.environ["HOTLINE_REDIS_PASSWORD"]
    # Without the password Redis refuses the operator's command; with it, it works.
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_REDIS_PASSWORD"}
    base = [sys.executable, "-m", "hotline.shell.cli", "--center", str(pbx.center_file),
            "ivr", "broadcast", "show", "--redis", locked_redis]
    refused = subprocess.run(base, env={**env, "HOTLINE_VAR": str(pbx.state)},
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and password not in refused.stderr
    ivr = IvrProcess(pbx, locked_redis)  # reads HOTLINE_REDIS_PASSWORD from its environment
    store = redis.Redis.from_url(locked_redis, password=password)
    key = f"hotline:{pbx.center.code}:broadcast"
    tap = AmiTap(**pbx.ami)
    texts = dict(zip(numbers(3), (HOSTILE[0], HOSTILE[1], TOO_LONG), strict=True))
    keys = [(3.0, "0")] + [(2.0, "0")] * 7
    try:
        for number, text in texts.items():
            # Written straight into Redis: the IVR must not trust what it finds there.
            store.set(key, text)
            sipp.callers(f"hostile-{number[-1]}", [number], digits=keys, hold_s=3)
            if text is not TOO_LONG:  # the next text only once this call has read its own
                wait_for(f"the broadcast spoken for {number}",
                         lambda t=text: (pbx.instance.prompts /
                                         f"{prompts.broadcast_name(t)}.wav").exists(), 60)
            else:
                tap.wait_for(timeout=60, UserEvent="HotlineIvr", CallerIDNum=number)
        got = {n: tap.wait_for(timeout=60, UserEvent="HotlineIvr", CallerIDNum=n)
               for n in texts}
    finally:
        tap.close()
        store.delete(key)
        store.close()
        ivr.stop()
    for number, text in texts.items():
        e = got[number]
        assert (e["Status"], e["Queue"], e["AgiStatus"]) == ("queue", "manual", "SUCCESS"), e
        assert e["Broadcast"] == ("" if text is TOO_LONG else "1"), (number, e)
    for text in HOSTILE[:2]:
        played = pbx.instance.prompts / f"{prompts.broadcast_name(text)}.wav"
        assert played.read_bytes() == reference(text, tmp_path)
    assert "text refused for the ivr" in "".join(ivr.lines)
