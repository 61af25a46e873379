"""A running Asterisk for tests: the shipped example center on free ports, its own instance.

Ports are drawn free (hotline/shell/simulate/ports.py), but another test run on the machine may
take one before Asterisk binds it: `running_pbx` then starts again on fresh ports (every node's,
and the engine's) rather than failing or skipping."""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asterisk_conf import rig
from hotline import center as center_mod
from hotline.center import Center
from hotline.shell.simulate.ports import free_ports, retrying
from hotline.shell.simulate.sipp import Sipp
from hotline.shell.wiring import rig_installers


def example_center_data(**engine: Any) -> dict[str, Any]:
    """The example center, with every port of its node replaced by a free one."""
    data = tomllib.loads(center_mod.EXAMPLE.read_text(encoding="utf-8"))
    data["engine"].update(**engine)
    return with_free_ports(data)


def with_free_ports(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a center description with every port of its nodes and of its engine replaced
    by a free one (each node its own 100 RTP ports; a metrics port of 0, none, stays 0)."""
    data = copy.deepcopy(data)
    nodes = data["nodes"]
    ports = free_ports(4 * len(nodes) + 3)
    rtp = 20000 + (os.getpid() % 50) * 200
    for i, node in enumerate(nodes):
        sip, ami, agi, pstn = ports[4 * i:4 * i + 4]
        node.update(sip_port=sip, ami_port=ami, fastagi_port=agi, rtp_start=rtp + 100 * i,
                    rtp_end=rtp + 100 * i + 99, pstn_gateway=f"127.0.0.1:{pstn}")
    engine = data["engine"]
    engine.update(redis_port=ports[-3], http_port=ports[-2])
    if engine.get("metrics_port", 1) != 0:
        engine["metrics_port"] = ports[-1]
    return data


def dump_toml(data: dict[str, Any]) -> str:
    """Enough TOML for a center description: scalars, lists, tables, arrays of tables."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):  # an inline table ({ code = "meal", title = "用餐" })
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    def tables(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    lines = [f"{k} = {value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not tables(v)]

    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in v.items()
                                       if not tables(vv) and not isinstance(vv, dict)]
            for kk, vv in v.items():  # [schedules.office]: tables inside a table
                if isinstance(vv, dict):
                    lines += ["", f"[{k}.{kk}]"] + [f"{x} = {value(y)}" for x, y in vv.items()]
            for kk, vv in v.items():  # [[exchange.peers]]: arrays of tables inside a table
                if tables(vv):
                    for item in vv:
                        lines += ["", f"[[{k}.{kk}]]"] + [f"{x} = {value(y)}"
                                                         for x, y in item.items()]
        elif tables(v):
            for item in v:
                lines += ["", f"[[{k}]]"] + [f"{kk} = {value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines) + "\n"


@dataclass
class RunningPbx:
    center: Center
    instance: rig.Instance
    state: Path
    center_file: Path

    @property
    def node(self):  # type: ignore[no-untyped-def]
        return self.instance.node

    @property
    def ami(self) -> dict[str, Any]:
        n = self.instance.node
        return {"host": "127.0.0.1", "port": n.ami_port, "username": n.ami_user,
                "secret": self.instance.ami_secret}

    @property
    def pstn_port(self) -> int:
        """Where a test's SIPp plays the public network (other hotlines) for hand-offs."""
        return int(self.instance.node.pstn_gateway.rsplit(":", 1)[1])

    def seat_password(self, seat_id: str) -> str:
        return self.instance.secrets.seats[seat_id]

    def sipp(self) -> Sipp:
        return Sipp("127.0.0.1", self.instance.node.sip_port)

    def queue_log(self) -> list[list[str]]:
        """queue_log as rows of fields."""
        if not self.instance.queue_log.exists():
            return []
        return [line.split("|") for line in
                self.instance.queue_log.read_text(errors="replace").splitlines() if line]

    def hangup_all(self) -> None:
        try:
            self.instance.cli("channel request hangup all")
        except rig.RigError:
            pass

    def remove_all_members(self) -> None:
        for q in self.center.queues:
            out = self.instance.cli(f"queue show {q.name}")
            for line in out.splitlines():
                line = line.strip()
                if "(PJSIP/" in line:
                    iface = line[line.index("(PJSIP/") + 1:].split(" ")[0].rstrip(")")
                    self.instance.cli(f"queue remove member {iface} from {q.name}")


@contextmanager
def running_pbx(state: Path, name: str, data: dict[str, Any] | None = None,
                attempts: int = 4) -> Iterator[RunningPbx]:
    """Render and start an instance of the center's first node; always stop it and remove its
    directory. If it cannot start (a port taken meanwhile by someone else: the port check, or
    Asterisk's AMI that never answers us), it starts again with fresh ports, at most `attempts`
    times in all: read the ports from the RunningPbx, not from `data`."""
    root = rig.build_root()
    first = data or example_center_data()
    tries = iter(range(attempts))

    def start() -> tuple[Center, Path, rig.Instance]:
        used = first if next(tries) == 0 else with_free_ports(first)
        center = center_mod.parse(used)
        center_file = state / f"center-{name}.toml"
        center_file.write_text(dump_toml(used), encoding="utf-8")
        assert center_mod.load(center_file) == dataclasses.replace(center, source=center_file)
        center = center_mod.load(center_file)
        inst = rig.instance(center, name=name, root=root, state=state,
                            installers=rig_installers(center))
        shutil.rmtree(inst.base, ignore_errors=True)
        inst.up()
        return center, center_file, inst

    center, center_file, inst = retrying(
        start, lambda exc: isinstance(exc, rig.RigError) and "already running" not in str(exc),
        attempts)
    try:
        yield RunningPbx(center=center, instance=inst, state=state, center_file=center_file)
    finally:
        inst.down()
        keep = os.environ.get("HOTLINE_KEEP_INSTANCES")
        if not keep:
            shutil.rmtree(inst.base, ignore_errors=True)
