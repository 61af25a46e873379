"""The engine as its own process (`hotline engine run`), as a deployment runs it: tests can
kill it with SIGKILL and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hotline.shell.simulate.processes import stop
from tests.support.rig import RunningPbx


class EngineProcess:
    def __init__(self, pbx: RunningPbx, database_url: str, redis_url: str | None,
                 log_path: Path, extra_args: tuple[str, ...] = (),
                 center_file: Path | None = None) -> None:
        self.extra_args = extra_args
        self.center_file = center_file or pbx.center_file
        self.pbx = pbx
        self.database_url = database_url
        self.redis_url = redis_url
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.lines: list[str] = []

    def start(self, timeout: float = 20.0) -> None:
        cmd = [sys.executable, "-m", "hotline.shell.cli", "--center", str(self.center_file),
               "engine", "run", "--database", self.database_url,
               *(self.extra_args or ("--instance", self.pbx.instance.name))]
        cmd += ["--redis", self.redis_url] if self.redis_url else ["--no-redis"]
        env = {**os.environ, "HOTLINE_VAR": str(self.pbx.state),
               "HOTLINE_ASTERISK_ROOT": str(self.pbx.instance.root)}
        self.lines = []
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self.reader.start()
        try:
            self.wait_for("ami connected", timeout)
        except AssertionError:
            self.stop()  # a fixture that fails here has no teardown to stop it
            raise

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        with open(self.log_path, "ab") as log:
            for line in proc.stderr:
                log.write(line)
                self.lines.append(line.decode(errors="replace"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"engine exited {self.proc.returncode}: "
                                     + "".join(self.lines[-20:]))
            time.sleep(0.05)
        raise AssertionError(f"engine never logged {text!r}: " + "".join(self.lines[-20:]))

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self._close()

    def _close(self) -> None:
        self.reader.join(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def stop(self) -> None:
        stop(self.proc)
        if self.proc is not None:
            self._close()
