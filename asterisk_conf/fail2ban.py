"""Whoever keeps failing at SIP is banned for a while: fail2ban (Debian's package) reads the
node's security log and drops the address at the firewall (nftables) on the node's SIP ports.

Asterisk writes every refused request into `log/security.log` (res_security_log): a caller
claiming to be the carrier from the wrong address (InvalidAccountID), a REGISTER or call with a
wrong password (ChallengeResponseFailed, InvalidPassword), a request from outside an
endpoint's ACL (FailedACL). Debian's `asterisk` filter matches these lines. After
`security.ban_failures` of them within `security.ban_window_s` from one address, that address
is dropped for `security.ban_s` on this node's SIP ports only; the carrier's addresses
(`pstn_addresses`) are never banned.

- `jail_conf`: the jail for one instance, for /etc/fail2ban/jail.d/ (`hotline pbx fail2ban`).
- `Fail2ban`: a private fail2ban server for one jail (its own configuration directory,
  socket and nftables table), as the rig's tests run it; `stop()` lifts its bans.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from asterisk_conf.render import carrier_addresses
from hotline.center import Center, Node

DEBIAN_CONF = Path("/etc/fail2ban")


class Fail2banError(RuntimeError):
    """fail2ban is missing, or did not start or answer."""


def jail_name(instance: str) -> str:
    return "hotline-" + re.sub(r"[^A-Za-z0-9_-]", "-", instance)


def jail_conf(center: Center, node: Node, instance: str, security_log: Path,
              table: str = "hotline") -> str:
    """The fail2ban jail of one instance: Debian's asterisk filter on its security log, an
    nftables drop on its SIP ports (UDP, and TCP for TLS)."""
    sec = center.security
    ports = ",".join(str(p) for p in (node.sip_port, node.tls_port) if p)
    name = jail_name(instance)
    action = (f'nftables-multiport[name={name}, port="{ports}", protocol="udp,tcp", '
              f"blocktype=drop, table={table}]")
    return f"""# fail2ban jail of the hotline node {node.name} ({instance}), by hotline12328.
[{name}]
enabled = true
filter = asterisk
backend = polling
# "tail": failures from when the jail starts count, not the whole file's past.
logpath = {security_log} tail
logencoding = utf-8
maxretry = {sec.ban_failures}
findtime = {sec.ban_window_s}
bantime = {sec.ban_s}
# The carrier's gateway is never banned (a ban would cut every call to the hotline).
ignoreip = {" ".join(carrier_addresses(center, node))}
action = {action}
"""


@dataclass
class Fail2ban:
    """One private fail2ban server for one jail, in `directory`."""

    directory: Path
    jail: str
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def write(cls, directory: Path, jail_text: str, jail: str) -> Fail2ban:
        """A configuration directory: this jail, Debian's filters and actions."""
        if shutil.which("fail2ban-client") is None or shutil.which("nft") is None:
            raise Fail2banError("fail2ban and nftables are needed (Debian packages fail2ban, "
                                "nftables)")
        directory.mkdir(parents=True, exist_ok=True)
        for sub in ("filter.d", "action.d"):
            link = directory / sub
            if not link.exists():
                link.symlink_to(DEBIAN_CONF / sub)
        (directory / "fail2ban.conf").write_text(f"""[Definition]
loglevel = INFO
logtarget = {directory / "fail2ban.log"}
socket = {directory / "fail2ban.sock"}
pidfile = {directory / "fail2ban.pid"}
dbfile = :memory:
""")
        (directory / "jail.conf").write_text(jail_text)
        return cls(directory, jail)

    def _client(self, *args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["fail2ban-client", "-c", str(self.directory), *args],
                              capture_output=True, text=True, timeout=timeout)

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.directory / "server.out", "ab")
        self.proc = subprocess.Popen(
            ["fail2ban-client", "-c", str(self.directory), "-f", "-x", "start"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail2banError(f"fail2ban exited with {self.proc.returncode}: "
                                    + self._log_tail())
            if self._client("status", self.jail).returncode == 0:
                return
            time.sleep(0.3)
        self.stop()
        raise Fail2banError("fail2ban did not start its jail: " + self._log_tail())

    def banned(self) -> list[str]:
        """The addresses the jail holds banned now."""
        out = self._client("status", self.jail)
        for line in out.stdout.splitlines():
            if "Banned IP list:" in line:
                return line.split("Banned IP list:", 1)[1].split()
        return []

    def failures(self) -> int:
        """Failures counted so far (the jail's 'Total failed')."""
        out = self._client("status", self.jail)
        for line in out.stdout.splitlines():
            if "Total failed:" in line:
                return int(line.split(":", 1)[1])
        return 0

    def stop(self) -> None:
        """Stop the server; its action lifts every ban and removes its nftables set."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self._client("stop", timeout=20)
            except subprocess.TimeoutExpired:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _log_tail(self) -> str:
        texts = []
        for name in ("server.out", "fail2ban.log"):
            path = self.directory / name
            if path.exists():
                texts.append(path.read_text(errors="replace")[-2000:])
        return "\n".join(texts)
