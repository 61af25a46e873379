"""`hotline`: the one console command. Each feature adds its subcommands in its own `cli.py`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hotline import logs
from hotline.center import CenterError
from ivr.menu import MenuError

# Every module here has `register(subparsers)`; each subcommand sets `func(args) -> int`.
COMMAND_MODULES = (
    "asterisk_conf.cli",
    "hotline.shell.demo",
    "hotline.shell.engine_cli",
    "acd.history.cli",
    "ivr.cli",
    "acd.orders.cli",
    "recordings.cli",
    "queue_stats.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="hotline12328: ACD/IVR engine for a 12328 hotline center on Asterisk.",
    )
    parser.add_argument("--center", help="center description (TOML); default $HOTLINE_CENTER, "
                        "./center.toml or the shipped example")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
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
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
