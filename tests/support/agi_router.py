"""A minimal FastAGI server that sends every call the same way and rates every survey 2: the
test's stand-in for the IVR process, so that a test can kill a real FastAGI server under a live
dialplan, or check the dialplan's branches without the IVR's menus.

    python -m tests.support.agi_router PORT queue:QUEUE | handoff:NUMBER | hangup:
"""

from __future__ import annotations

import asyncio
import sys

from panoramisk.fast_agi import Application


def main() -> None:
    port = int(sys.argv[1])
    status, _, value = sys.argv[2].partition(":")
    variable = {"queue": "HOTLINE_QUEUE", "handoff": "HOTLINE_HANDOFF"}.get(status)

    async def ivr(request) -> None:  # type: ignore[no-untyped-def]
        await request.send_command("SET VARIABLE HOTLINE_IVR_PATH \"test\"")
        if variable:
            await request.send_command(f"SET VARIABLE {variable} \"{value}\"")
        await request.send_command(f"SET VARIABLE HOTLINE_IVR_STATUS \"{status}\"")

    async def survey(request) -> None:  # type: ignore[no-untyped-def]
        await request.send_command("SET VARIABLE HOTLINE_SURVEY \"2\"")

    async def serve() -> None:
        app = Application(loop=asyncio.get_running_loop())
        app.add_route("ivr", ivr)
        app.add_route("survey", survey)
        server = await asyncio.start_server(app.handler, "127.0.0.1", port)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
