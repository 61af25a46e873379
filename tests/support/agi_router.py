"""A minimal FastAGI server that routes every call to one queue and rates every survey 2:
the test's stand-in for the IVR process, so that a test can kill a real FastAGI server under a live dialplan.

    python -m tests.support.agi_router PORT QUEUE
"""

from __future__ import annotations

import asyncio
import sys

from panoramisk.fast_agi import Application


def main() -> None:
    port, queue = int(sys.argv[1]), sys.argv[2]

    async def ivr(request) -> None:  # type: ignore[no-untyped-def]
        await request.send_command("SET VARIABLE HOTLINE_IVR_PATH \"test\"")
        await request.send_command(f"SET VARIABLE HOTLINE_QUEUE \"{queue}\"")
        await request.send_command("SET VARIABLE HOTLINE_IVR_STATUS \"queue\"")

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
