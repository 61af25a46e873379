"""systemd units for the services of docker/compose.yaml, on a host without containers.

The same paths as the containers: the center file at /etc/hotline/center.toml, the state
directory /var/lib/hotline, each node's Asterisk instance under /srv/hotline/<instance>
(HOTLINE_ASTERISK_ROOT=/), secrets and service addresses in /etc/hotline/hotline.env
(HOTLINE_DATABASE_URL, HOTLINE_REDIS_URL, HOTLINE_AMI_SECRET_<NODE>, ...). The same users:
`hotline` runs the engine, the IVR and the prepare steps; Asterisk runs as `asterisk` with
`hotline` as a supplementary group, Kamailio as `kamailio` likewise. Redis and PostgreSQL are
Debian's own units (redis-server.service, postgresql.service).

    hotline-prepare-<node>.service   oneshot: prompts, the node's instance rendered
    hotline-asterisk-<node>.service  Asterisk of the node
    hotline-ivr-<node>.service       the FastAGI IVR beside it
    hotline-engine.service           the engine, its web pages, API and metrics
    hotline-front.service            Kamailio before the nodes (with a [front] table)
    hotline.target                   all of them: systemctl enable --now hotline.target
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from hotline.center import Center

_HARDENING = """NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes"""


@dataclass(frozen=True)
class Layout:
    hotline: str = "/opt/hotline12328/venv/bin/hotline"
    center_file: str = "/etc/hotline/center.toml"
    env_file: str = "/etc/hotline/hotline.env"
    state: str = "/var/lib/hotline"
    srv: str = "/srv/hotline"
    asterisk: str = "/usr/sbin/asterisk"
    kamailio: str = "/usr/sbin/kamailio"

    @classmethod
    def from_args(cls, args: argparse.Namespace, center: Center) -> Layout:
        return cls(hotline=args.hotline_bin, center_file=args.center_file or
                   str(center.source or cls.center_file), env_file=args.env_file)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hotline-bin", default=Layout.hotline,
                   help=f"the hotline command (default {Layout.hotline})")
    p.add_argument("--center-file", help=f"the center file the services read (default "
                   f"{Layout.center_file})")
    p.add_argument("--env-file", default=Layout.env_file,
                   help=f"secrets and addresses (default {Layout.env_file})")


def _environment(layout: Layout) -> str:
    return (f"Environment=HOTLINE_CENTER={layout.center_file} HOTLINE_VAR={layout.state} "
            f"HOTLINE_ASTERISK_ROOT=/\nEnvironmentFile={layout.env_file}")


def _instance(center: Center, node: str) -> str:
    return f"{center.code}-{node}"


def prepare_unit(center: Center, node: str, layout: Layout) -> str:
    inst = _instance(center, node)
    return f"""[Unit]
Description=hotline12328 {center.code}: prompts and Asterisk configuration of node {node}
PartOf=hotline.target

[Service]
Type=oneshot
RemainAfterExit=yes
User=hotline
Group=hotline
{_environment(layout)}
ExecStart={layout.hotline} deploy prepare --out / --node {node} --instance {inst}
ReadWritePaths={layout.state} {layout.srv}
{_HARDENING}
"""


def asterisk_unit(center: Center, node: str, layout: Layout) -> str:
    inst = _instance(center, node)
    return f"""[Unit]
Description=hotline12328 {center.code}: Asterisk node {node}
Requires=hotline-prepare-{node}.service
After=network-online.target hotline-prepare-{node}.service
Wants=network-online.target
PartOf=hotline.target

[Service]
User=asterisk
Group=asterisk
SupplementaryGroups=hotline
UMask=0002
ExecStart={layout.asterisk} -C {layout.srv}/{inst}/etc/asterisk.conf -f -n
ExecStop={layout.asterisk} -C {layout.srv}/{inst}/etc/asterisk.conf -rx "core stop gracefully"
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
ReadWritePaths={layout.srv}/{inst}
{_HARDENING}

[Install]
WantedBy=hotline.target
"""


def ivr_unit(center: Center, node: str, layout: Layout) -> str:
    inst = _instance(center, node)
    return f"""[Unit]
Description=hotline12328 {center.code}: FastAGI IVR of node {node}
After=network-online.target hotline-prepare-{node}.service redis-server.service
Wants=redis-server.service
PartOf=hotline.target

[Service]
User=hotline
Group=hotline
{_environment(layout)}
ExecStart={layout.hotline} ivr serve --node {node} --instance {inst}
Restart=on-failure
RestartSec=2
ReadWritePaths={layout.state} {layout.srv}/{inst}/prompts
{_HARDENING}

[Install]
WantedBy=hotline.target
"""


def engine_unit(center: Center, layout: Layout) -> str:
    nodes = " ".join(f"hotline-asterisk-{n.name}.service" for n in center.nodes)
    return f"""[Unit]
Description=hotline12328 {center.code}: the ACD engine, its web pages, API and metrics
After=network-online.target postgresql.service redis-server.service {nodes}
Wants=postgresql.service redis-server.service
PartOf=hotline.target

[Service]
User=hotline
Group=hotline
{_environment(layout)}
ExecStart={layout.hotline} engine run
ExecStartPost=/bin/sh -c 'for i in $(seq 60); do {layout.hotline} deploy health engine && exit 0; sleep 1; done; exit 1'
Restart=on-failure
RestartSec=2
TimeoutStopSec=30
ReadWritePaths={layout.state}
{_HARDENING}

[Install]
WantedBy=hotline.target
"""


def front_units(center: Center, layout: Layout) -> dict[str, str]:
    base = f"{layout.srv}/{center.code}-front"
    nodes = " ".join(f"hotline-asterisk-{n.name}.service" for n in center.nodes)
    prepare = f"""[Unit]
Description=hotline12328 {center.code}: the SIP front's configuration (Kamailio)
PartOf=hotline.target

[Service]
Type=oneshot
RemainAfterExit=yes
User=hotline
Group=hotline
{_environment(layout)}
ExecStart={layout.hotline} deploy kamailio --out {base}
ReadWritePaths={layout.srv}
{_HARDENING}
"""
    front = f"""[Unit]
Description=hotline12328 {center.code}: the SIP front (Kamailio) before {len(center.nodes)} nodes
Requires=hotline-front-prepare.service
After=network-online.target hotline-front-prepare.service {nodes}
PartOf=hotline.target

[Service]
User=kamailio
Group=kamailio
SupplementaryGroups=hotline
RuntimeDirectory=hotline-front
ExecStart={layout.kamailio} -f {base}/kamailio.cfg -DD -E -P /run/hotline-front/kamailio.pid
Restart=on-failure
RestartSec=2
ReadWritePaths={base}
{_HARDENING}

[Install]
WantedBy=hotline.target
"""
    return {"hotline-front-prepare.service": prepare, "hotline-front.service": front}


def render(center: Center, layout: Layout) -> dict[str, str]:
    """{unit file name: text} for every service of this center."""
    units: dict[str, str] = {}
    for n in center.nodes:
        units[f"hotline-prepare-{n.name}.service"] = prepare_unit(center, n.name, layout)
        units[f"hotline-asterisk-{n.name}.service"] = asterisk_unit(center, n.name, layout)
        units[f"hotline-ivr-{n.name}.service"] = ivr_unit(center, n.name, layout)
    units["hotline-engine.service"] = engine_unit(center, layout)
    if center.front is not None:
        units.update(front_units(center, layout))
    wants = " ".join(sorted(u for u in units if "prepare" not in u))
    units["hotline.target"] = f"""[Unit]
Description=hotline12328 {center.code}: every service of the center
Wants={wants}

[Install]
WantedBy=multi-user.target
"""
    return units
