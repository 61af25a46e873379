"""`hotline`: the one console command. Each package adds its subcommands from its own `cli.py`;
the long-running parts (engine, IVR, the rig's installers) come from hotline.shell.wiring."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import acd.callers.cli
import acd.cli
import acd.history.cli
import acd.orders.cli
import asterisk_conf.cli
import ivr.cli
import queue_stats.cli
import recordings.cli
from acd.errors import Refused
from hotline import logs
from hotline.center import CenterError
from hotline.shell import demo, wiring
from ivr.menu import MenuError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="hotline12328: ACD/IVR engine for a 12328 hotline center on Asterisk.",
    )
    parser.add_argument("--center", help="center description (TOML); default $HOTLINE_CENTER, "
                        "./center.toml or the shipped example")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each subcommand sets `func(args) -> int`.
    asterisk_conf.cli.register(sub, installers_for=wiring.rig_installers)
    demo.register(sub)
    acd.cli.register(sub, run_engine=wiring.run_engine)
    acd.history.cli.register(sub)
    ivr.cli.register(sub, serve_ivr=wiring.serve_ivr)
    acd.orders.cli.register(sub)
    acd.callers.cli.register(sub)
    recordings.cli.register(sub)
    queue_stats.cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CenterError as exc:
        print(f"hotline: center description: {exc}", file=sys.stderr)
        return 2
    except MenuError as exc:
        print(f"hotline: menu: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"hotline {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
