"""Healthchecks of the deployment's services, light enough to run every few seconds:

    python3 -m hotline.shell.deploy.health engine [--ami]   the engine's /healthz answers
                                                             (--ami: and every node's AMI is up)
    python3 -m hotline.shell.deploy.health ivr [--node N]   the IVR's FastAGI port accepts

Only the center file is read (the kernel and the standard library are imported, nothing else),
so a check costs tens of milliseconds, not the whole `hotline` command's start. Exit 0: healthy.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

from hotline import center as center_mod
from hotline.center import Center, CenterError


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0") else host


def check(center: Center, service: str, node: str | None = None, ami: bool = False,
          timeout: float = 3.0) -> str:
    """"" when healthy, else why not."""
    try:
        if service == "engine" and center.metrics_port:
            url = f"http://{_loopback(center.metrics_host)}:{center.metrics_port}/healthz"
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                body = json.loads(resp.read())
            down = sorted(n for n, s in body.get("nodes", {}).items() if s != "up")
            return f"AMI down on {', '.join(down)}" if ami and down else ""
        if service == "engine":
            socket.create_connection((_loopback(center.http_host), center.http_port),
                                     timeout=timeout).close()
            return ""
        port = center.node(node).fastagi_port
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        return ""
    except KeyError:
        return f"no node named {node!r}"
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return f"not answering ({exc})"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("service", choices=("engine", "ivr"))
    p.add_argument("--node", help="the IVR's node (default: the first)")
    p.add_argument("--ami", action="store_true",
                   help="engine: also unhealthy while a node's AMI connection is down")
    p.add_argument("--timeout", type=float, default=3.0)


def run(args: argparse.Namespace) -> int:
    center = center_mod.load(getattr(args, "center", None) or center_mod.default_path())
    problem = check(center, args.service, args.node, args.ami, args.timeout)
    if problem:
        print(f"{args.service}: {problem}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m hotline.shell.deploy.health")
    p.add_argument("--center")
    add_arguments(p)
    try:
        return run(p.parse_args(argv))
    except CenterError as exc:
        print(f"center description: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
