"""SIPp as an attacker on the public network: scenarios a hotline node must refuse, and a
count of every message the attacker sent and every answer it got (from SIPp's own message
trace), so a test can say "50 tried, 50 refused, 0 let in".

- `spoofed_invite_scenario`: a call to 12328 claiming to be the carrier (`From: pstn`), with
  no credentials; if challenged, it gives up (it has no password to answer with).
- `wrong_register_scenario`: a seat's REGISTER with digest authentication and a wrong
  password; an answer that never comes (the attacker is banned) ends the attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hotline.shell.simulate.sipp import _HEAD, _SDP, SippProcess, _cdata

_BLOCK = re.compile(r"^-{20,} .*$", re.M)  # SIPp starts every traced message with one
_STATUS = re.compile(r"^SIP/2\.0 (\d{3}) ", re.M)
_REQUEST = re.compile(r"^(INVITE|REGISTER|ACK|BYE|CANCEL) sip:", re.M)


def spoofed_invite_scenario(number: str = "12328", wait_ms: int = 3000) -> str:
    invite = f"""INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "pstn" <sip:pstn@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:pstn@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: hotline12328-attacker
Content-Type: application/sdp
Content-Length: [len]

{_SDP}"""
    ack = """ACK sip:12328@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "pstn" <sip:pstn@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
"""
    # Any final answer is taken (and acknowledged); the test reads which one it was.
    return (_HEAD + '<scenario name="spoofed carrier INVITE">\n'
            f'<send retrans="500">{_cdata(invite)}</send>\n'
            '<recv response="100" optional="true"/>\n<recv response="180" optional="true"/>\n'
            '<recv response="183" optional="true"/>\n'
            f'<recv response="401" optional="true" next="refused" timeout="{wait_ms}" '
            'ontimeout="silent"/>\n'
            '<recv response="403" optional="true" next="refused"/>\n'
            '<recv response="200" next="refused"/>\n'
            f'<label id="refused"/>\n<send>{_cdata(ack)}</send>\n'
            '<label id="silent"/>\n</scenario>\n')


def wrong_register_scenario(wait_ms: int = 2000) -> str:
    reg = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Expires: 60
Max-Forwards: 70
User-Agent: hotline12328-attacker
{auth}Content-Length: 0
"""
    return (_HEAD + '<scenario name="wrong password REGISTER">\n'
            f'<send>{_cdata(reg.format(cseq=1, auth=""))}</send>\n'
            f'<recv response="401" auth="true" timeout="{wait_ms}" ontimeout="end"/>\n'
            f'<send>{_cdata(reg.format(cseq=2, auth="[authentication]" + chr(10)))}</send>\n'
            f'<recv response="401" optional="true" timeout="{wait_ms}" ontimeout="end" '
            'next="end"/>\n'
            '<recv response="403" optional="true" next="end"/>\n'
            '<recv response="200" next="end"/>\n'
            '<label id="end"/>\n</scenario>\n')


@dataclass
class Tally:
    """What the attacker sent and what came back, from SIPp's message trace."""

    sent: dict[str, int] = field(default_factory=dict)       # request method -> count
    answers: dict[int, int] = field(default_factory=dict)   # status code -> count

    @property
    def let_in(self) -> int:
        """Answers that would have let a call or a registration through."""
        return sum(n for code, n in self.answers.items() if code in (100, 180, 183, 200))


def tally(proc: SippProcess) -> Tally:
    """Read `<scenario>_<pid>_messages.log` (SIPp's -trace_msg) of a finished attacker."""
    t = Tally()
    for log in Path(proc.workdir).glob("*_messages.log"):
        for block in _BLOCK.split(log.read_text(errors="replace")):
            if "message sent" in block:
                for method in _REQUEST.findall(block):
                    t.sent[method] = t.sent.get(method, 0) + 1
            elif "message received" in block:
                for code in _STATUS.findall(block):
                    t.answers[int(code)] = t.answers.get(int(code), 0) + 1
    return t
