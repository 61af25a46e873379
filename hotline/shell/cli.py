"""`hotline`: the one console command. Each package adds its subcommands from its own `cli.py`;
the long-running parts (engine, IVR, the rig's installers) come from hotline.shell.wiring."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

import acd.callers.cli
import acd.cli
import acd.history.cli
import acd.orders.cli
import acd.seats.cli
import asterisk_conf.cli
import ivr.cli
import queue_stats.cli
import recordings.cli
from acd.errors import Refused
from asterisk_conf.rig import RigError
from hotline import logs
from hotline.center import CenterError
from hotline.shell import demo, wiring
from hotline.shell.deploy import cli as deploy_cli
from ivr.menu import MenuError


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument said on one line (and exit 2), never the usage block:
    `hotline staffing: error: handle_s: must be a number above 0, got '-5' (see --help)`.
    Every subcommand's parser is of this class (add_subparsers makes them of the parent's)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(text: str) -> str:
    if text.upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return text.upper()


def version() -> str:
    try:
        return metadata.version("hotline12328")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="hotline",
        description="hotline12328: ACD/IVR engine for a 12328 hotline center on Asterisk.",
    )
    parser.add_argument("--version", action="version", version=f"hotline12328 {version()}")
    parser.add_argument("--center", help="center description (TOML); default $HOTLINE_CENTER, "
                        "./center.toml or the shipped example")
    parser.add_argument("--log-level", default="INFO", type=_log_level,
                        help=f"one of {', '.join(LOG_LEVELS)} (default INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Each subcommand sets `func(args) -> int`.
    asterisk_conf.cli.register(sub, installers_for=wiring.rig_installers)
    demo.register(sub)
    acd.cli.register(sub, run_engine=wiring.run_engine)
    acd.history.cli.register(sub)
    ivr.cli.register(sub, serve_ivr=wiring.serve_ivr)
    acd.orders.cli.register(sub)
    acd.callers.cli.register(sub)
    acd.seats.cli.register(sub)
    recordings.cli.register(sub)
    queue_stats.cli.register(sub)
    deploy_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Everything this command writes (the state directory, the SQLite database, secrets,
    # reports with callers' numbers) is its user's alone unless made otherwise.
    os.umask(0o077)
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
    except (OperationalError, ProgrammingError) as exc:  # the database did not answer
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()
        print(f"hotline {args.command}: database: {reason[0] if reason else exc}",
              file=sys.stderr)
        return 2
    except ArgumentError as exc:  # not a database URL
        print(f"hotline {args.command}: --database: {exc}", file=sys.stderr)
        return 2
    except RigError as exc:
        print(f"hotline {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
