"""The engine's AMI user has the fewest classes the engine needs, on the real Asterisk: every
action acd/ami/actions.py sends is allowed (and answered without "Permission denied"), every
event the live model reads is of a class it may read, and what an attacker with the AMI
secret would want (CLI commands, config, shell, modules) is refused."""

from __future__ import annotations

import ast
import asyncio
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from panoramisk import Manager

from acd import model
from acd.ami import actions as ami
from acd.ami.actions import AmiError
from asterisk_conf.render import AMI_READ, AMI_WRITE
from tests.support.real import unavailable
from tests.support.rig import RunningPbx
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parent.parent
DANGEROUS = {"system", "command", "config", "all"}
# Events the engine puts into its own pipeline (not Asterisk's), and events that come only as
# the answer to an action (QueueStatus' QueueMember), which need no read class.
INTERNAL = {"HotlineWrapupOver"}
RESPONSES = {"QueueMember"}


def _sent_actions() -> set[str]:
    """Every `"Action": "X"` acd/ami/actions.py sends."""
    tree = ast.parse((ROOT / "acd/ami/actions.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == "Action" and \
                        isinstance(v, ast.Constant):
                    names.add(v.value)
    return names


def _read_events() -> set[str]:
    """Every AMI event the live model has a handler for (UserEvents count as UserEvent)."""
    names = {n[3:] for n in dir(model.LiveModel) if n.startswith("on_") and
             not n.startswith("on_user_")}
    if any(n.startswith("on_user_") for n in dir(model.LiveModel)):
        names.add("UserEvent")
    return names - INTERNAL - RESPONSES


def _event_classes(pbx: RunningPbx) -> dict[str, set[str]]:
    """Each documented manager event's classes, from Asterisk's own documentation."""
    xml = pbx.instance.root / "usr/share/asterisk/documentation/core-en_US.xml"
    if not xml.exists():
        unavailable("Asterisk's documentation XML is not in the root")
    out: dict[str, set[str]] = {}
    for ev in ET.parse(xml).getroot().iter("managerEvent"):
        for inst in ev.iter("managerEventInstance"):
            cls = inst.get("class", "").removeprefix("EVENT_FLAG_").lower()
            out.setdefault(ev.get("name", ""), set()).add(cls)
    return out


def test_the_rendered_user_has_no_dangerous_class(pbx: RunningPbx) -> None:
    shown = wait_for("the AMI user", lambda: (lambda out: out if "write perm" in out else "")(
        pbx.instance.cli(f"manager show user {pbx.node.ami_user}")), 10)
    read = re.search(r"read perm: (.*)", shown).group(1).strip().split(",")  # type: ignore[union-attr]
    write = re.search(r"write perm: (.*)", shown).group(1).strip().split(",")  # type: ignore[union-attr]
    assert set(read) == set(AMI_READ) and set(write) == set(AMI_WRITE), shown
    assert not (set(read) | set(write)) & DANGEROUS


def test_every_action_and_event_the_engine_uses_is_allowed(pbx: RunningPbx) -> None:
    actions = _sent_actions()
    assert {"QueueAdd", "QueueStatus", "CoreShowChannels", "Originate"} <= actions
    for action in sorted(actions):
        # (right after start-up the CLI may answer empty: ask again)
        privilege = wait_for(f"{action}'s privilege", lambda a=action: re.search(
            r"\[Privilege\]\s*\n\s*(\S+)", pbx.instance.cli(f"manager show command {a}")),
            10)
        needed = set(privilege.group(1).split(",")) - {"all"}
        # An action needs one of its classes (none: anyone logged in).
        assert privilege.group(1) == "<none>" or needed & set(AMI_WRITE), (action, needed)
    classes = _event_classes(pbx)
    for event in sorted(_read_events()):
        if event == "UserEvent":
            assert "user" in AMI_READ
            continue
        assert event in classes, f"{event} is not a documented manager event"
        assert classes[event] & set(AMI_READ), (event, classes[event])


async def _as_engine(pbx: RunningPbx) -> dict[str, str]:
    manager = Manager(loop=asyncio.get_running_loop(), events="off", **pbx.ami)
    await asyncio.wait_for(manager.connect(), 10)
    for _ in range(100):
        if manager.authenticated:
            break
        await asyncio.sleep(0.05)
    results: dict[str, str] = {}

    async def attempt(name: str, call) -> None:  # type: ignore[no-untyped-def]
        try:
            await call
            results[name] = "ok"
        except AmiError as exc:
            results[name] = str(exc)

    try:
        await attempt("QueueAdd", ami.queue_add(manager, "manual", "8004"))
        await attempt("QueuePause", ami.queue_pause(manager, "8004", True, "meal"))
        await attempt("QueueStatus", ami.queue_status(manager))
        await attempt("QueueRemove", ami.queue_remove(manager, "manual", "8004"))
        await attempt("CoreShowChannels", ami.channels(manager))
        await attempt("Getvar", ami.getvar(manager, "DEVICE_STATE(PJSIP/8004)"))
        await attempt("Setvar", ami.setvar(manager, "PJSIP/nobody-00000000", "X", "1"))
        await attempt("Redirect", ami.redirect(manager, "PJSIP/nobody-00000000",
                                               "hotline-survey", "s"))
        await attempt("Originate", ami.originate(manager, "Local/00@hotline-inbound-unknown",
                                                 "hotline-inbound-unknown", "00", "", {}, 1))
        # What the engine never does, and an attacker with its secret would like to.
        for action in ({"Action": "Command", "Command": "core show version"},
                       {"Action": "GetConfig", "Filename": "manager.conf"},
                       {"Action": "UpdateConfig", "SrcFilename": "extensions.conf",
                        "DstFilename": "extensions.conf", "Action-000000": "NewCat",
                        "Cat-000000": "evil"},
                       {"Action": "ModuleLoad", "Module": "app_system.so", "LoadType": "load"},
                       {"Action": "Originate", "Channel": "Local/s@hotline-inbound-unknown",
                        "Application": "System", "Data": "touch hotline-pwned",
                        "Async": "true"}):
            reply = await asyncio.wait_for(manager.send_action(dict(action)), 10)
            results["forbidden " + action["Action"] + (" System" if "Application" in action
                                                        else "")] = reply.get("Message", "")
    finally:
        manager.close()
    return results


def test_the_engine_s_actions_pass_and_an_attacker_s_do_not(pbx: RunningPbx) -> None:
    results = asyncio.run(_as_engine(pbx))
    for name, outcome in results.items():
        if name.startswith("forbidden"):
            assert "Permission denied" in outcome or "Forbidden" in outcome, (name, outcome)
        else:
            assert "Permission denied" not in outcome, (name, outcome)
    for name in ("QueueAdd", "QueuePause", "QueueStatus", "QueueRemove", "CoreShowChannels",
                 "Getvar", "Originate"):
        assert results[name] == "ok", (name, results[name])
    assert not (pbx.instance.root / "hotline-pwned").exists()  # Asterisk runs in its root
