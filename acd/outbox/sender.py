"""Delivering the outbox: each channel's pending messages, oldest first, POSTed as JSON to the
channel's URL from the center file ([exchange]) with an `Idempotency-Key` header, so the
receiver can take a message it has seen again without doing it twice.

- 2xx: acknowledged. The message is sent, and what it reported counts from now on
  (acd/outbox/acks.py: a call record, a report, an order's result).
- a refusal (4xx but 408, 425, 429): rejected, kept with the receiver's answer, not retried
  (`hotline exchange status` lists them).
- anything else (no connection, a timeout, 5xx, 408, 425, 429): tried again after
  `retry_s`, then twice as long each time up to `retry_max_s`, and the link is down: an outage
  (断网) opens on `link:<channel>` in the `outages` table and closes at the next success. The
  platform link's outages are the assessment's 断网次数 / 断网时长 (queue_stats/assessment.py).

Call records go to the platform in batches (`POST <platform_url>/call-records`, up to
`BATCH` records, the batch's key the digest of its records' keys); everything else one message
a request. Whatever is not acknowledged stays pending: a later round (the engine runs one every
few seconds, `hotline exchange deliver` one on demand) resumes where the last one stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from acd.history.models import Outage
from acd.outbox import acks
from acd.outbox.models import OutboxMessage
from acd.outbox.queue import CHANNELS
from acd.outbox.queue import now as utcnow
from hotline.center import Center
from hotline.logs import get_logger

log = get_logger(__name__)
BATCH = 200
RETRYABLE = {408, 425, 429}
TOKENS = {"12345": "HOTLINE_12345_TOKEN", "platform": "HOTLINE_PLATFORM_TOKEN",
          "sms": "HOTLINE_SMS_TOKEN"}
PATHS = {"call": "/call-records", "report": "/reports"}  # under platform_url


def url_of(center: Center, channel: str) -> str:
    x = center.exchange
    return {"12345": x.hotline12345_url, "platform": x.platform_url, "sms": x.sms_url}[channel]


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    rejected: int = 0
    down: list[str] = field(default_factory=list)  # channels whose link failed this round


def _backoff(center: Center, attempts: int) -> timedelta:
    x = center.exchange
    return timedelta(seconds=min(x.retry_max_s, x.retry_s * 2 ** max(0, attempts - 1)))


def _batch(s: Session, channel: str, at: datetime) -> list[OutboxMessage]:
    due = select(OutboxMessage).where(OutboxMessage.channel == channel,
                                      OutboxMessage.state == "pending",
                                      OutboxMessage.next_at <= at).order_by(OutboxMessage.id)
    first = s.scalars(due.limit(1)).first()
    if first is None:
        return []
    if first.kind != "call":
        return [first]
    # One center's records per batch: the body names the center they are of.
    return list(s.scalars(due.where(OutboxMessage.kind == "call",
                                    OutboxMessage.center == first.center).limit(BATCH)))


def _request(center: Center, channel: str, batch: list[OutboxMessage]) -> tuple[str, Any, str]:
    """(url, JSON body, idempotency key) of a batch."""
    base = url_of(center, channel)
    if batch[0].kind == "call":
        keys = "\n".join(m.key for m in batch)
        key = "calls-" + hashlib.sha256(keys.encode()).hexdigest()[:40]
        body = {"center": batch[0].center or center.code, "idempotency_key": key,
                "records": [{"key": m.key, **json.loads(m.payload)} for m in batch]}
        return base.rstrip("/") + PATHS["call"], body, key
    m = batch[0]
    path = PATHS.get(m.kind, "") if channel == "platform" else ""
    return base.rstrip("/") + path if path else base, \
        {"idempotency_key": m.key, **json.loads(m.payload)}, m.key


def _link_down(s: Session, center: str, channel: str, at: datetime, why: str) -> None:
    node = f"link:{channel}"
    if s.scalars(select(Outage).where(Outage.node == node, Outage.center == center,
                                      Outage.ended_at.is_(None))).first() is None:
        s.add(Outage(node=node, center=center, started_at=at, reason=why[:500]))
        log.warning("link down", channel=channel, reason=why)


def _link_up(s: Session, center: str, channel: str, at: datetime) -> None:
    for o in s.scalars(select(Outage).where(Outage.node == f"link:{channel}",
                                            Outage.center == center,
                                            Outage.ended_at.is_(None))):
        o.ended_at = at
        log.info("link up", channel=channel, down_s=(at - o.started_at).total_seconds())


async def _post(http: aiohttp.ClientSession, center: Center, channel: str, url: str,
                body: Any, key: str) -> tuple[int | None, str]:
    headers = {"Idempotency-Key": key, "Content-Type": "application/json; charset=utf-8"}
    token = os.environ.get(TOKENS[channel], "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        async with http.post(url, data=json.dumps(body, ensure_ascii=False).encode(),
                             headers=headers,
                             timeout=aiohttp.ClientTimeout(total=center.exchange.timeout_s)) as r:
            return r.status, (await r.text(errors="replace"))[:2000]
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000]


async def deliver(sessions: sessionmaker[Session], center: Center,
                  at: datetime | None = None, channels: tuple[str, ...] = CHANNELS,
                  limit: int = 10_000) -> Delivery:
    """One round over every configured channel: send what is due, until a channel's link
    fails (it waits for its next try) or nothing is due. `at`: the time it is (tests)."""
    out = Delivery()
    async with aiohttp.ClientSession() as http:
        for channel in channels:
            if not url_of(center, channel):
                continue
            for _ in range(limit):
                when = at or utcnow()
                with sessions() as s:
                    batch = _batch(s, channel, when)
                    if not batch:
                        break
                    url, body, key = _request(center, channel, batch)
                status, answer = await _post(http, center, channel, url, body, key)
                when = at or utcnow()
                with sessions.begin() as s:
                    rows = [s.get(OutboxMessage, m.id) for m in batch]
                    live = [m for m in rows if m is not None and m.state == "pending"]
                    for m in live:
                        m.attempts += 1
                    if status is not None and 200 <= status < 300:
                        for m in live:
                            m.state, m.sent_at, m.last_error = "sent", when, ""
                            acks.acknowledged(s, m, key, when)
                        _link_up(s, center.code, channel, when)
                        out.sent += len(live)
                        continue
                    if status is not None and 400 <= status < 500 and status not in RETRYABLE:
                        for m in live:
                            m.state, m.last_error = "rejected", f"{status}: {answer}"
                        _link_up(s, center.code, channel, when)
                        out.rejected += len(live)
                        log.warning("message rejected", channel=channel, key=key, status=status)
                        continue
                    why = f"{status}: {answer}" if status is not None else answer
                    for m in live:
                        m.next_at, m.last_error = when + _backoff(center, m.attempts), why
                    _link_down(s, center.code, channel, when, why)
                    out.retried += len(live)
                    out.down.append(channel)
                break
    return out


async def run(sessions: sessionmaker[Session], center: Center, every_s: float = 5.0) -> None:
    """Deliver for ever, a round every `every_s` (the engine's background task)."""
    while True:
        try:
            await deliver(sessions, center)
        except Exception:  # a bad round must not stop the next one; it is logged
            log.exception("outbox round failed")
        await asyncio.sleep(every_s)
