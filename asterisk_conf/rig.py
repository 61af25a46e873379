"""The Asterisk rig: a Debian sid root with Asterisk 22, and instances of it run by chroot.

The root is built once with mmdebstrap into the user's cache directory and reused. Each node of
a center runs as one *instance*: its own config, run, log and spool directories under
``<root>/srv/hotline/<instance>``, its own ports, so several can run side by side (two nodes
of one center, or tests next to a demo). Asterisk shares the host's network; AMI, SIP and
FastAGI meet on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asterisk_conf import tls
from asterisk_conf.render import InstancePaths, render_node
from hotline import paths
from hotline import secrets as secrets_mod
from hotline.center import Center, Node
from hotline.logs import get_logger

log = get_logger(__name__)

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm", "python3")
SUITE = "sid"


class RigError(RuntimeError):
    """The rig could not do what was asked; the message says why."""


def root_is_built(root: Path) -> bool:
    return (root / "usr/sbin/asterisk").exists() and (root / ".hotline-root").exists()


def build_root(root: Path | None = None, progress: bool = True) -> Path:
    """Build the Asterisk root with mmdebstrap unless a finished one is cached."""
    root = root or paths.asterisk_root()
    if root_is_built(root):
        return root
    if shutil.which("mmdebstrap") is None:
        raise RigError("mmdebstrap is not installed (Debian package mmdebstrap)")
    if os.geteuid() != 0:
        raise RigError("building the Asterisk root needs root (mmdebstrap into a chroot)")
    tmp = root.with_name(root.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["mmdebstrap", "--variant=apt", "--aptopt=Acquire::Check-Valid-Until \"false\"",
           f"--include={','.join(PACKAGES)}", SUITE, str(tmp)]
    log.info("building asterisk root", root=str(root), suite=SUITE)
    started = time.monotonic()
    result = subprocess.run(cmd, stdout=None if progress else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RigError(f"mmdebstrap failed ({result.returncode}): {result.stderr[-2000:]}")
    (tmp / ".hotline-root").write_text(",".join(PACKAGES) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    log.info("asterisk root built", seconds=round(time.monotonic() - started, 1))
    return root


def asterisk_version(root: Path) -> str:
    out = subprocess.run(["chroot", str(root), "/usr/sbin/asterisk", "-V"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


# What else an instance needs once its config is written (the IVR's prompts, the classic AGI
# scripts): handed in by whoever starts the rig (hotline.shell.wiring.rig_installers), so the
# rig knows nothing of the packages above it.
Installer = Callable[["Instance"], None]


@dataclass
class Instance:
    """One running (or runnable) Asterisk of one node."""

    center: Center
    node: Node
    root: Path
    name: str
    secrets: secrets_mod.Secrets
    inner: InstancePaths = field(init=False)
    # Extra config files written after rendering (e.g. a benchmark's extensions_local.conf).
    extra_config: dict[str, str] = field(default_factory=dict)
    installers: tuple[Installer, ...] = ()
    # The state directory (secrets, the TLS certificate); None: the machine's default.
    state: Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.inner = InstancePaths(f"/srv/hotline/{self.name}")

    # host-side paths
    def host(self, inner_path: str) -> Path:
        return self.root / inner_path.lstrip("/")

    @property
    def base(self) -> Path:
        return self.host(self.inner.base)

    @property
    def queue_log(self) -> Path:
        return self.host(self.inner.log) / "queue_log"

    @property
    def messages_log(self) -> Path:
        return self.host(self.inner.log) / "messages.log"

    @property
    def security_log(self) -> Path:
        """Refused SIP requests (res_security_log): what fail2ban reads."""
        return self.host(self.inner.security_log)

    @property
    def console_log(self) -> Path:
        return self.base / "console.log"

    @property
    def recordings(self) -> Path:
        return self.host(self.inner.recordings)

    @property
    def prompts(self) -> Path:
        return self.host(self.inner.prompts)

    @property
    def pidfile(self) -> Path:
        return self.base / "asterisk.hostpid"

    @property
    def ami_secret(self) -> str:
        return self.secrets.ami_secret(self.node.name)

    # lifecycle
    def render(self, system_hosts: bool = True, shared_group: bool = False) -> None:
        """Write this node's config into the instance directory (replacing what was there).

        `system_hosts`: also make the machine's name resolve inside the root (the rig's own
        root; not for a deployment's tree). `shared_group`: for a deployment where Asterisk
        runs as another user than the one rendering (docker/, systemd): the directories are
        group-writable and set-group-id, the secret files readable by the group, so an
        `asterisk` user in the renderer's group (`hotline`) reads the config and writes its
        logs, spool and recordings, and the engine reads them back."""
        if not shared_group:
            self._render(system_hosts, shared_group)
            return
        # The command's 077 umask would leave every file its user's alone; the group reads.
        old = os.umask(0o027)
        try:
            self._render(system_hosts, shared_group)
        finally:
            os.umask(old)

    def _render(self, system_hosts: bool, shared_group: bool) -> None:
        etc = self.host(self.inner.etc)
        shutil.rmtree(etc, ignore_errors=True)
        dirs = (self.base, etc, self.host(self.inner.run), self.host(self.inner.log),
                self.host(self.inner.spool), self.host(self.inner.lib),
                self.host(self.inner.moh), self.recordings, self.prompts, self.base / "cache")
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
            if shared_group:
                os.chmod(d, 0o2770)
        files = render_node(self.center, self.node, self.secrets, self.inner)
        for name, text in {**files, **self.extra_config}.items():
            (etc / name).write_text(text, encoding="utf-8")
        secret_mode = 0o640 if shared_group else 0o600
        os.chmod(etc / "pjsip.conf", secret_mode)
        os.chmod(etc / "manager.conf", secret_mode)
        if self.node.tls_port:
            crt, key = tls.ensure(self.state or paths.state_dir(), self.center, self.node)
            keys = self.host(self.inner.keys)
            tls.install(crt, key, keys)
            if shared_group:  # Asterisk, in the renderer's group, reads its key
                os.chmod(keys, 0o2750)
                os.chmod(keys / "sip.key", secret_mode)
        if system_hosts:
            _ensure_hostname_resolves(self.root)
        for install in self.installers:
            install(self)
        hold = self.host(self.inner.moh) / "hold.wav"
        if not hold.exists():
            _write_hold_music(hold)

    def _asterisk(self, *args: str) -> list[str]:
        return ["chroot", str(self.root), "/usr/sbin/asterisk",
                "-C", f"{self.inner.etc}/asterisk.conf", *args]

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def up(self, timeout: float = 30.0) -> None:
        """Render, start Asterisk in the background and wait for an AMI login."""
        if self.running():
            raise RigError(f"instance {self.name} is already running (pid {self.pid()})")
        for port in (self.node.ami_port, self.node.sip_port, self.node.tls_port):
            if port:
                _check_port_free(self.node.bind, port, udp=(port == self.node.sip_port))
        self.render()
        out = open(self.console_log, "ab")
        proc = subprocess.Popen(self._asterisk("-f", "-n", "-q"), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self._proc = proc
        self.pidfile.write_text(str(proc.pid))
        try:
            asyncio.run(wait_for_ami(self.node.bind, self.node.ami_port, self.node.ami_user,
                                     self.ami_secret, timeout, proc))
        except Exception:
            self.down()
            raise
        log.info("asterisk up", instance=self.name, ami_port=self.node.ami_port,
                 sip_port=self.node.sip_port, pid=proc.pid)

    def cli(self, command: str, timeout: float = 15.0) -> str:
        """Run one Asterisk CLI command through the control socket."""
        result = subprocess.run(self._asterisk("-rx", command), capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RigError(f"asterisk -rx {command!r} failed: {result.stderr.strip()}")
        return result.stdout

    def down(self, timeout: float = 10.0) -> None:
        """Stop Asterisk, politely first; leave no process behind."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            if self._proc is not None:
                self._proc.wait()
                self._proc = None
            return
        try:
            self.cli("core stop now", timeout=5)
        except (RigError, subprocess.TimeoutExpired):
            pass
        if not _wait_gone(pid, timeout):
            os.killpg(pid, signal.SIGTERM) if _is_group_leader(pid) else os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, 3):
                os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, 3)
        self.pidfile.unlink(missing_ok=True)
        if self._proc is not None:
            self._proc.wait()
            self._proc = None
        log.info("asterisk down", instance=self.name)


def _ensure_hostname_resolves(root: Path) -> None:
    """Asterisk looks up the machine's own name; inside the root that must not go to DNS."""
    hosts = root / "etc/hosts"
    name = socket.gethostname()
    text = hosts.read_text() if hosts.exists() else ""
    if not any(name in line.split()[1:] for line in text.splitlines() if line.strip()):
        hosts.write_text(text + ("" if text.endswith("\n") or not text else "\n")
                         + f"127.0.1.1 {name}\n127.0.0.1 localhost\n")


def _write_hold_music(path: Path, seconds: int = 8) -> None:
    """A soft two-tone chime at 8 kHz, so a waiting caller hears that the line is alive."""
    rate = 8000
    frames = bytearray()
    for i in range(rate * seconds):
        t = i / rate
        phase = t % 2.0
        tone = 523.25 if phase < 1.0 else 659.25
        envelope = math.exp(-3.0 * (phase % 1.0))
        frames += struct.pack("<h", int(3000 * envelope * math.sin(2 * math.pi * tone * t)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _check_port_free(host: str, port: int, udp: bool = False) -> None:
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Asterisk binds
        try:
            s.bind((host, port))
        except OSError:
            raise RigError(f"{'UDP' if udp else 'TCP'} port {host}:{port} is already in use") from None


async def wait_for_ami(host: str, port: int, user: str, secret: str, timeout: float,
                       proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until the AMI accepts a login with these credentials."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RigError(f"asterisk exited with {proc.returncode} while starting")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
        except (TimeoutError, OSError) as exc:
            last = str(exc) or type(exc).__name__
            await asyncio.sleep(0.1)
            continue
        try:
            await asyncio.wait_for(reader.readline(), 2)  # banner
            writer.write(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
                         "Events: off\r\n\r\n".encode())
            await writer.drain()
            reply = b""
            while not reply.endswith(b"\r\n\r\n"):
                chunk = await asyncio.wait_for(reader.read(1024), 2)
                if not chunk:
                    break
                reply += chunk
            if b"Response: Success" in reply:
                writer.write(b"Action: Logoff\r\n\r\n")
                await writer.drain()
                return
            last = reply.decode(errors="replace").strip()
            if b"Authentication failed" in reply:
                raise RigError(f"AMI refused the login of {user!r}: {last}")
        except (TimeoutError, OSError) as exc:
            last = str(exc) or type(exc).__name__
        finally:
            writer.close()
        await asyncio.sleep(0.1)
    raise RigError(f"AMI on {host}:{port} did not accept a login within {timeout:.0f}s ({last})")


def instance(center: Center, node: str | None = None, name: str | None = None,
             root: Path | None = None, state: Path | None = None,
             installers: tuple[Installer, ...] = ()) -> Instance:
    """The instance of a node (default the first), named `<center>-<node>` unless told."""
    n = center.node(node)
    root = root or paths.asterisk_root()
    if not root_is_built(root):
        raise RigError(f"no Asterisk root at {root}: run `hotline pbx build` first")
    secrets = secrets_mod.load_or_create(center, state or paths.state_dir())
    return Instance(center=center, node=n, root=root, name=name or f"{center.code}-{n.name}",
                    secrets=secrets, installers=installers, state=state)


RUN_VARIABLE = "HOTLINE_RUN"
RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _of_run(entry: Path, run: str) -> bool:
    """Was this process started within the run `run` ("" = any): its environment carries
    HOTLINE_RUN=run, inherited from the `./run tests` that set it."""
    if not run:
        return True
    try:
        return f"{RUN_VARIABLE}={run}".encode() in (entry / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def running_asterisks(root: Path, run: str = "") -> list[int]:
    """PIDs of every Asterisk process whose root directory is this root (of the run `run`
    only, when given)."""
    found = []
    target = root.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _of_run(entry, run):
            continue
        try:
            if Path(os.readlink(entry / "root")).resolve() != target:
                continue
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        if exe.endswith("/asterisk"):
            found.append(int(entry.name))
    return found


def reap(root: Path, run: str = "") -> list[int]:
    """Kill every Asterisk left running in this root (after a crashed test run); with `run`,
    only those of that run (another run's, or a demo's, are left alone)."""
    pids = running_asterisks(root, run)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        _wait_gone(pid, 3)
    return pids


def reap_named(names: tuple[str, ...] | None, marker: bytes = b"",
               run: str = "") -> list[int]:
    """Kill processes by executable name (None: any executable, then by the marker alone)
    and, if given, a marker in their command line and the run that started them."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid() \
                or not _of_run(entry, run):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if (names is None or comm in names) and (not marker or marker in cmdline):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except ProcessLookupError:
                pass
    return killed
