"""Rules for tests of real parts: skip with a reason locally, never skip in CI."""

from __future__ import annotations

import os

import pytest

from hotline.shell.simulate.ports import free_ports

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(why: str) -> None:
    """A real part cannot start: skip with the reason, or fail the run under CI=true."""
    if IN_CI:
        pytest.fail(f"real part unavailable under CI=true: {why}", pytrace=False)
    pytest.skip(why)


def free_port() -> int:
    """A free loopback port (see hotline/shell/simulate/ports.py)."""
    return free_ports(1)[0]


__all__ = ["IN_CI", "free_port", "free_ports", "unavailable"]
