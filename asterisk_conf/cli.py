"""`hotline pbx ...`: build, render, start, stop and inspect the Asterisk rig.

The shell registers these with the installers an instance needs beyond its configuration
(prompts, classic AGI scripts), so this package imports nothing above it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from asterisk_conf import fail2ban, rig, tls
from hotline import center as center_mod
from hotline import paths
from hotline import secrets as secrets_mod
from hotline.center import Center

InstallersFor = Callable[[Center], tuple[rig.Installer, ...]]


def _instance(args: argparse.Namespace) -> rig.Instance:
    center = center_mod.load(args.center or center_mod.default_path())
    return rig.instance(center, node=args.node, name=args.instance,
                        installers=args.installers_for(center))


def instance_default() -> str | None:
    """`--instance`'s default: `$HOTLINE_INSTANCE` (a deployment names its instance once, in
    its environment), else `<center>-<node>`."""
    return os.environ.get("HOTLINE_INSTANCE") or None


def _build(args: argparse.Namespace) -> int:
    root = paths.asterisk_root()
    if rig.root_is_built(root):
        print(f"asterisk root: cached at {root} ({rig.asterisk_version(root)})")
        return 0
    print(f"building the Asterisk root at {root} (Debian {rig.SUITE}, about 30 s)...",
          file=sys.stderr)
    rig.build_root(root)
    print(f"asterisk root: built ({rig.asterisk_version(root)})")
    return 0


def _render(args: argparse.Namespace) -> int:
    if args.out:
        # For a deployment where Asterisk runs elsewhere (docker/): write the instance tree
        # (etc/, log/, spool/, ...) under OUT, as Asterisk will see it at /srv/hotline/<name>.
        center = center_mod.load(args.center or center_mod.default_path())
        node = center.node(args.node)
        name = args.instance or f"{center.code}-{node.name}"
        secrets = secrets_mod.load_or_create(center, paths.state_dir())
        inst = rig.Instance(center=center, node=node, root=Path(args.out), name=name,
                            secrets=secrets, installers=args.installers_for(center))
        inst.render(system_hosts=False)
        print(f"rendered {name} into {inst.base}")
        return 0
    inst = _instance(args)
    inst.render()
    print(f"rendered {inst.name} into {inst.host(inst.inner.etc)}")
    return 0


def _up(args: argparse.Namespace) -> int:
    inst = _instance(args)
    inst.up()
    print(f"asterisk {inst.name} up: AMI 127.0.0.1:{inst.node.ami_port}, "
          f"SIP udp {inst.node.bind}:{inst.node.sip_port}, queue_log {inst.queue_log}")
    return 0


def _down(args: argparse.Namespace) -> int:
    _instance(args).down()
    return 0


def _status(args: argparse.Namespace) -> int:
    inst = _instance(args)
    info = {"instance": inst.name, "running": inst.running(), "pid": inst.pid(),
            "ami": f"{inst.node.bind}:{inst.node.ami_port}",
            "sip": f"{inst.node.bind}:{inst.node.sip_port}", "queue_log": str(inst.queue_log),
            "recordings": str(inst.recordings), "log": str(inst.messages_log)}
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0 if info["running"] else 1


def _cli(args: argparse.Namespace) -> int:
    print(_instance(args).cli(" ".join(args.words)), end="")
    return 0


def _credentials(args: argparse.Namespace) -> int:
    """From the center file and the secrets alone: no Asterisk root is needed (a deployment's
    engine container has none)."""
    center = center_mod.load(args.center or center_mod.default_path())
    node = center.node(args.node)
    secrets = secrets_mod.load_or_create(center, paths.state_dir())
    print(f"SIP registrar: {node.bind}:{node.sip_port} (UDP)")
    for seat in center.seats_on(node.name):
        print(f"  seat {seat.id}: username {seat.id}  password {secrets.seats[seat.id]}")
    for sup in center.supervisors_on(node.name):
        print(f"  supervisor {sup.id}: username {sup.id}  "
              f"password {secrets.supervisors[sup.id]}")
    if node.tls_port:
        crt, _ = tls.ensure(paths.state_dir(), center, node)
        print(f"SIP over TLS: {node.bind}:{node.tls_port}, certificate SHA-256 "
              f"{tls.fingerprint(crt)}")
    print(f"AMI: {node.bind}:{node.ami_port} user {node.ami_user} "
          f"secret {secrets.ami_secret(node.name)}")
    return 0


def _fail2ban(args: argparse.Namespace) -> int:
    """The fail2ban jail of the instance, for /etc/fail2ban/jail.d/ (asterisk_conf/fail2ban.py)."""
    inst = _instance(args)
    print(fail2ban.jail_conf(inst.center, inst.node, inst.name, inst.security_log), end="")
    return 0


def _run_id(value: str) -> str:
    """A run's id as `./run tests` makes it (tests-PID-EPOCH): letters, digits, . _ -. An
    empty one would match every process, so it is refused rather than read as "any"."""
    if not rig.RUN_ID.fullmatch(value):
        raise argparse.ArgumentTypeError("a run id is 1 to 64 letters, digits, '.', '_' or '-'")
    return value


def _reap(args: argparse.Namespace) -> int:
    root, run = paths.asterisk_root(), args.run
    killed = [f"asterisk {pid}" for pid in (rig.reap(root, run) if root.exists() else [])]
    killed += [f"sipp {pid}" for pid in rig.reap_named(("sipp",), run=run)]
    killed += [f"redis-server {pid}"
               for pid in rig.reap_named(("redis-server",), marker=b"hotline-redis", run=run)]
    if run:
        # The engines and IVRs the run started (python -m hotline.shell.cli ...): only with a
        # run's id, never every engine of the machine.
        killed += [f"hotline {pid}" for pid in rig.reap_named(
            None, marker=b"hotline.shell.cli", run=run)]
    if killed:
        print(f"reaped {len(killed)} leftover process(es): {', '.join(killed)}",
              file=sys.stderr)
    return 1 if killed and args.check else 0


def register(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
             installers_for: InstallersFor) -> None:
    pbx = sub.add_parser("pbx", help="the Asterisk rig: build, up, down, status, cli")
    pbx.set_defaults(installers_for=installers_for)
    psub = pbx.add_subparsers(dest="pbx_command", metavar="ACTION", required=True)

    def add(name: str, func, help: str) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = psub.add_parser(name, help=help)
        p.add_argument("--node", help="node of the center (default: the first)")
        p.add_argument("--instance", default=instance_default(),
                       help="instance name (default: $HOTLINE_INSTANCE, else <center>-<node>)")
        p.set_defaults(func=func)
        return p

    b = psub.add_parser("build", help="build (or reuse) the cached Debian sid root with Asterisk 22")
    b.set_defaults(func=_build)
    rp = add("render", _render, "render asterisk_conf for a node into its instance directory")
    rp.add_argument("--out", help="render into OUT/srv/hotline/<instance> instead of the "
                    "cached root (for docker/ and other deployments)")
    add("up", _up, "render and start Asterisk; wait until AMI accepts a login")
    add("down", _down, "stop Asterisk, leaving no process behind")
    add("status", _status, "is the instance running; where its logs and queue_log are")
    c = add("cli", _cli, "run one Asterisk CLI command, e.g. hotline pbx cli queue show")
    c.add_argument("words", nargs="+")
    add("credentials", _credentials, "SIP passwords of the seats and the AMI secret")
    add("fail2ban", _fail2ban, "the fail2ban jail that bans addresses failing at SIP "
        "(put it in /etc/fail2ban/jail.d/)")
    r = psub.add_parser("reap", help="kill every Asterisk, SIPp and Redis this project left running "
                        "(with --run, the run's engines and IVRs too)")
    r.add_argument("--check", action="store_true",
                   help="exit 1 if anything had to be killed (used after the test suite)")
    r.add_argument("--run", default="", metavar="ID", type=_run_id,
                   help="only processes started under HOTLINE_RUN=ID (./run tests sets it, so "
                   "a suite never kills a demo's or another suite's Asterisk)")
    r.set_defaults(func=_reap)
