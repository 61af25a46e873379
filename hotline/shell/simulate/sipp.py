"""SIPp as simulated callers and seats.

Scenarios are written here, per use, rather than kept as fixed XML: a caller's digits, how long
it holds on, and a seat's ring and talk times are part of the scenario. Every SIPp runs on
loopback on its own port and is always stopped by `stop()` (also when a test fails).

- `callers()`: UAC to the hotline number with RTP (G.711 A-law from SIPp's pcap) and keys as
  SIP INFO (RFC 2833 from SIPp's pcaps optionally, for the first key only); each caller hangs
  up `hold_s` after its last key unless Asterisk hangs up first.
- `register()`: a seat's REGISTER with digest authentication; `seat_dial()`: a seat's phone
  dialling a feature code.
- `seat()` / `seat_pool()` / `answerer()`: UAS that answers after `ring_s`, talks `talk_s`, then hangs up; it handles the caller
  hanging up first (BYE) and a call withdrawn while ringing (CANCEL).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from hotline.shell.simulate.ports import free_ports, media_port

PCAP_DIR = Path("/usr/share/sip-tester")
DTMF_PCAP = {**{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
             "*": "dtmf_2833_star.pcap", "#": "dtmf_2833_pound.pcap"}


class SippError(RuntimeError):
    pass


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if found is None:
        raise SippError("SIPp is not installed (Debian package sip-tester)")
    return found


_HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
_SDP = """v=0
o=hotline 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
"""


def _cdata(text: str) -> str:
    lines = [line.strip() if i else line for i, line in enumerate(text.strip("\n").split("\n"))]
    return "<![CDATA[\n" + "\n".join(lines) + "\n]]>"


def caller_scenario(digits: list[tuple[float, str]], hold_s: float, rtp: bool = True,
                    rfc2833_first: bool = False) -> str:
    """A caller: INVITE, ACK, RTP, digits (delay before each, digit), then wait or hang up.

    Digits go as SIP INFO (application/dtmf-relay). `rfc2833_first` sends the first one as
    RFC 2833 from SIPp's shipped pcaps instead; on this rig Asterisk 22 did not detect those
    (see the IVR issue's note), so it is off by default."""
    parts = [_HEAD, '<scenario name="hotline caller">\n']
    invite = f"""INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "[field1]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: hotline12328-sim
Content-Type: application/sdp
Content-Length: [len]

{_SDP}"""
    parts.append(f'<send retrans="500">{_cdata(invite)}</send>\n')
    parts.append('<recv response="100" optional="true"/>\n<recv response="180" optional="true"/>\n'
                 '<recv response="183" optional="true"/>\n<recv response="200" rrs="true"/>\n')
    ack = """ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
"""
    parts.append(f"<send>{_cdata(ack)}</send>\n")
    audio = (f'<nop><action><exec play_pcap_audio="{PCAP_DIR / "g711a.pcap"}"/>'
             '</action></nop>\n')
    first_by_rtp = bool(rfc2833_first and rtp and digits and digits[0][1] in DTMF_PCAP)
    if rtp and not first_by_rtp:
        parts.append(audio)
    # Asterisk may hang up at any point (IVR goodbye, queue timeout, survey done), so every
    # wait is a receive of BYE with a timeout that moves on to the next step.
    cseq = 2
    for i, (delay, digit) in enumerate(digits):
        if delay > 0:
            parts.append(f'<recv request="BYE" timeout="{int(delay * 1000)}" '
                         f'ontimeout="digit{i}" next="remote_bye"/>\n<label id="digit{i}"/>\n')
        if i == 0 and first_by_rtp:
            # The shipped RFC 2833 pcaps carry fixed RTP sequence numbers: they work as the
            # call's first RTP only, so the audio starts after them.
            parts.append(f'<nop><action><exec play_pcap_audio="{PCAP_DIR / DTMF_PCAP[digit]}"/>'
                         '</action></nop>\n<pause milliseconds="600"/>\n' + audio)
            continue
        info = f"""INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} INFO
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal={escape(digit)}
Duration=160
"""
        cseq += 1
        parts.append(f'<send retrans="500">{_cdata(info)}</send>\n<recv response="200"/>\n')
    parts.append(f'<recv request="BYE" timeout="{int(max(hold_s, 0.01) * 1000)}" '
                 'ontimeout="hangup" next="remote_bye"/>\n<label id="hangup"/>\n')
    bye = f"""BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} BYE
Max-Forwards: 70
Content-Length: 0
"""
    parts.append(f'<send retrans="500">{_cdata(bye)}</send>\n<recv response="200"/>\n')
    parts.append('<nop next="end"/>\n<label id="remote_bye"/>\n')
    ok = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""
    parts.append(f"<send>{_cdata(ok)}</send>\n<label id=\"end\"/>\n")
    parts.append('<timewait milliseconds="200"/>\n</scenario>\n')
    return "".join(parts)


def seat_dial_scenario(hold_s: float = 15.0) -> str:
    """A seat's phone dials a number (a feature code) with digest auth, and waits for
    Asterisk to hang up after its confirmation prompt."""
    invite = """INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[$seat]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:[$seat]@[local_ip]:[local_port]>
Max-Forwards: 70
{auth}Content-Type: application/sdp
Content-Length: [len]

""" + _SDP
    ack_401 = """ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[$seat]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
"""
    ack = """ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[$seat]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0
"""
    ok = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""
    bye = """BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[$seat]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0
"""
    return (_HEAD + '<scenario name="seat dials">\n'
            '<nop><action><assignstr assign_to="seat" value="[field0]"/></action></nop>\n'
            f'<send retrans="500">{_cdata(invite.format(cseq=1, auth=""))}</send>\n'
            '<recv response="100" optional="true"/>\n<recv response="401" auth="true"/>\n'
            f"<send>{_cdata(ack_401)}</send>\n"
            f'<send retrans="500">{_cdata(invite.format(cseq=2, auth="[authentication]" + chr(10)))}'
            '</send>\n'
            '<recv response="100" optional="true"/>\n<recv response="180" optional="true"/>\n'
            '<recv response="183" optional="true"/>\n<recv response="200" rrs="true"/>\n'
            f"<send>{_cdata(ack)}</send>\n"
            f'<recv request="BYE" timeout="{int(hold_s * 1000)}" ontimeout="hangup" '
            'next="remote_bye"/>\n<label id="hangup"/>\n'
            f'<send retrans="500">{_cdata(bye)}</send>\n<recv response="200"/>\n'
            '<nop next="end"/>\n<label id="remote_bye"/>\n'
            f"<send>{_cdata(ok)}</send>\n<label id=\"end\"/>\n</scenario>\n")


def register_scenario(expires_s: int = 3600) -> str:
    reg = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Expires: {expires}
Max-Forwards: 70
User-Agent: hotline12328-sim
{auth}Content-Length: 0
"""
    first = reg.format(cseq=1, expires=expires_s, auth="")
    second = reg.format(cseq=2, expires=expires_s, auth="[authentication]\n")
    return (_HEAD + '<scenario name="seat register">\n'
            f'<send retrans="500">{_cdata(first)}</send>\n'
            '<recv response="401" auth="true"/>\n'
            f'<send retrans="500">{_cdata(second)}</send>\n'
            '<recv response="200"/>\n</scenario>\n')


# --- what the answering side (a seat's phone, the public network's) sends -----------------------
# One copy of each message: the seat's and the callee's scenarios (and the tests' own ones)
# differ in what they do, not in how a reply or a hang-up is written.

def reply(code: int, text: str, *, contact: bool = False, sdp: bool = False) -> str:
    """The answer to the INVITE (provisional or final), in the dialog the answerer opens; `sdp`
    (answering) implies a Contact."""
    extra = "Contact: <sip:[service]@[local_ip]:[local_port]>\n" if contact or sdp else ""
    body = "Content-Type: application/sdp\nContent-Length: [len]\n\n" + _SDP if sdp \
        else "Content-Length: 0\n"
    return (f"SIP/2.0 {code} {text}\n[last_Via:]\n[last_From:]\n"
            "[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n"
            + extra + body)


# 200 to a request inside the dialog (BYE, INFO, NOTIFY, CANCEL): no tag of its own.
PLAIN_OK = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""


def answerer_request(method: str, cseq: int, headers: str = "", body: str = "",
                     content_type: str = "") -> str:
    """The answerer's request in its dialog (BYE, INFO, REFER): to the peer's Contact, with the
    From and Contact `recv_invite` kept (peer_from, peer_contact); `headers` end in newlines."""
    typed = f"Content-Type: {content_type}\nContent-Length: [len]\n\n{body}" if body \
        else "Content-Length: 0\n"
    return (f"{method} [$peer_contact] SIP/2.0\n"
            "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "From: <sip:[service]@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]\n"
            f"To: [$peer_from]\nCall-ID: [call_id]\nCSeq: {cseq} {method}\n{headers}"
            "Max-Forwards: 70\n" + typed)


def recv_invite(more: str = "") -> str:
    """Receive the INVITE and keep the caller's From and Contact (peer_from, peer_contact) for
    `answerer_request`; `more`: further actions on it."""
    return ('<recv request="INVITE" crlf="true"><action>' + more +
            '<ereg regexp="^.*$" search_in="hdr" header="From:" check_it="true" '
            'assign_to="peer_from"/>'
            '<ereg regexp="sip:[^&gt;;]*" search_in="hdr" header="Contact:" check_it="true" '
            'assign_to="peer_contact"/></action></recv>\n')


def seat_scenario(ring_s: float, talk_s: float, callback_talk_s: float | None = None) -> str:
    """A seat's phone: rings `ring_s`, answers, talks `talk_s`, hangs up (unless the caller
    does first). `callback_talk_s`: how long it stays on a call that is not a caller's own,
    i.e. whose From does not show a caller's number as its name (a callback's leg,
    `"回电" <number>`): the seat hears who the call is for while the caller is rung and
    greeted, then talks."""
    ringing = reply(180, "Ringing", contact=True)
    ok = reply(200, "OK", sdp=True)
    bye = answerer_request("BYE", 101)
    terminated = """SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invite_cseq] INVITE
Content-Length: 0
"""
    return (_HEAD + '<scenario name="hotline seat">\n'
            + recv_invite(
                '<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" '
                'assign_to="invite_cseq"/>'
                # A caller's own call shows its number as its name ("13912345678" <sip:...>);
                # looked for only when it matters (SIPp refuses a variable it never reads).
                + ('<ereg regexp="^ *&quot;[0-9+]+&quot;" search_in="hdr" header="From:" '
                   'check_it="false" assign_to="own_call"/>' if callback_talk_s is not None
                   else ''))
            + f"<send>{_cdata(ringing)}</send>\n"
            # The call may be withdrawn while ringing (CANCEL) or the caller may hang up while
            # talking (BYE): each wait is a receive with a timeout that moves on.
            f'<recv request="CANCEL" timeout="{int(max(ring_s, 0.01) * 1000)}" '
            'ontimeout="answer" next="cancelled"/>\n<label id="answer"/>\n'
            f'<send retrans="500">{_cdata(ok)}</send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            + _talk(talk_s, callback_talk_s) +
            f'<send retrans="500">{_cdata(bye)}</send>\n'
            '<recv response="200"/>\n<nop next="end"/>\n'
            f'<label id="remote_bye"/>\n<send>{_cdata(PLAIN_OK)}</send>\n<nop next="end"/>\n'
            f'<label id="cancelled"/>\n<send>{_cdata(PLAIN_OK)}</send>\n'
            f"<send>{_cdata(terminated)}</send>\n"
            '<recv request="ACK" timeout="2000" ontimeout="end"/>\n'
            '<label id="end"/>\n<timewait milliseconds="500"/>\n</scenario>\n')


def _talk(talk_s: float, callback_talk_s: float | None) -> str:
    """Wait for the caller's BYE `talk_s` (a callback's leg: `callback_talk_s`), then go on to
    `hangup`."""
    def wait(seconds: float) -> str:
        return (f'<recv request="BYE" timeout="{int(max(seconds, 0.01) * 1000)}" '
                'ontimeout="hangup" next="remote_bye"/>\n')
    if callback_talk_s is None:
        return wait(talk_s) + '<label id="hangup"/>\n'
    return ('<nop test="own_call" next="own_talk"/>\n' + wait(callback_talk_s)
            + '<label id="own_talk"/>\n' + wait(talk_s) + '<label id="hangup"/>\n')


def callee_scenario(ring_s: float, talk_s: float, digits: list[tuple[float, str]] = (),
                    reject: int = 0, busy_prefix: str = "", busy_first: int = 0) -> str:
    """The public network's side of a call the platform makes (a callback, a revisit): answer
    after `ring_s`, press `digits` (SIP INFO, the delay before each), hang up after `talk_s`
    unless Asterisk does first. `reject`: answer with that status instead (486 busy).
    `busy_prefix`: a number dialled that starts with it is busy (486), every time.
    `busy_first`: the first that many calls are busy, the later ones answered (one process for
    "busy, then reached on the retry": no gap while a second SIPp takes the port)."""
    if busy_prefix and not busy_prefix.isdigit():
        raise SippError("busy_prefix: digits only")
    if busy_prefix and busy_first:
        raise SippError("busy_prefix and busy_first: one or the other")
    busy = (f'<ereg regexp="^INVITE sip:{busy_prefix}" search_in="msg" check_it="false" '
            'assign_to="busy_line"/>') if busy_prefix else ""
    if busy_first:
        busy = ('<assignstr assign_to="nth" value="[call_number]"/>'
                '<todouble assign_to="nth_n" variable="nth"/>'
                '<test assign_to="busy_line" variable="nth_n" compare="less_than_equal" '
                f'value="{int(busy_first)}"/>')
    head = _HEAD + '<scenario name="hotline callee">\n' + recv_invite(busy)
    if reject:
        text = {486: "Busy Here", 480: "Temporarily Unavailable", 603: "Decline"}.get(reject,
                                                                                      "Busy")
        return (_HEAD + '<scenario name="hotline callee refusing">\n'
                '<recv request="INVITE" crlf="true"/>\n'
                f"<send>{_cdata(reply(reject, text))}</send>\n"
                '<recv request="ACK" timeout="5000" ontimeout="end"/>\n'
                '<label id="end"/>\n</scenario>\n')
    if busy_prefix or busy_first:
        head += ('<nop test="busy_line" next="busy"/>\n<nop next="ring"/>\n<label id="busy"/>\n'
                 f"<send>{_cdata(reply(486, 'Busy Here'))}</send>\n"
                 '<recv request="ACK" timeout="5000" ontimeout="end" next="end"/>\n'
                 '<label id="ring"/>\n')
    parts = [head,
             f"<send>{_cdata(reply(180, 'Ringing'))}</send>\n",
             f'<pause milliseconds="{int(max(ring_s, 0.01) * 1000)}"/>\n',
             f'<send retrans="500">{_cdata(reply(200, "OK", sdp=True))}</send>\n'
             '<recv request="ACK" crlf="true"/>\n',
             f'<nop><action><exec play_pcap_audio="{PCAP_DIR / "g711a.pcap"}"/></action></nop>\n']
    for i, (delay, digit) in enumerate(digits):
        parts.append(f'<recv request="BYE" timeout="{int(max(delay, 0.01) * 1000)}" '
                     f'ontimeout="digit{i}" next="remote_bye"/>\n<label id="digit{i}"/>\n')
        info = answerer_request("INFO", 110 + i, body=f"Signal={escape(digit)}\nDuration=160\n",
                                content_type="application/dtmf-relay")
        parts.append(f'<send retrans="500">{_cdata(info)}</send>\n<recv response="200"/>\n')
    parts += [f'<recv request="BYE" timeout="{int(max(talk_s, 0.01) * 1000)}" '
              'ontimeout="hangup" next="remote_bye"/>\n<label id="hangup"/>\n',
              f'<send retrans="500">{_cdata(answerer_request("BYE", 101))}</send>\n'
              '<recv response="200"/>\n<nop next="end"/>\n',
              f'<label id="remote_bye"/>\n<send>{_cdata(PLAIN_OK)}</send>\n',
              '<label id="end"/>\n<timewait milliseconds="500"/>\n</scenario>\n']
    return "".join(parts)


@dataclass
class SippProcess:
    """One running SIPp; stopped (and its trace files kept) by `stop()`."""

    name: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    stopped: bool = False

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise SippError(f"{self.name}: SIPp still running after {timeout:.0f}s") from None

    def running(self) -> bool:
        return self.proc.poll() is None

    def errors(self) -> str:
        texts = [p.read_text(errors="replace") for p in self.workdir.glob("*errors*")]
        out = self.workdir / "stdout.txt"
        if out.exists():
            texts.append(out.read_text(errors="replace")[-3000:])
        return "\n".join(texts)[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)  # SIPp: stop gracefully
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stopped = True


@dataclass
class Sipp:
    """Starts SIPp processes against one Asterisk node; `close()` stops them all."""

    asterisk_host: str
    asterisk_port: int
    # The address SIPp sends from: loopback for callers and seats; another loopback address
    # (127.0.0.2) plays an attacker the node must refuse and ban without harming the others.
    local_ip: str = "127.0.0.1"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-sipp-")))
    processes: list[SippProcess] = field(default_factory=list)

    def start(self, name: str, scenario: str, args: list[str]) -> SippProcess:
        """Run any scenario (e.g. an attacker's, tests/support/attacks.py) with these
        arguments besides the node's address, the scenario file and the local address."""
        return self._start(name, scenario, args)

    def _start(self, name: str, scenario: str, args: list[str], *,
               injection: list[str] | None = None) -> SippProcess:
        d = self.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        sf = d / "scenario.xml"
        sf.write_text(scenario, encoding="iso-8859-1")
        cmd = [sipp_binary(), f"{self.asterisk_host}:{self.asterisk_port}", "-sf", str(sf),
               "-i", self.local_ip, "-nostdin", "-trace_err", "-error_file", str(d / "errors.log"),
               "-max_recv_loops", "1000", *args]
        if injection is not None:
            inf = d / "inject.csv"
            inf.write_text("SEQUENTIAL\n" + "".join(f"{line};\n" for line in injection))
            cmd += ["-inf", str(inf)]
        for attempt in range(4):
            with open(d / "stdout.txt", "wb") as out:
                proc = subprocess.Popen(cmd, cwd=d, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            # Another process on this machine may take a media port between the draw and
            # SIPp's bind: SIPp then exits at once ("Unable to bind ... RTP socket"), and a
            # caller would silently never call. Started again on a fresh media port.
            try:
                proc.wait(0.15)
            except subprocess.TimeoutExpired:
                break
            said = (d / "stdout.txt").read_text(errors="replace")
            if "-mp" not in cmd or "RTP socket" not in said or attempt == 3:
                break
            at = cmd.index("-mp") + 1
            cmd[at] = str(media_port())
        sp = SippProcess(name=name, proc=proc, workdir=d)
        self.processes.append(sp)
        return sp

    def callers(self, name: str, numbers: list[str], *, digits: list[tuple[float, str]] = (),
                hold_s: float = 30.0, rate: float = 5.0, service: str = "12328",
                rtp: bool = True, names: list[str] | None = None) -> SippProcess:
        """Place one call per number, `rate` per second, each behaving the same; `names`: the
        callers' display names (default: their numbers)."""
        shown = names or numbers
        if len(shown) != len(numbers) or any(";" in n or '"' in n for n in shown):
            raise SippError("one display name per number, without ; or \"")
        port, media = free_ports(1)[0], media_port()
        return self._start(
            name, caller_scenario(list(digits), hold_s, rtp=rtp),
            ["-s", service, "-m", str(len(numbers)), "-r", str(rate), "-rp", "1000",
             "-l", str(max(1, len(numbers))), "-p", str(port), "-mp", str(media),
             "-recv_timeout", str(int((hold_s + 600) * 1000))],
            injection=[f"{n};{m}" for n, m in zip(numbers, shown)])

    def register(self, seat_id: str, password: str, port: int, timeout: float = 10.0) -> int:
        """REGISTER seat_id with digest auth; the exit code (0 = registered)."""
        p = self._start(f"register-{seat_id}-{port}", register_scenario(),
                        ["-s", seat_id, "-au", seat_id, "-ap", password, "-m", "1",
                         "-p", str(port), "-recv_timeout", str(int(timeout * 1000)),
                         "-timeout", f"{int(timeout)}s", "-timeout_error"])
        try:
            return p.wait(timeout + 5)
        finally:
            p.stop()
            self.processes.remove(p)

    def seat_dial(self, seat_id: str, password: str, number: str, timeout: float = 20.0) -> int:
        """The seat's phone dials `number` (e.g. *21); SIPp's exit code (0 = completed)."""
        port = free_ports(1)[0]
        p = self._start(f"dial-{seat_id}-{number.replace('*', 's')}-{port}",
                        seat_dial_scenario(),
                        ["-s", number, "-au", seat_id, "-ap", password, "-m", "1",
                         "-p", str(port), "-timeout", f"{int(timeout)}s", "-timeout_error"],
                        injection=[seat_id])
        try:
            return p.wait(timeout + 5)
        finally:
            p.stop()

    def seat_pool(self, seats: dict[str, str], *, ring_s: float = 1.0, talk_s: float = 5.0,
                  timeout: float = 10.0) -> SippProcess:
        """Many seats' phones on one SIPp: each registers its own contact on one shared port
        (one short SIPp per seat: SIPp takes digest credentials per process), and a single UAS
        there answers whichever seat Asterisk rings (for load and demos)."""
        port, media = free_ports(1)[0], media_port()
        for seat_id, password in seats.items():
            code = self.register(seat_id, password, port, timeout=timeout)
            if code != 0:
                raise SippError(f"seat {seat_id} could not register (SIPp exit {code})")
        return self._start(f"seat-pool-{port}", seat_scenario(ring_s, talk_s),
                           ["-s", "seat", "-p", str(port), "-mp", str(media)])

    def answerer(self, name: str, port: int, *, ring_s: float = 0.5,
                 talk_s: float = 2.0) -> SippProcess:
        """A UAS on a fixed port that answers whatever it is sent (the public network's side
        of a hand-off, e.g. the 12306 hotline)."""
        media = media_port()
        return self._start(name, seat_scenario(ring_s, talk_s),
                           ["-s", name, "-p", str(port), "-mp", str(media)])

    def callee(self, name: str, port: int, *, ring_s: float = 0.5, talk_s: float = 5.0,
               digits: list[tuple[float, str]] = (), reject: int = 0,
               calls: int = 0, busy_prefix: str = "", busy_first: int = 0) -> SippProcess:
        """The public network's phone on a fixed port (the node's pstn_gateway): it answers
        what the platform dials (callbacks, revisits) and presses `digits`, or refuses with
        `reject`; a number starting with `busy_prefix` is always busy; `calls`: stop after
        that many (0: never); `busy_first`: the first that many calls are busy (486)."""
        media = media_port()
        args = ["-s", name, "-p", str(port), "-mp", str(media)]
        if calls:
            args += ["-m", str(calls)]
        return self._start(name, callee_scenario(ring_s, talk_s, list(digits), reject,
                                                 busy_prefix, busy_first), args)

    def seat(self, seat_id: str, password: str, *, ring_s: float = 1.0,
             talk_s: float = 5.0, callback_talk_s: float | None = None) -> SippProcess:
        """Register a seat's phone, then answer every call it is offered (a callback's leg
        held `callback_talk_s` when given, see `seat_scenario`)."""
        port, media = free_ports(1)[0], media_port()
        code = self.register(seat_id, password, port)
        if code != 0:
            raise SippError(f"seat {seat_id} could not register (SIPp exit {code})")
        return self._start(f"seat-{seat_id}", seat_scenario(ring_s, talk_s, callback_talk_s),
                           ["-s", seat_id, "-p", str(port), "-mp", str(media)])

    def close(self) -> None:
        for p in self.processes:
            p.stop()
        self.processes.clear()
