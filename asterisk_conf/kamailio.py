"""The SIP front: Kamailio's configuration for a center with several Asterisk nodes, rendered
from the same center file as the nodes' own configuration.

Calls to the hotline number arrive at the front (`[front]` bind and sip_port); the dispatcher
module sends each new call to one live node, round robin (set 1: every `[[nodes]]`). It probes
every node with OPTIONS each `probe_interval_s`; a node that does not answer is marked inactive
and gets no new call until it answers again. A node that does not answer an INVITE within
`invite_timeout_s` (or answers 5xx) is marked at once and the call goes to the next node, so a
node that dies costs only the calls it was carrying. The front record-routes, so the rest of
each dialog goes through it; media flows between caller and node directly.

Only INVITEs to the hotline number (and their dialogs) pass; seats and supervisors' phones
register to their own node, not through the front. OPTIONS to the front itself are answered
(a carrier's keepalive).
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.center import Center, Front

MODULES = ("kex", "corex", "tm", "tmx", "sl", "rr", "pv", "maxfwd", "textops", "siputils",
           "xlog", "sanity", "ctl", "dispatcher")
SET = 1  # the dispatcher set of the center's nodes


@dataclass(frozen=True)
class FrontPaths:
    """Where a running front keeps its files (absolute paths)."""

    base: str  # e.g. /srv/hotline/shenyang-front

    @property
    def cfg(self) -> str:
        return f"{self.base}/kamailio.cfg"

    @property
    def dispatcher_list(self) -> str:
        return f"{self.base}/dispatcher.list"

    @property
    def ctl(self) -> str:
        return f"{self.base}/kamailio_ctl"

    @property
    def pidfile(self) -> str:
        return f"{self.base}/kamailio.pid"


def front_of(center: Center) -> Front:
    if center.front is None:
        raise ValueError("the center file has no [front] table (the SIP front's address)")
    return center.front


def dispatcher_list(center: Center) -> str:
    """Set 1: one destination per node, named by the node (attribute duid)."""
    lines = [f"# rendered from the center file of {center.code}: one line per node",
             "# setid destination flags priority attributes"]
    for n in center.nodes:
        lines.append(f"{SET} sip:{n.bind}:{n.sip_port} 0 0 duid={n.name}")
    return "\n".join(lines) + "\n"


def kamailio_cfg(center: Center, paths: FrontPaths) -> str:
    front = front_of(center)
    numbers = (center.hotline_number, *(h.extension for h in center.hosted))
    entries = " && ".join(f'$rU != "{n}"' for n in numbers)
    loads = "\n".join(f'loadmodule "{m}.so"' for m in MODULES)
    return f"""#!KAMAILIO
# The SIP front of {center.code}: rendered by `hotline deploy kamailio` from the center file;
# do not edit (asterisk_conf/kamailio.py says what it does).

debug=2
log_stderror=no
log_facility=LOG_LOCAL0
log_prefix="{{$mt $hdr(CSeq) $ci}} "
children={front.children}
listen=udp:{front.bind}:{front.sip_port}
auto_aliases=no
alias=udp:{front.bind}:{front.sip_port}
server_header="Server: hotline12328-front"
user_agent_header="User-Agent: hotline12328-front"
disable_tcp=yes
dns=no
rev_dns=no

{loads}

modparam("ctl", "binrpc", "unix:{paths.ctl}")
modparam("tm", "fr_timer", {front.invite_timeout_s * 1000})
modparam("tm", "fr_inv_timer", 120000)
modparam("rr", "enable_full_lr", 1)
modparam("rr", "append_fromtag", 1)
modparam("dispatcher", "list_file", "{paths.dispatcher_list}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:front@{front.bind}")
modparam("dispatcher", "ds_ping_interval", {front.probe_interval_s})
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2;code=401;code=403;code=404;code=405")
modparam("dispatcher", "xavp_dst", "_dsdst_")

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (!sanity_check("17895", "7")) {{
        exit;
    }}
    if (has_totag()) {{
        # Within a dialog: follow the route set this front put in.
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("OPTIONS") && uri == myself) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (!is_method("INVITE")) {{
        # Seats register to their own node; nothing else enters through the front.
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    # The hotline number, and each hosted center's entry (docs/province.md).
    if ({entries}) {{
        sl_send_reply("404", "Not Found");
        exit;
    }}
    t_check_trans();
    record_route();
    # Round robin over the live nodes of set {SET}.
    if (!ds_select_dst("{SET}", "4")) {{
        xlog("L_ERR", "$TV(Sn) no live node for $ci from $si\\n");
        sl_send_reply("503", "No node available");
        exit;
    }}
    xlog("L_INFO", "$TV(Sn) call $ci to $du ($xavp(_dsdst_=>attrs))\\n");
    t_on_failure("NEXT_NODE");
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}

failure_route[NEXT_NODE] {{
    if (t_is_canceled()) {{
        exit;
    }}
    # A node that did not answer in time, or answered 5xx: out of the set until its probes
    # succeed again; the call goes to the next live node.
    if (t_check_status("5[0-9][0-9]") || (t_branch_timeout() && !t_branch_replied())) {{
        xlog("L_WARN", "$TV(Sn) node $du failed for $ci ($T_reply_code); marked inactive\\n");
        ds_mark_dst("ip");
        if (ds_next_dst()) {{
            xlog("L_INFO", "$TV(Sn) call $ci moved to $du\\n");
            t_on_failure("NEXT_NODE");
            t_relay();
            exit;
        }}
        t_reply("503", "No node available");
    }}
}}
"""


def render(center: Center, paths: FrontPaths) -> dict[str, str]:
    """{file name: text} for the front's directory."""
    return {"kamailio.cfg": kamailio_cfg(center, paths),
            "dispatcher.list": dispatcher_list(center)}
