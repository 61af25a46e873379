"""The `hotline` command run in the test's own process (no interpreter to start), with its
output captured."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hotline.center import EXAMPLE


def in_process(capsys: Any, monkeypatch: Any) -> Callable[..., tuple[int, str, str]]:
    """`run(*args)` -> (exit code, stdout, stderr) of `hotline --center <example> *args`.
    Logging stays as the test run set it up: the command's own set-up would bind it to this
    test's captured stream, closed for the tests after."""
    from hotline import logs
    from hotline.shell.cli import main

    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        umask = os.umask(0o022)  # the command sets 077 for its process: this test run's
        os.umask(umask)
        try:
            code = main(["--center", str(EXAMPLE), "--log-level", "WARNING", *args])
        finally:
            os.umask(umask)  # ...never for the tests after it
        out = capsys.readouterr()
        return code, out.out, out.err
    return run
