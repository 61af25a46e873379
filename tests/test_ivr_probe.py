"""A connection to the FastAGI port that closes before its request (a healthcheck, a port
scan) must not stop the IVR: panoramisk's handler alone loops on it forever without yielding
(ivr/fastagi.py::_EofGuard). Here the server runs in its own thread and event loop; after a
probe, a real request still gets the survey's first AGI command."""

from __future__ import annotations

import asyncio
import socket
import threading

from acd.live.broadcast import Broadcasts
from hotline.center import EXAMPLE, load
from hotline.shell.simulate.ports import free_ports
from ivr.fastagi import IvrServer, serve
from ivr.menu import DEFAULT
from ivr.menu import load as load_menu


def test_a_probe_that_closes_at_once_leaves_the_ivr_serving() -> None:
    center = load(EXAMPLE)
    port = free_ports(1)[0]
    ready, done = threading.Event(), threading.Event()
    control: dict[str, object] = {}

    async def main() -> None:
        server = IvrServer(center, load_menu(DEFAULT, center), Broadcasts(None, center.code),
                           None)
        listening = await serve(server, "127.0.0.1", port)
        stop = asyncio.Event()
        control["stop"], control["loop"] = stop, asyncio.get_running_loop()
        ready.set()
        await stop.wait()
        listening.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}),
                             return_exceptions=True)
        await listening.wait_closed()
        done.set()

    threading.Thread(target=asyncio.run, args=(main(),), daemon=True).start()
    assert ready.wait(10)
    socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the probe
    with socket.create_connection(("127.0.0.1", port), timeout=5) as agi:
        agi.settimeout(5)
        agi.sendall(b"agi_network: yes\nagi_network_script: survey\nagi_uniqueid: pbx1-1.1\n"
                    b"agi_channel: PJSIP/pstn-00000001\nagi_arg_1: /srv/hotline/x/prompts\n\n")
        with agi.makefile("rb") as reply:
            command = reply.readline()
    assert command.strip(), "the IVR sent no AGI command after the probe"
    loop = control["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    loop.call_soon_threadsafe(control["stop"].set)  # type: ignore[attr-defined]
    assert done.wait(10)
