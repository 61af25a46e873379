"""A redis-server on loopback, started by the rig when the center names no external Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hotline.logs import get_logger
from hotline.shell.simulate.processes import stop

log = get_logger(__name__)


class RedisServerError(RuntimeError):
    pass


@dataclass
class RedisServer:
    port: int
    directory: Path
    # requirepass: clients must AUTH (production always sets one: docker/compose.yaml).
    password: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.directory / f"redis-{self.port}.pid"

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError("redis-server is not installed (Debian package redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        # "hotline-redis" in the command line (the log file) lets `hotline pbx reap` find a
        # server left behind by a crashed run.
        # The password goes in on stdin as configuration ("-"), never on the command line.
        cmd = [binary, *(["-"] if self.password else []), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
               "--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no",
               "--pidfile", str(self.pidfile), "--protected-mode", "yes",
               "--logfile", str(self.directory / f"hotline-redis-{self.port}.log"),
               "--unixsocket", "", "--tcp-keepalive", "60", "--loglevel", "warning",
               "--always-show-logo", "no", "--set-proc-title", "no"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if self.password else
                                     subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if self.password:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f'requirepass "{self.password}"\n'.encode())
            self.proc.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RedisServerError(f"redis-server exited with {self.proc.returncode}")
            if _pong(self.port, self.password):
                log.info("redis up", port=self.port)
                return
            time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.proc is None:
            return
        stop(self.proc, 5)
        self.proc = None


def _pong(port: int, password: str = "") -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            if password:
                s.sendall(f"AUTH {password}\r\n".encode())
                if not s.recv(64).startswith(b"+OK"):
                    return False
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False
