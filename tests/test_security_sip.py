"""The SIP side closed to abuse, on the real Asterisk, with SIPp attackers on a second loopback
address (127.0.0.2) and Debian's fail2ban reading the node's security log:

- a call to 12328 that claims to be the carrier (`From: pstn`) from anywhere but the carrier's
  address, without credentials, is challenged and never answered, rung or let in;
- 50 REGISTERs with a wrong password are refused, the address is banned on this node's SIP
  port, and a real seat (another address) registers and works all along;
- a node on another address than 127.0.0.1 still lets the engine's AMI login in, offers SIP
  over TLS with its generated certificate, and refuses a wrong password there too;
- `*90` (to the survey) works only as a seat's blind transfer of its caller, never dialled.

The figures (attempts, answers, bans) are written to test-artifacts/security-sip.json; they are
the ones SECURITY.md quotes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets as _random
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from asterisk_conf import rig, tls
from asterisk_conf.fail2ban import Fail2ban, Fail2banError, jail_conf, jail_name
from hotline import paths
from hotline.shell.simulate.ports import free_ports, media_port
from hotline.shell.simulate.sipp import (
    _HEAD,
    PLAIN_OK,
    Sipp,
    _cdata,
    answerer_request,
    recv_invite,
    reply,
)
from tests.support import attacks
from tests.support.ami_tap import AmiTap
from tests.support.browser import ARTIFACTS
from tests.support.real import unavailable
from tests.support.rig import RunningPbx, example_center_data, running_pbx
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asterisk
ATTACKER = "127.0.0.2"


def record(name: str, figures: dict[str, Any]) -> None:
    """Keep a test's figures for SECURITY.md (test-artifacts/security-sip.json)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "security-sip.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


@pytest.fixture
def jail(pbx: RunningPbx, tmp_path: Path) -> Iterator[Fail2ban]:
    """fail2ban with the node's jail, as `hotline pbx fail2ban` renders it, in its own
    nftables table; stopping it lifts the bans."""
    if shutil.which("fail2ban-client") is None or shutil.which("nft") is None:
        unavailable("fail2ban and nftables are not installed (Debian packages)")
    table = f"hotline_test_{os.getpid()}"
    name = jail_name(pbx.instance.name)
    text = jail_conf(pbx.center, pbx.node, pbx.instance.name, pbx.instance.security_log,
                     table=table)
    try:
        f2b = Fail2ban.write(tmp_path / "fail2ban", text, name)
        f2b.start()
    except Fail2banError as exc:
        unavailable(str(exc))
        raise
    try:
        yield f2b
    finally:
        f2b.stop()
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
        assert table not in tables, "fail2ban left its nftables table behind"


def attacker(pbx: RunningPbx) -> Sipp:
    return Sipp("127.0.0.1", pbx.node.sip_port, local_ip=ATTACKER)


def inbound_channels(tap: AmiTap) -> list[dict[str, str]]:
    return [e for e in tap.events if e.get("Event") == "Newchannel"
            and e.get("Context") == "hotline-inbound"]


def test_spoofed_carrier_and_wrong_passwords_are_refused_and_banned(pbx: RunningPbx, sipp,
                                                                    jail: Fail2ban,
                                                                    numbers) -> None:
    evil = attacker(pbx)
    tap = AmiTap(**pbx.ami, events="call")
    try:
        # 1. Calls claiming to be the carrier, from the wrong address, without credentials.
        invite = evil.start("spoofed-invite", attacks.spoofed_invite_scenario(),
                            ["-s", "12328", "-m", "3", "-r", "5", "-p", str(free_ports(1)[0]),
                             "-trace_msg", "-timeout", "30s"])
        invite.wait(40)
        calls = attacks.tally(invite)
        assert calls.sent.get("INVITE", 0) >= 3, calls
        assert calls.let_in == 0 and set(calls.answers) <= {401, 403}, calls
        assert not inbound_channels(tap), "a spoofed INVITE made a call into the hotline"

        # 2. 50 registrations of seat 8001 with a wrong password.
        register = evil.start("wrong-register", attacks.wrong_register_scenario(),
                              ["-s", "8001", "-au", "8001", "-ap", "not-the-password",
                               "-m", "50", "-r", "10", "-p", str(free_ports(1)[0]),
                               "-trace_msg", "-timeout", "60s"])
        register.wait(80)
        regs = attacks.tally(register)
        assert regs.let_in == 0 and set(regs.answers) <= {401, 403}, regs
        first_registers = 50
        assert regs.sent.get("REGISTER", 0) >= first_registers, regs
        # 3. Banned: fail2ban holds the address and the node answers it no more.
        assert wait_for("the attacker banned", lambda: ATTACKER in jail.banned(), 20)
        unanswered = regs.sent["REGISTER"] - sum(regs.answers.values())
        assert unanswered > 0, ("every attempt was answered: the ban came too late", regs)
        probe = evil.start("after-ban", attacks.wrong_register_scenario(wait_ms=1500),
                           ["-s", "8001", "-au", "8001", "-ap", "x", "-m", "1",
                            "-p", str(free_ports(1)[0]), "-trace_msg", "-timeout", "10s"])
        probe.wait(20)
        assert attacks.tally(probe).answers == {}, "the banned address still got answers"

        # 4. Meanwhile a real seat (another address) registers, and a caller gets through.
        assert sipp.register("8001", pbx.seat_password("8001"), free_ports(1)[0]) == 0
        real = numbers.one()
        sipp.callers("after-attack", [real], hold_s=3)
        wait_for("the real caller's call", lambda: [e for e in inbound_channels(tap)
                                                   if e.get("CallerIDNum") == real])
        assert not [e for e in inbound_channels(tap) if e.get("CallerIDNum") != real]
        record("attack", {
            "spoofed_invites": calls.sent.get("INVITE", 0), "spoofed_answers": calls.answers,
            "wrong_registers": first_registers, "register_requests": regs.sent["REGISTER"],
            "register_answers": regs.answers, "unanswered_after_ban": unanswered,
            "let_in": calls.let_in + regs.let_in, "failures_counted": jail.failures(),
            "banned": jail.banned()})
    finally:
        tap.close()
        evil.close()
        shutil.rmtree(evil.workdir, ignore_errors=True)


# --- *90: the survey only as a seat's transfer of its caller --------------------------------

def transferring_seat_scenario(after_ms: int) -> str:
    """A seat's phone: answers, talks `after_ms`, then blind-transfers the caller to *90
    (REFER), answers Asterisk's NOTIFYs and the BYE of its own leg."""
    refer = answerer_request("REFER", 101, headers=(
        "Contact: <sip:[service]@[local_ip]:[local_port]>\n"
        "Refer-To: <sip:*90@[remote_ip]:[remote_port]>\n"
        "Referred-By: <sip:[service]@[local_ip]:[local_port]>\n"))
    return (_HEAD + '<scenario name="seat transfers to *90">\n'
            + recv_invite() +
            f'<send retrans="500">{_cdata(reply(200, "OK", sdp=True))}</send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            f'<pause milliseconds="{after_ms}"/>\n'
            f'<send retrans="500">{_cdata(refer)}</send>\n<recv response="202"/>\n'
            '<label id="wait"/>\n'
            '<recv request="NOTIFY" optional="true" next="notify"/>\n'
            '<recv request="BYE" next="bye" timeout="20000" ontimeout="end"/>\n'
            f'<label id="notify"/>\n<send>{_cdata(PLAIN_OK)}</send>\n<nop next="wait"/>\n'
            f'<label id="bye"/>\n<send>{_cdata(PLAIN_OK)}</send>\n'
            '<label id="end"/>\n<timewait milliseconds="300"/>\n</scenario>\n')


def test_star90_only_as_a_seats_transfer_of_its_caller(pbx: RunningPbx, sipp, numbers) -> None:
    tap = AmiTap(**pbx.ami, events="call,user")
    try:
        # A seat dialling *90 itself: refused, no survey, nothing rated.
        assert sipp.seat_dial("8002", pbx.seat_password("8002"), "*90") == 0
        refused = tap.wait_for(UserEvent="HotlineSurveyRefused")
        assert refused["Endpoint"] == "8002"
        assert not [e for e in tap.events if e.get("UserEvent") == "HotlineSurvey"]

        # A seat on a call transfers its caller to *90: the caller is surveyed, credited to it.
        port, media = free_ports(1)[0], media_port()
        assert sipp.register("8001", pbx.seat_password("8001"), port) == 0
        sipp.start("transferring-seat", transferring_seat_scenario(1500),
                   ["-s", "8001", "-p", str(port), "-mp", str(media), "-m", "1"])
        pbx.instance.cli(f"queue add member PJSIP/8001 to {pbx.center.default_queue} "
                         "penalty 0 as 8001 state_interface PJSIP/8001")
        number = numbers.one()
        sipp.callers("to-survey", [number], hold_s=30)
        caller = tap.wait_for(Event="Newchannel", CallerIDNum=number, timeout=15)
        survey = tap.wait_for(UserEvent="HotlineSurvey", Uniqueid=caller["Uniqueid"], timeout=30)
        assert survey["Seat"] == "8001"
        assert len([e for e in tap.events if e.get("UserEvent") == "HotlineSurveyRefused"]) == 1
    finally:
        tap.close()


# --- AMI: the fewest classes, a permit for the engine's own address; TLS for seats ------------

def _digest(user: str, password: str, method: str, uri: str, challenge: str) -> str:
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))
    cnonce, nc = _random.token_hex(8), "00000001"
    ha1 = hashlib.md5(f"{user}:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(
        f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"' + (f', opaque="{fields["opaque"]}"' if "opaque" in fields
                                    else ""))


def _tls(host: str, port: int, timeout: float) -> ssl.SSLSocket:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed: the test compares the fingerprint
    return ctx.wrap_socket(socket.create_connection((host, port), timeout=timeout))


def tls_answers(host: str, port: int) -> bool:
    """An OPTIONS over TLS is answered (Asterisk's TLS transport takes a moment after the
    AMI is up before it handles what it accepted)."""
    try:
        with _tls(host, port, 1.0) as conn:
            conn.sendall(f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;"
                         f"branch=z9hG4bK{_random.token_hex(6)}\r\nFrom: <sip:probe@{host}>;"
                         f"tag=1\r\nTo: <sip:{host}>\r\nCall-ID: {_random.token_hex(6)}\r\n"
                         "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                         .encode())
            return conn.recv(100).startswith(b"SIP/2.0 ")
    except OSError:
        return False


def tls_register(host: str, port: int, seat: str, password: str) -> tuple[int, bytes]:
    """REGISTER over TLS, answering the digest challenge; (final status, server cert DER)."""
    with _tls(host, port, 10.0) as conn:
        local = conn.getsockname()
        uri = f"sip:{host}:{port};transport=tls"
        call_id = _random.token_hex(8)
        status = 0
        auth = ""
        for cseq in (1, 2):
            conn.sendall((f"REGISTER {uri} SIP/2.0\r\n"
                          f"Via: SIP/2.0/TLS {local[0]}:{local[1]};branch=z9hG4bK{call_id}{cseq}"
                          ";rport\r\n"
                          f"From: <sip:{seat}@{host}>;tag={call_id}\r\nTo: <sip:{seat}@{host}>\r\n"
                          f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                          f"Contact: <sip:{seat}@{local[0]}:{local[1]};transport=tls>\r\n"
                          f"Expires: 60\r\nMax-Forwards: 70\r\n{auth}Content-Length: 0\r\n\r\n")
                         .encode())
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
            text = reply.decode(errors="replace")
            status = int(text.split(" ", 2)[1])
            challenge = next((line.split(":", 1)[1].strip() for line in text.split("\r\n")
                              if line.lower().startswith("www-authenticate:")), "")
            if status != 401 or cseq == 2:
                break
            auth = f"Authorization: {_digest(seat, password, 'REGISTER', uri, challenge)}\r\n"
        cert = conn.getpeercert(binary_form=True) or b""
    return status, cert


def machine_address() -> str | None:
    """This machine's first non-loopback IPv4 address (a connection to it comes from it)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True)
    found = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", out.stdout)
    return found.group(1) if found else None


def test_a_node_on_another_address_with_tls_for_seats(tmp_path_factory) -> None:
    """bind = the machine's network address: the engine's AMI login comes from that address,
    which the old permit (127.0.0.0/8) refused; seats get TLS there."""
    address = machine_address()
    if address is None:
        unavailable("this machine has no non-loopback IPv4 address")
    state = tmp_path_factory.mktemp("tls-state")
    data = example_center_data()
    data["nodes"][0].update(bind=address, tls_port=free_ports(1)[0],
                            seat_networks=[f"{address}/32", "127.0.0.0/8"])
    if not rig.root_is_built(paths.asterisk_root()):
        unavailable("the Asterisk root is not built")
    # Starting waits for the AMI login on that address, from that address: a permit that
    # missed the engine's own address fails right here.
    name = f"test-tls-{os.getpid()}"
    cm = running_pbx(state, name=name, data=data)
    try:
        pbx = cm.__enter__()
    except Exception:
        shutil.rmtree(paths.asterisk_root() / "srv/hotline" / name, ignore_errors=True)
        raise
    try:
        node = pbx.node
        manager = (pbx.instance.host(pbx.instance.inner.etc) / "manager.conf").read_text()
        assert f"permit = {address}/32" in manager and "127.0.0.0/255.0.0.0" not in manager
        crt, key = tls.paths(state, pbx.center, node)
        assert oct(key.stat().st_mode & 0o777) == "0o600"
        wait_for("SIP over TLS", lambda: tls_answers(node.bind, node.tls_port), 15)
        status, cert = tls_register(node.bind, node.tls_port, "8001", pbx.seat_password("8001"))
        assert status == 200
        fingerprint = hashlib.sha256(cert).hexdigest().upper()
        assert fingerprint == tls.fingerprint(crt).replace(":", "")
        assert tls_register(node.bind, node.tls_port, "8002", "wrong-password")[0] in (401, 403)
        # (Asterisk drops a TLS contact with its connection, so it is not listed after.)
        record("tls", {"bind": node.bind, "seat_registered_over_tls": True,
                       "wrong_password_over_tls": "refused"})
    finally:
        cm.__exit__(None, None, None)
