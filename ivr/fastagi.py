"""The FastAGI server (panoramisk): routes `ivr`, `survey`, `announce` and `revisit`, all
`async def` (the last two, and the ivr route's blocked / hours / priority steps, are
ivr/callers.py).

A route parses, walks the menu, and sets status variables; the dialplan branches on them. A
failure inside a route sets HOTLINE_IVR_STATUS=error (the dialplan then sends the caller to
the default queue); it is never swallowed silently. Routes are matched by exact name, with
arguments after a comma: AGI(agi://127.0.0.1:PORT/ivr,${PROMPTS}).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Application

from acd.callers.hours import Clock
from acd.callers.live import LiveReader
from acd.live.broadcast import Broadcasts
from acd.orders import knowledge
from asterisk_conf.render import callbacks_on
from hotline.center import Center
from hotline.logs import get_logger, mask_number
from ivr import flow, prompts
from ivr.callers import Callers
from ivr.menu import Menu

log = get_logger(__name__)
KEYS_ALL = "0123456789*#"
# Round trips of AGI commands that return at once (SET VARIABLE, CHANNEL STATUS), in seconds,
# kept when $HOTLINE_AGI_TIMINGS names a file to write them to at exit (bench/ivr_agi.py).
TIMINGS: list[float] | None = [] if os.environ.get("HOTLINE_AGI_TIMINGS") else None


class AgiChannel:
    """flow.Channel over a FastAGI request."""

    def __init__(self, request: Any, inner_prompts: str, host_prompts: Path | None) -> None:
        self.request = request
        self.inner = inner_prompts.rstrip("/")
        self.host = host_prompts
        self.commands = 0

    async def command(self, line: str) -> dict[str, Any]:
        self.commands += 1
        started = time.perf_counter()
        reply = await self.request.send_command(line)
        if TIMINGS is not None and line.startswith("SET VARIABLE"):
            TIMINGS.append(time.perf_counter() - started)
        error = reply.get("error")
        if error == "AGIResultHangup":
            raise flow.Hangup()
        if error == "AGIAppError":
            # -1: a hang-up, or a command that failed on a live channel (a missing file).
            status = await self.request.send_command("CHANNEL STATUS")
            if status.get("error"):
                raise flow.Hangup()
            log.warning("agi command failed on a live channel", command=line.split()[0:3])
            return {"result": ("0", "")}
        if error:
            raise RuntimeError(f"AGI {line.split()[0]} failed: {reply.get('msg')}")
        return reply

    @staticmethod
    def _key(reply: dict[str, Any]) -> str:
        try:
            code = int(reply.get("result", ("0", ""))[0] or 0)
        except ValueError:
            return ""
        return chr(code) if 0 < code < 256 and chr(code) in KEYS_ALL else ""

    async def play(self, prompt: str, keys: str = "") -> str:
        reply = await self.command(f'STREAM FILE {self.inner}/{prompt} "{keys}"')
        return self._key(reply) if keys else ""

    async def wait_digit(self, timeout_s: float) -> str:
        return self._key(await self.command(f"WAIT FOR DIGIT {int(timeout_s * 1000)}"))

    async def play_text(self, text: str, keys: str = "") -> str:
        """Speak a text (the broadcast, a knowledge entry); one that may not be spoken, or
        that espeak-ng fails on, is skipped (logged): the caller goes on through the menu."""
        if self.host is None:
            return ""
        try:
            name = await asyncio.to_thread(prompts.broadcast_prompt, text, self.host)
        except (prompts.PromptError, OSError) as exc:
            log.warning("text not spoken", problem=str(exc), length=len(text))
            return ""
        return await self.play(name, keys)

    async def progress(self, result: flow.Result) -> None:
        await self.set("HOTLINE_IVR_PATH", result.path_text)
        await self.set("HOTLINE_BROADCAST", "1" if result.heard_broadcast else "")

    async def set(self, name: str, value: str) -> None:
        safe = value.replace('"', "").replace("\n", " ")
        await self.command(f'SET VARIABLE {name} "{safe}"')


def speakable(text: str | None, what: str) -> str | None:
    """The text if it may be spoken to callers (ivr.prompts.check_text), else None: a hostile
    or oversized broadcast or knowledge entry is left out, logged, and the menu goes on."""
    if text is None:
        return None
    try:
        return prompts.check_text(text)
    except prompts.PromptError as exc:
        log.warning("text refused for the ivr", what=what, problem=str(exc), length=len(text))
        return None


class IvrServer:
    def __init__(self, center: Center, menu: Menu, broadcasts: Broadcasts,
                 host_prompts: Path | None, node: str | None = None,
                 sessions: Any = None, clock: Clock | None = None,
                 live: LiveReader | None = None) -> None:
        self.sessions = sessions  # the knowledge base, orders, blocked numbers
        self.center = center
        self.menu = menu
        self.broadcasts = broadcasts
        self.host_prompts = host_prompts
        self.calls = 0
        # A transfer is offered only where the node can dial out (a PSTN gateway is set).
        node_ = center.node(node)
        self.handoffs = dataclasses.replace(
            center.handoffs,
            transfer_enabled=center.handoffs.transfer_enabled and bool(node_.pstn_gateway))
        self.callers = Callers(center, sessions, clock or Clock.real(center.timezone),
                               live or LiveReader(None, center.code),
                               callbacks_on(center, node_), self._channel)

    def application(self) -> Application:
        app = Application(loop=asyncio.get_running_loop())
        app.add_route("ivr", self.ivr)
        app.add_route("survey", self.survey)
        app.add_route("announce", self.callers.announce)
        app.add_route("revisit", self.callers.revisit)
        return app

    def _channel(self, request: Any) -> AgiChannel:
        inner = request.headers.get("agi_arg_1") or ""
        if not inner:
            raise RuntimeError("the dialplan passed no prompts directory (agi_arg_1)")
        return AgiChannel(request, inner, self.host_prompts)

    async def ivr(self, request: Any) -> None:
        self.calls += 1
        uid = request.headers.get("agi_uniqueid", "")
        caller = request.headers.get("agi_callerid", "")
        try:
            channel = self._channel(request)
            if await self.callers.blocked(caller):
                await channel.set("HOTLINE_IVR_STATUS", "blocked")
                log.info("ivr", uniqueid=uid, caller=mask_number(caller), status="blocked")
                return

            async def progress(prompt: str) -> None:
                await self.callers.progress(channel, caller, prompt)

            # The center whose number the caller dialled (the dialplan's HOTLINE_CENTER: a
            # hosted center's extension sets its code): the menu's queue choice is mapped
            # onto that center's queues, its default queue is the fallback; the broadcast
            # is that center's (its supervisors set it on their wallboard).
            code = request.headers.get("agi_arg_2", "") or self.center.code
            if code not in self.center.codes:
                log.warning("ivr: unknown center from the dialplan; the primary's menu",
                            uniqueid=uid, center=code[:40])
                code = self.center.code
            text = speakable(await self.broadcasts.current(center=code), "broadcast")
            result = await flow.walk(self.menu, channel, self.handoffs, text,
                                     self.center.default_queue_of(code), self.knowledge,
                                     progress)
            if result.status == "queue":
                result.queue = self.center.route_queue(code, result.queue)
            if result.status == "queue" and self.callers.closed(result.queue):
                result.status = "closed"
            if result.status == "queue":
                await channel.set("HOTLINE_PRIORITY", await self.callers.priority(caller))
            await channel.set("HOTLINE_IVR_PATH", result.path_text)
            await channel.set("HOTLINE_BROADCAST", "1" if result.heard_broadcast else "")
            await channel.set("HOTLINE_QUEUE", result.queue)
            await channel.set("HOTLINE_HANDOFF", result.handoff)
            await channel.set("HOTLINE_IVR_STATUS", result.status)
            log.info("ivr", uniqueid=uid, caller=mask_number(caller), status=result.status,
                     queue=result.queue, path=result.path_text, seconds=result.seconds)
        except flow.Hangup:
            log.info("caller hung up in the ivr", uniqueid=uid)
        except Exception as exc:
            log.exception("ivr route failed; caller goes to the default queue", uniqueid=uid)
            try:
                await request.send_command('SET VARIABLE HOTLINE_IVR_STATUS "error"')
            except Exception:  # noqa: BLE001 - the channel may be gone too
                pass
            del exc

    async def knowledge(self, title: str) -> str | None:
        """The body of the valid knowledge entry with this title that is marked for the IVR;
        None without a database, or when the database does not answer (logged)."""
        if self.sessions is None:
            return None

        def lookup() -> str | None:
            with self.sessions() as s:
                return knowledge.for_ivr(s, title, self.center.today())

        try:
            return speakable(await asyncio.to_thread(lookup), "knowledge entry")
        except Exception:
            log.exception("knowledge base unavailable to the ivr")
            return None

    async def survey(self, request: Any) -> None:
        uid = request.headers.get("agi_uniqueid", "")
        try:
            channel = self._channel(request)
            score = await flow.survey(channel)
            await channel.set("HOTLINE_SURVEY", "" if score is None else str(score))
            log.info("survey", uniqueid=uid, score=score)
        except flow.Hangup:
            log.info("caller hung up in the survey", uniqueid=uid)
        except Exception:
            log.exception("survey route failed; not rated", uniqueid=uid)


class _EofGuard:
    """panoramisk's handler reads the AGI headers with `read()` until a blank line and never
    looks for the end of the stream: a connection closed before its headers (a port probe, a
    healthcheck, a scanner) makes it loop on b"" without ever yielding, and the whole IVR
    stops. Through this guard the end of the stream ends the connection instead."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def read(self, n: int = -1) -> bytes:
        data = await self._reader.read(n)
        if not data:
            raise ConnectionResetError("FastAGI connection closed before its request")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


async def serve(server: IvrServer, host: str, port: int) -> asyncio.base_events.Server:
    app = server.application()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await app.handler(_EofGuard(reader), writer)
        except ConnectionResetError:
            log.debug("fastagi connection closed before its request")
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
