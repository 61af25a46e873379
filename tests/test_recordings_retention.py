"""Recordings are kept at least a year; the job says what it would delete before it does."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from recordings import retention


def test_only_recordings_older_than_a_year_go(tmp_path) -> None:
    now = time.time()
    old = tmp_path / "shenyang/20241101/pbx1-1.wav"
    young = tmp_path / "shenyang/20260101/pbx1-2.wav"
    for f, age in ((old, 400), (young, 300)):
        f.parent.mkdir(parents=True)
        f.write_bytes(b"RIFF")
        os.utime(f, (now - age * 86400, now - age * 86400))
    assert retention.plan(tmp_path, now=now).files == [old]
    with pytest.raises(ValueError, match="at least 365 days"):
        retention.plan(tmp_path, keep_days=30)
    dry = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "recordings", "retention", "--dir",
                          str(tmp_path)], capture_output=True, text=True)
    assert "1 recording(s)" in dry.stdout and "dry run" in dry.stdout and old.exists()
    assert retention.delete(tmp_path, now=now) == 1
    assert not old.exists() and young.exists()
