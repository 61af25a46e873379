"""Render one node's Asterisk configuration from the center description.

One function per Asterisk config file; `render_node` returns them all as {file name: text}.
The dialplan's fixed part lives in `templates/` and is copied as it is; only what depends on the
center (globals, one extension per queue, the endpoints) is generated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hotline.center import Center, Node, Queue
from hotline.secrets import Secrets

STATIC = Path(__file__).resolve().parent / "templates"

# Loaded explicitly (modules.conf autoload=no): what a hotline node needs and nothing else.
MODULES = (
    # SIP
    "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb", "res_pjproject",
    "res_pjsip", "res_pjsip_session", "res_pjsip_pubsub", "chan_pjsip",
    "res_pjsip_authenticator_digest", "res_pjsip_endpoint_identifier_user",
    "res_pjsip_endpoint_identifier_ip", "res_pjsip_registrar", "res_pjsip_sdp_rtp",
    "res_pjsip_dtmf_info", "res_pjsip_caller_id", "res_pjsip_refer", "res_pjsip_logger",
    "res_pjsip_outbound_registration", "res_pjsip_header_funcs", "res_rtp_asterisk",
    # media
    "codec_ulaw", "codec_alaw", "codec_gsm", "codec_resample", "format_gsm", "format_wav",
    "format_wav_gsm", "format_pcm", "format_sln", "res_timing_timerfd", "res_musiconhold",
    "bridge_simple", "bridge_native_rtp", "bridge_softmix", "bridge_holding",
    "bridge_builtin_features",
    # dialplan
    "pbx_config", "app_queue", "app_dial", "app_playback", "app_mixmonitor", "app_stack",
    "app_exec", "app_verbose", "app_userevent", "app_echo", "app_read", "app_chanspy",
    "app_senddtmf", "app_sayunixtime", "app_waitforsilence", "app_transfer",
    "res_speech", "res_agi",
    "func_strings", "func_logic", "func_channel", "func_callerid", "func_global",
    "func_timeout", "func_dialplan", "func_math", "func_db", "func_cut", "func_hangupcause", "func_devstate",
    "func_sorcery", "func_pjsip_endpoint", "func_env", "func_uri", "func_volume",
    # callers who do not wait (issue 16): announcements whispered in the queue (PERIODIC_HOOK
    # needs func_groupcount beside ChanSpy, CUT and URI)
    "func_periodic_hook", "func_groupcount",
    # blocked numbers: DBdeltree when the engine's dialer (re)connects (hotline-astdb)
    "app_db",
    # security events (failed registrations, unknown callers) into log/security.log, which
    # fail2ban reads (asterisk_conf/fail2ban.py)
    "res_security_log",
)


@dataclass(frozen=True)
class InstancePaths:
    """Directories of one Asterisk instance, as seen from inside the root."""

    base: str  # e.g. /srv/hotline/shenyang-pbx1

    @property
    def etc(self) -> str:
        return f"{self.base}/etc"

    @property
    def run(self) -> str:
        return f"{self.base}/run"

    @property
    def log(self) -> str:
        return f"{self.base}/log"

    @property
    def spool(self) -> str:
        return f"{self.base}/spool"

    @property
    def lib(self) -> str:
        return f"{self.base}/lib"

    @property
    def moh(self) -> str:
        return f"{self.base}/moh"

    @property
    def prompts(self) -> str:
        return f"{self.base}/prompts"

    @property
    def recordings(self) -> str:
        return f"{self.spool}/monitor"

    @property
    def keys(self) -> str:
        """The TLS certificate and key of the node (asterisk_conf/tls.py writes them)."""
        return f"{self.lib}/keys"

    @property
    def security_log(self) -> str:
        return f"{self.log}/security.log"


def asterisk_conf(p: InstancePaths, node: Node) -> str:
    # systemname prefixes every Uniqueid, so calls of several nodes never share an id.
    return f"""[directories]
astcachedir => {p.base}/cache
astetcdir => {p.etc}
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => {p.lib}
astdbdir => {p.lib}
astkeydir => {p.lib}
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {p.spool}
astrundir => {p.run}
astlogdir => {p.log}
astsbindir => /usr/sbin

[options]
systemname = {node.name}
documentation_language = en_US
transmit_silence = yes
hideconnect = yes
"""


def modules_conf() -> str:
    loads = "\n".join(f"load = {m}.so" for m in MODULES)
    return f"[modules]\nautoload = no\n{loads}\n"


def logger_conf() -> str:
    return """[general]
queue_log = yes
queue_log_to_file = yes
queue_log_name = queue_log
dateformat = %F %T.%3q

[logfiles]
messages.log => notice,warning,error,verbose(1)
security.log => security
console => error
"""


# What the engine needs of the AMI, and nothing more (checked by tests/test_security_ami.py
# against every action of acd/ami/actions.py and every event acd/model.py reads):
#   read  call (Newchannel, Hangup, ChanSpyStart/Stop), agent (Queue*, Agent*), user (UserEvent)
#   write agent (QueueAdd/Remove/Pause), call (Setvar, Getvar, Redirect), originate
#         (Originate into a context, never an application), reporting (CoreShowChannels)
# QueueStatus, Ping, Login need no class. Never system, command or config: with those an AMI
# login could run shell commands or rewrite the dialplan.
AMI_READ = ("call", "agent", "user")
AMI_WRITE = ("call", "agent", "originate", "reporting")


def manager_conf(node: Node, secrets: Secrets) -> str:
    permits = "\n".join(f"permit = {net}" for net in node.ami_acl)
    return f"""[general]
enabled = yes
webenabled = no
port = {node.ami_port}
bindaddr = {node.bind}
displayconnects = no
timestampevents = yes
authlimit = 10
authtimeout = 10

[{node.ami_user}]
secret = {secrets.ami_secret(node.name)}
deny = 0.0.0.0/0.0.0.0
{permits}
read = {",".join(AMI_READ)}
write = {",".join(AMI_WRITE)}
writetimeout = 5000
eventfilter(action(exclude),name(VarSet)) =
eventfilter(action(exclude),name(Newexten)) =
eventfilter(action(exclude),name(RTCPSent)) =
eventfilter(action(exclude),name(RTCPReceived)) =
"""


def _acl(networks: tuple[str, ...]) -> str:
    return "deny = 0.0.0.0/0\n" + "".join(f"permit = {n}\n" for n in networks)


def _sip_phone(note: str, user: str, name: str, context: str, node: Node, password: str) -> str:
    """One registering phone (a seat's or a supervisor's): endpoint, digest auth, one contact.
    It is known by its user name and must give its password (identify_by = username); it may
    only come from the node's seat networks. The context decides what the phone may dial."""
    return f"""; {note}
[{user}]
type = endpoint
context = {context}
callerid = "{name}" <{user}>
identify_by = username
disallow = all
allow = ulaw,alaw,gsm
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
media_address = {node.bind}
force_rport = yes
rewrite_contact = yes
auth = {user}-auth
aors = {user}
{_acl(node.seat_networks)}
[{user}-auth]
type = auth
auth_type = digest
username = {user}
password = {password}

[{user}]
type = aor
max_contacts = 1
remove_existing = yes
default_expiration = 600
"""


def _tls_transport(node: Node, paths: InstancePaths) -> str:
    if not node.tls_port:
        return ""
    return f"""
; SIP over TLS for seats (the certificate is generated once per node by the rig).
[transport-tls]
type = transport
protocol = tls
bind = {node.bind}:{node.tls_port}
cert_file = {paths.keys}/sip.crt
priv_key_file = {paths.keys}/sip.key
method = tlsv1_2
verify_client = no
"""


def carrier_addresses(center: Center, node: Node) -> tuple[str, ...]:
    """Who may call in as the public network: the node's `pstn_addresses`, and the SIP
    front's address when the center has one elsewhere (it hands the calls on,
    asterisk_conf/kamailio.py). Matched by source address, never by the From header."""
    front = center.front
    if front is not None and front.bind != node.bind and \
            f"{front.bind}/32" not in node.pstn_addresses and front.bind not in node.pstn_addresses:
        return (*node.pstn_addresses, f"{front.bind}/32")
    return node.pstn_addresses


def pjsip_conf(center: Center, node: Node, secrets: Secrets,
               paths: InstancePaths | None = None) -> str:
    paths = paths or InstancePaths("/srv/hotline/unknown")
    gateway = (f"contact = sip:{node.pstn_gateway}" if node.pstn_gateway
               else "; no pstn_gateway: hand-offs are announced, not dialled")
    parts = [f"""[global]
type = global
user_agent = hotline12328
; Seats and supervisor phones are known by user name and must authenticate; only the carrier
; (pstn) is known by its address, and nothing is known by a From header alone.
endpoint_identifier_order = username,ip

[transport-udp]
type = transport
protocol = udp
bind = {node.bind}:{node.sip_port}
{_tls_transport(node, paths)}
; The public network: calls to 12328 arrive here (a carrier gateway in production, SIPp
; callers on loopback in tests). It is the carrier because of where a request comes from
; (identify by ip, pstn_addresses), never because of what its From header says, and nothing
; else may use this endpoint (its ACL). Hand-offs to other hotlines leave through it.
[pstn]
type = endpoint
context = hotline-inbound
identify_by = ip
disallow = all
allow = ulaw,alaw,gsm
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
media_address = {node.bind}
allow_transfer = no
allow_subscribe = no
aors = pstn
{_acl(carrier_addresses(center, node))}
[pstn]
type = aor
{gateway}

[pstn]
type = identify
endpoint = pstn
match = {",".join(carrier_addresses(center, node))}
"""]
    for seat in center.seats_on(node.name):
        parts.append(_sip_phone(f"seat {seat.id} ({seat.name}): queues {', '.join(seat.queues)}",
                                seat.id, seat.name, "seats", node, secrets.seats[seat.id]))
    for sup in center.supervisors_on(node.name):
        parts.append(_sip_phone(f"supervisor {sup.id} ({sup.name}): listen, whisper, barge",
                                sup.id, sup.name, "supervisor-phones", node,
                                secrets.supervisors[sup.id]))
    return "\n".join(parts)


def rtp_conf(node: Node) -> str:
    # strictrtp: once a call's media source is learnt, RTP from anywhere else is dropped
    # (no injected audio, no hijacked stream).
    return (f"[general]\nrtpstart = {node.rtp_start}\nrtpend = {node.rtp_end}\n"
            "strictrtp = yes\nprobation = 4\n")


def callbacks_on(center: Center, node: Node) -> bool:
    """The callback is offered where the center wants it and the node can call out."""
    return center.callers.callback and bool(node.pstn_gateway)


def queues_conf(center: Center, node: Node | None = None) -> str:
    # Key 1 while waiting leaves the queue for hotline-queue-keys: the callback that keeps the
    # caller's place (acd/callers/), offered where the node can call out.
    keys = "context = hotline-queue-keys\n" if node is not None and callbacks_on(center, node) \
        else ""
    parts = ["""[general]
persistentmembers = yes
autofill = yes
monitor-type = MixMonitor
shared_lastcall = yes
log_membername_as_agent = yes
"""]
    for q in center.queues:
        parts.append(f"""; {q.title} ({q.domain})
[{q.name}]
strategy = {q.strategy}
timeout = {q.ring_timeout_s}
retry = 1
wrapuptime = {q.wrapup_s}
servicelevel = {q.service_level_s}
joinempty = yes
leavewhenempty = no
ringinuse = no
setinterfacevar = yes
setqueuevar = yes
setqueueentryvar = yes
announce-frequency = 0
announce-holdtime = no
reportholdtime = no
musicclass = default
{keys}""")
    return "\n".join(parts)


def musiconhold_conf(p: InstancePaths) -> str:
    return f"[default]\nmode = files\ndirectory = {p.moh}\n"


def _queue_wait(q: Queue) -> int:
    return q.overflow_after_s if q.overflow_to else q.max_wait_s


def extensions_conf(center: Center, node: Node, p: InstancePaths) -> str:
    """Globals and one extension per queue; the fixed flow is in templates/extensions_hotline.conf."""
    lines = [
        "[general]", "static = yes", "writeprotect = yes", "clearglobalvars = yes", "",
        "[globals]",
        f"HOTLINE_CENTER = {center.code}",
        f"HOTLINE_NODE = {node.name}",
        f"HOTLINE_NUMBER = {center.hotline_number}",
        f"FASTAGI = agi://127.0.0.1:{node.fastagi_port}",
        f"DEFAULT_QUEUE = {center.default_queue}",
        f"RECORDING = {'yes' if center.recording else 'no'}",
        f"PROMPTS = {p.prompts}",
        f"IVR_MODE = {center.ivr}",
        "CLASSIC_AGI = /opt/hotline/agi_scripts/hotline_ivr.py",
        "HANDOFF_TRANSFER = " + ("yes" if center.handoffs.transfer_enabled and node.pstn_gateway
                                 else "no"),
        f"ANNOUNCE_S = {center.callers.announce_every_s}",
        f"CALLBACK = {'yes' if callbacks_on(center, node) else 'no'}",
        f"MESSAGE_MAX_S = {center.callers.message_max_s}",
        "",
        "#include \"extensions_hotline.conf\"",
        "#tryinclude \"extensions_ivr.conf\"",
        "#tryinclude \"extensions_features.conf\"",
        "#tryinclude \"extensions_supervisor.conf\"",
        "#tryinclude \"extensions_local.conf\"",
        "",
        "; Calls from the public network: the hotline number, then local additions, then nothing.",
        "[hotline-inbound]",
        f"exten => {center.hotline_number},1,Goto(hotline-call,s,1)",
        *_hosted_entries(center),
        "include => hotline-inbound-local",
        "include => hotline-inbound-unknown",
        "",
        "; One extension per skill queue. On TIMEOUT a queue with overflow_to moves the caller on;",
        "; one without, and no seat signed in, gives the caller the message path (hotline-message).",
        "[hotline-queue]",
    ]
    for q in center.queues:
        lines += [f"exten => {q.name},1,Set(HOTLINE_QUEUE={q.name})"]
        if not q.overflow_to:
            lines += [f" same => n,GotoIf($[${{QUEUE_MEMBER({q.name},logged)}} = 0]"
                      "?hotline-message,no_seat,1)"]
        lines += [f" same => n,Gosub(hotline-queue-enter,s,1({q.name},{_queue_wait(q)}))"]
        if q.overflow_to:
            lines += [
                f" same => n,GotoIf($[\"${{QUEUESTATUS}}\" = \"TIMEOUT\"]?{q.overflow_to},1)",
            ]
        lines += [" same => n,Goto(hotline-after-queue,s,1)", ""]
    return "\n".join(lines) + "\n"


def _hosted_entries(center: Center) -> list[str]:
    """A hosted center's callers arrive on its own extension (its city's trunk maps 12328 to
    it): the call carries that center's code and default queue (channel variables, which
    win over the globals), and the IVR maps the menu's choice onto that center's queues."""
    lines: list[str] = []
    for h in center.hosted:
        lines += [f"exten => {h.extension},1,Set(HOTLINE_CENTER={h.code})",
                  f" same => n,Set(DEFAULT_QUEUE={h.default_queue})",
                  " same => n,Goto(hotline-call,s,1)"]
    return lines


def features_conf(center: Center, node: Node) -> str:
    """Feature codes a seat dials from its own phone; the seat is the calling endpoint, so a
    seat can only act on itself. Pure dialplan: they work while the Python side is down.

    *21 sign in, *22 sign out, *23 busy (*23N: the N-th busy reason), *24 ready."""
    lines = ["[seat-features]",
             "exten => *21,1,Gosub(hotline-seat-signin,${CHANNEL(endpoint)},1)",
             " same => n,Playback(agent-loginok)", " same => n,Hangup()",
             "exten => *22,1,Gosub(hotline-seat-signout,${CHANNEL(endpoint)},1)",
             " same => n,Playback(agent-loggedoff)", " same => n,Hangup()",
             "exten => *24,1,UnpauseQueueMember(,PJSIP/${CHANNEL(endpoint)})",
             " same => n,Playback(auth-thankyou)", " same => n,Hangup()"]
    reasons = list(center.busy_reasons)
    default = "other" if "other" in reasons else reasons[-1]
    for code, reason in [("", default)] + [(str(i + 1), r) for i, r in enumerate(reasons[:9])]:
        lines += [f"exten => *23{code},1,PauseQueueMember(,PJSIP/${{CHANNEL(endpoint)}},,{reason})",
                  " same => n,Playback(beep)", " same => n,Hangup()"]
    lines += ["", "[hotline-seat-signin]"]
    for seat in center.seats_on(node.name):
        lines.append(f"exten => {seat.id},1,NoOp(sign in {seat.id})")
        for q in seat.queues:
            lines.append(f" same => n,AddQueueMember({q},PJSIP/{seat.id},{seat.penalty},,"
                         f"{seat.id},PJSIP/{seat.id})")
        lines.append(" same => n,Return()")
    lines += ["exten => _X.,1,Return()", "", "[hotline-seat-signout]"]
    for seat in center.seats_on(node.name):
        lines.append(f"exten => {seat.id},1,NoOp(sign out {seat.id})")
        for q in center.queues:
            lines.append(f" same => n,RemoveQueueMember({q.name},PJSIP/{seat.id})")
        lines.append(" same => n,Return()")
    lines += ["exten => _X.,1,Return()"]
    return "\n".join(lines) + "\n"


def render_node(center: Center, node: Node, secrets: Secrets, paths: InstancePaths) -> dict[str, str]:
    """All config files of one node, by file name."""
    files = {
        "asterisk.conf": asterisk_conf(paths, node),
        "modules.conf": modules_conf(),
        "logger.conf": logger_conf(),
        "manager.conf": manager_conf(node, secrets),
        "pjsip.conf": pjsip_conf(center, node, secrets, paths),
        "rtp.conf": rtp_conf(node),
        "queues.conf": queues_conf(center, node),
        "musiconhold.conf": musiconhold_conf(paths),
        "extensions.conf": extensions_conf(center, node, paths),
        "extensions_features.conf": features_conf(center, node),
        "indications.conf": "[general]\ncountry = cn\n\n[cn]\ndescription = China\n"
                            "ringcadence = 1000,4000\ndial = 450\nbusy = 450/350,0/350\n"
                            "ring = 450/1000,0/4000\ncongestion = 450/700,0/700\n"
                            "callwaiting = 450/400,0/4000\ndialrecall = 450\n"
                            "record = 950/400,0/10000\ninfo = 450/100,0/100,450/100,0/100\n",
        "features.conf": "[general]\n",
        "cdr.conf": "[general]\nenable = no\n",
        "cel.conf": "[general]\nenable = no\n",
        "ccss.conf": "[general]\n",
        "udptl.conf": "[general]\n",
        "acl.conf": "",
        "pjproject.conf": "[log_mappings]\ntype = log_mappings\nasterisk_error = 0\n"
                          "asterisk_warning = 2\nasterisk_debug = 3,4\n",
    }
    for static in sorted(STATIC.glob("*.conf")):
        files[static.name] = static.read_text(encoding="utf-8")
    return files
