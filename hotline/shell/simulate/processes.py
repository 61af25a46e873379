"""Stopping a child process: politely, then firmly. One place for every service we start."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str] | None,
         timeout: float = 10.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL; always reaped."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
