"""The SIP front on this machine: Kamailio (the host's Debian package) run from the
configuration asterisk_conf/kamailio.py renders, beside the rig's Asterisk nodes, for tests and
trials. A deployment runs the same configuration with systemd (hotline-front.service) or
wherever it keeps Kamailio.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from asterisk_conf import kamailio
from asterisk_conf.rig import RigError
from hotline.center import Center
from hotline.logs import get_logger

log = get_logger(__name__)


@dataclass
class Front:
    center: Center
    directory: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def paths(self) -> kamailio.FrontPaths:
        return kamailio.FrontPaths(str(self.directory.resolve()))

    @property
    def log_path(self) -> Path:
        return self.directory / "kamailio.log"

    def render(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in kamailio.render(self.center, self.paths).items():
            (self.directory / name).write_text(text, encoding="utf-8")

    def up(self, timeout: float = 20.0) -> None:
        """Render, check and start Kamailio; wait until it answers OPTIONS."""
        binary = shutil.which("kamailio")
        if binary is None:
            raise RigError("kamailio is not installed (Debian package kamailio)")
        self.render()
        check = subprocess.run([binary, "-c", "-f", self.paths.cfg], capture_output=True,
                               text=True)
        if check.returncode != 0:
            raise RigError(f"kamailio refused its configuration: {check.stderr[-2000:]}")
        out = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            [binary, "-f", self.paths.cfg, "-DD", "-E", "-P", self.paths.pidfile,
             "-Y", str(self.directory.resolve()), "-m", "64", "-M", "8"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.down()
                raise RigError("kamailio did not start: "
                               + self.log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        log.info("front up", sip=f"{self.front.bind}:{self.front.sip_port}",
                 nodes=[n.name for n in self.center.nodes])

    @property
    def front(self):  # type: ignore[no-untyped-def]
        return kamailio.front_of(self.center)

    def answers(self) -> bool:
        """Does the front answer an OPTIONS request (200)?"""
        f = self.front
        call_id = uuid.uuid4().hex
        msg = (f"OPTIONS sip:{f.bind}:{f.sip_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{{port}};branch=z9hG4bK{call_id[:12]}\r\n"
               f"From: <sip:probe@127.0.0.1>;tag={call_id[:8]}\r\n"
               f"To: <sip:{f.bind}:{f.sip_port}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.5)
            s.sendto(msg.replace("{port}", str(s.getsockname()[1])).encode(),
                     (f.bind, f.sip_port))
            try:
                reply = s.recv(4096)
            except OSError:
                return False
        return reply.startswith(b"SIP/2.0 200")

    def dispatcher(self) -> dict[str, str]:
        """Each node's state as the dispatcher sees it (kamcmd): {"pbx1": "AP", ...};
        A active, I inactive, P probing."""
        out = subprocess.run(["kamcmd", "-s", f"unix:{self.paths.ctl}", "dispatcher.list"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise RigError(f"kamcmd dispatcher.list failed: {out.stderr.strip()}")
        states: dict[str, str] = {}
        uri = ""
        for line in out.stdout.splitlines():
            line = line.strip()
            if line.startswith("URI:"):
                uri = line.split(":", 1)[1].strip()
            elif line.startswith("FLAGS:") and uri:
                node = next((n.name for n in self.center.nodes
                             if uri.endswith(f"{n.bind}:{n.sip_port}")), uri)
                states[node] = line.split(":", 1)[1].strip()
        return states

    def down(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            if proc is not None:
                proc.wait()
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.info("front down")
