"""The IVR over classic AGI (pyst2): the same menu walk and survey as FastAGI, for deployments
that prefer `AGI(script)`. Asterisk runs the script itself, inside its root, so the code it
needs is copied there by `install_into_root` (the rig does it when the center asks for it).

    AGI(/opt/hotline/agi_scripts/hotline_ivr.py,ivr,${PROMPTS})
    AGI(/opt/hotline/agi_scripts/hotline_ivr.py,survey,${PROMPTS})

The emergency broadcast needs Redis and speech synthesis on the host: it is FastAGI only.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

import asterisk as pyst2
import six
import yaml
from asterisk.agi import AGI, AGIAppError, AGIHangup

import hotline
import ivr
from hotline.center import load as load_center
from ivr import flow
from ivr.menu import load as load_menu

INNER = "/opt/hotline"  # where the code lives inside the Asterisk root
SCRIPT = f"{INNER}/agi_scripts/hotline_ivr.py"


class ClassicChannel:
    """flow.Channel over pyst2's blocking AGI (one call per process: blocking is fine)."""

    def __init__(self, agi: Any, inner_prompts: str) -> None:
        self.agi = agi
        self.inner = inner_prompts.rstrip("/")

    def _guard(self, call: Any, *args: Any) -> str:
        try:
            return call(*args) or ""
        except AGIHangup:
            raise flow.Hangup() from None
        except AGIAppError:
            raise flow.Hangup() from None

    async def play(self, prompt: str, keys: str = "") -> str:
        return self._guard(self.agi.stream_file, f"{self.inner}/{prompt}", keys)

    async def wait_digit(self, timeout_s: float) -> str:
        return self._guard(self.agi.wait_for_digit, int(timeout_s * 1000))

    async def play_text(self, text: str, keys: str = "") -> str:
        return ""

    async def progress(self, result: Any) -> None:
        self.agi.set_variable("HOTLINE_IVR_PATH", result.path_text)
        self.agi.set_variable("HOTLINE_BROADCAST", "")


def run(argv: list[str]) -> int:
    """The script's body: `ivr` or `survey`, the prompts directory."""
    agi = AGI()
    route = argv[0] if argv else ""
    inner = argv[1] if len(argv) > 1 else ""
    channel = ClassicChannel(agi, inner)
    try:
        center = load_center(f"{INNER}/center.toml")
        if route == "ivr":
            menu = load_menu(f"{INNER}/menu.yaml", center)
            # A hosted center's caller (its code from the dialplan): its queues.
            code = argv[2] if len(argv) > 2 and argv[2] in center.codes else center.code
            result = asyncio.run(flow.walk(menu, channel, center.handoffs, None,
                                           center.default_queue_of(code)))
            if result.status == "queue":
                result.queue = center.route_queue(code, result.queue)
            agi.set_variable("HOTLINE_IVR_PATH", result.path_text)
            agi.set_variable("HOTLINE_QUEUE", result.queue)
            agi.set_variable("HOTLINE_HANDOFF", result.handoff)
            agi.set_variable("HOTLINE_IVR_STATUS", result.status)
        elif route == "survey":
            score = asyncio.run(flow.survey(channel))
            agi.set_variable("HOTLINE_SURVEY", "" if score is None else str(score))
        else:
            agi.verbose(f"hotline_ivr.py: unknown route {route!r}")
            agi.set_variable("HOTLINE_IVR_STATUS", "error")
    except flow.Hangup:
        return 0
    except Exception as exc:  # noqa: BLE001 - fail into the dialplan explicitly
        try:
            agi.verbose(f"hotline_ivr.py failed: {exc}")
            agi.set_variable("HOTLINE_IVR_STATUS", "error")
        except Exception:  # noqa: BLE001 - the channel may be gone
            pass
        return 1
    return 0


def install_into_root(root: Path, center_file: Path, menu_file: Path) -> Path:
    """Copy what the script needs into <root>/opt/hotline: this project's center and menu
    code, pyst2's `asterisk` package (and `six`, which it imports), PyYAML's pure-Python
    `yaml`, the center and the menu."""
    base = root / INNER.lstrip("/")
    lib = base / "lib"
    if base.exists():
        shutil.rmtree(base)
    (lib / "hotline").mkdir(parents=True)
    (lib / "ivr" / "menus").mkdir(parents=True)
    for name in ("__init__.py", "center.py"):
        shutil.copy(Path(hotline.__file__).parent / name, lib / "hotline" / name)
    for name in ("__init__.py", "menu.py", "flow.py"):
        shutil.copy(Path(ivr.__file__).parent / name, lib / "ivr" / name)
    shutil.copytree(Path(pyst2.__file__).parent, lib / "asterisk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(six.__file__, lib / "six.py")  # pyst2 needs it
    shutil.copytree(Path(yaml.__file__).parent, lib / "yaml",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    scripts = base / "agi_scripts"
    scripts.mkdir()
    shutil.copy(Path(__file__).parent / "__init__.py", scripts / "__init__.py")
    shutil.copy(Path(__file__), scripts / "classic.py")
    entry = scripts / "hotline_ivr.py"
    shutil.copy(Path(__file__).parent / "hotline_ivr.py", entry)
    entry.chmod(0o755)
    shutil.copy(center_file, base / "center.toml")
    shutil.copy(menu_file, base / "menu.yaml")
    return base


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
