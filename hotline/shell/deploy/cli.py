"""`hotline deploy ...`: what a deployment runs besides the services themselves.

    hotline deploy prepare [--out /] [--node N]    prompts built, the node's Asterisk instance
                                                   rendered for a deployment (docker/, systemd)
    hotline deploy health engine|ivr               exit 0 while the service answers (healthchecks)
    hotline deploy images [--tool podman|docker]   build docker/'s images offline (images.py)
    hotline deploy systemd --out DIR               systemd units for the same services
    hotline deploy kamailio --out DIR              the SIP front's configuration (asterisk_conf/)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from asterisk_conf import kamailio, rig
from hotline import center as center_mod
from hotline import paths
from hotline import secrets as secrets_mod
from hotline.center import Center, CenterError
from hotline.shell import wiring
from hotline.shell.deploy import health, images, systemd
from ivr import menu as menu_mod
from ivr import prompts


def _center(args: argparse.Namespace) -> Center:
    return center_mod.load(args.center or center_mod.default_path())


def _node(center: Center, name: str | None) -> str:
    names = [n.name for n in center.nodes]
    if name is not None and name not in names:
        raise CenterError("nodes", f"no node named {name!r} (the center has {', '.join(names)})")
    return name or names[0]


def _prepare(args: argparse.Namespace) -> int:
    """Everything Asterisk needs before it starts, as the deployment's user: the prompts
    spoken into the state directory, then the node's instance tree (config, directories,
    prompts, hold music) under OUT/srv/hotline/<instance>, readable by the group."""
    center = _center(args)
    node = center.node(_node(center, args.node))
    if center.ivr != "fastagi":
        print("hotline deploy prepare: a deployment runs the FastAGI IVR (center.ivr = "
              "\"fastagi\"); classic AGI scripts are for the rig", file=sys.stderr)
        return 2
    menu = menu_mod.load(args.menu or menu_mod.DEFAULT, center)
    done = prompts.build(menu.prompts)
    name = args.instance or f"{center.code}-{node.name}"
    inst = rig.Instance(center=center, node=node, root=Path(args.out), name=name,
                        secrets=secrets_mod.load_or_create(center, paths.state_dir()),
                        installers=wiring.rig_installers(center))
    inst.render(system_hosts=False, shared_group=True)
    print(f"prepared {name} in {inst.base}: {len(done)} prompts, "
          f"{len(list(inst.prompts.glob('*.wav')))} installed")
    return 0


def _images(args: argparse.Namespace) -> int:
    try:
        refs = images.build_all(args.tool, args.mirror, args.security_mirror,
                                Path(args.asterisk_root) if args.asterisk_root else None,
                                tuple(args.only or ()))
    except images.ImageError as exc:
        print(f"hotline deploy images: {exc}", file=sys.stderr)
        return 1
    lines = images.env_lines(refs)
    if args.env_file:
        _merge_env(Path(args.env_file), lines)
        print(f"image names written into {args.env_file}", file=sys.stderr)
    print(lines, end="")
    return 0


def _merge_env(path: Path, lines: str) -> None:
    """Set these variables in an .env file, keeping every other line."""
    new = dict(line.split("=", 1) for line in lines.splitlines())
    kept = [line for line in (path.read_text().splitlines() if path.exists() else [])
            if line.split("=", 1)[0] not in new]
    path.write_text("\n".join([*kept, *(f"{k}={v}" for k, v in new.items())]) + "\n")


def _systemd(args: argparse.Namespace) -> int:
    center = _center(args)
    units = systemd.render(center, systemd.Layout.from_args(args, center))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in units.items():
        (out / name).write_text(text, encoding="utf-8")
    print("\n".join(sorted(units)))
    return 0


def _kamailio(args: argparse.Namespace) -> int:
    center = _center(args)
    if center.front is None:
        raise CenterError("front", "the center file has no [front] table (the SIP front)")
    out = Path(args.out).resolve()
    files = kamailio.render(center, kamailio.FrontPaths(args.base or str(out)))
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o2770)  # Kamailio (group hotline) writes its control socket here
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"kamailio configuration for {len(center.nodes)} nodes written to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    dep = sub.add_parser("deploy", help="deployment steps: prepare, health, images, systemd, "
                         "kamailio")
    dsub = dep.add_subparsers(dest="deploy_command", metavar="ACTION", required=True)
    p = dsub.add_parser("prepare", help="build the prompts and render the node's Asterisk "
                        "instance for a deployment")
    p.add_argument("--out", default="/", help="root the instance goes under "
                   "(OUT/srv/hotline/<instance>; default /)")
    p.add_argument("--node", help="node of the center (default: the first)")
    p.add_argument("--instance", default=os.environ.get("HOTLINE_INSTANCE") or None,
                   help="instance name (default: $HOTLINE_INSTANCE, else <center>-<node>)")
    p.add_argument("--menu", help="menu file (default: ivr/menus/default.yaml)")
    p.set_defaults(func=_prepare)
    h = dsub.add_parser("health", help="exit 0 while the service answers (healthchecks use "
                        "python3 -m hotline.shell.deploy.health, the same without the CLI)")
    health.add_arguments(h)
    h.set_defaults(func=health.run)
    i = dsub.add_parser("images", help="build docker/'s images offline (mmdebstrap bases)")
    i.add_argument("--tool", choices=("podman", "docker"), default="podman")
    i.add_argument("--mirror", help="the Debian archive the bases' packages come from, e.g. "
                   "the snapshot archive's URL of a date (default: mmdebstrap's mirrors today)")
    i.add_argument("--security-mirror", help="with --mirror: the security archive of the "
                   "same date, for the bookworm base")
    i.add_argument("--asterisk-root", help="make the Asterisk base from this Debian root "
                   "(e.g. the rig's) instead of mmdebstrap")
    i.add_argument("--only", action="append", choices=[im.name for im in images.IMAGES])
    i.add_argument("--env-file", help="write the image names into this .env file")
    i.set_defaults(func=_images)
    s = dsub.add_parser("systemd", help="systemd units for the same services")
    s.add_argument("--out", required=True, help="directory for the unit files")
    systemd.add_arguments(s)
    s.set_defaults(func=_systemd)
    k = dsub.add_parser("kamailio", help="the SIP front (Kamailio) for the center's nodes")
    k.add_argument("--out", required=True, help="directory for kamailio.cfg and dispatcher.list")
    k.add_argument("--base", help="that directory as Kamailio will see it (default: --out)")
    k.set_defaults(func=_kamailio)
