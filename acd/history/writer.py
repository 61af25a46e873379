"""The ledger's writer: one thread per node that takes the journal's records to the database,
in order, and retries until the database takes them.

The engine's event loop never waits for the database: it appends a record to the journal
(acd/history/journal.py) and goes on (the live model, Redis and the wallboard keep flowing
while the database is slow, locked or down). This thread reads what was appended, fsyncs it,
and applies it with `Ledger.apply` in one transaction; on an error it logs, waits (0.2 s
doubling to 5 s) and tries the same records again, so nothing is skipped and the order holds.

Measured, not guessed: `backlog` (records kept, not yet in the database), `oldest_s` (how long
the oldest of them has waited), the largest backlog and journal size seen, failures, the last
error. The engine shows them on the node's view and in /api/metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from acd.history.journal import Journal, Record
from acd.history.ledger import Ledger
from hotline.logs import get_logger

log = get_logger(__name__)

BATCH = 500          # records per transaction at most
BACKOFF_S = (0.2, 5.0)


class LedgerWriter:
    def __init__(self, ledger: Ledger, journal: Journal,
                 sleep: Callable[[float], None] = time.sleep,
                 timed: Callable[[str, float], None] | None = None) -> None:
        self.ledger = ledger
        self.journal = journal
        self._timed = timed  # (node, seconds) of each transaction the database took
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sleep = sleep
        self.failures = 0
        self.last_error = ""
        self.applied = 0
        self.backlog_high = 0
        self.waiting_since: float | None = None   # the oldest unapplied record was kept then
        self.caught_up = threading.Event()
        if not journal.backlog:
            self.caught_up.set()

    # --- the engine's side -----------------------------------------------------------------------

    def submit(self, record: Record) -> int:
        """Keep a record (journal) and wake the thread; its seq. Without a running thread
        (a test or a benchmark that drives the engine by hand) it is applied at once."""
        seq = self.journal.append(record)
        self.caught_up.clear()
        if self.waiting_since is None:
            self.waiting_since = time.time()
        self.backlog_high = max(self.backlog_high, self.journal.backlog)
        if self._thread is None:
            self._drain_once()
        else:
            self._wake.set()
        return seq

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"ledger-{self.ledger.node}",
                                            daemon=True)
            self._thread.start()
            self._wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Apply what is left (for up to `timeout` seconds), then stop; True if all went in.
        What did not stays in the journal for the next start."""
        if self._thread is None:
            return self.journal.backlog == 0
        self.caught_up.wait(timeout)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None
        return self.journal.backlog == 0

    @property
    def backlog(self) -> int:
        return self.journal.backlog

    def stats(self) -> dict[str, Any]:
        since = self.waiting_since
        return {"backlog": self.journal.backlog, "backlog_high": self.backlog_high,
                "oldest_s": round(time.time() - since, 1) if since and self.backlog else 0.0,
                "journal_bytes_high": self.journal.bytes_high, "applied": self.applied,
                "failures": self.failures, "last_error": self.last_error}

    # --- the thread --------------------------------------------------------------------------------

    def _drain_once(self) -> bool:
        """Apply one group of records; False if the database refused (to be retried)."""
        records, end = self.journal.unread(BATCH)
        if not records:
            if end:
                self.journal.applied(0, end)
            self._caught_up()
            return True
        self.journal.sync()
        started = time.perf_counter()
        try:
            self.ledger.apply(records)
        except Exception as exc:  # noqa: BLE001 - any refusal: keep the records, retry
            self.failures += 1
            first = not self.last_error
            cause = getattr(exc, "orig", None) or exc  # the driver's own error, if any
            self.last_error = f"{type(cause).__name__}: {str(cause).splitlines()[0][:200]}"
            (log.error if first else log.warning)(
                "ledger write failed; kept in the journal, retrying", node=self.ledger.node,
                backlog=self.journal.backlog, error=self.last_error)
            return False
        if self._timed is not None:
            self._timed(self.ledger.node, time.perf_counter() - started)
        if self.last_error:
            log.info("ledger writes resumed", node=self.ledger.node,
                     after_failures=self.failures)
        self.last_error = ""
        self.applied += len(records)
        self.journal.applied(len(records), end)
        self.waiting_since = time.time() if self.journal.backlog else None
        if not self.journal.backlog:
            self._caught_up()
        return True

    def _caught_up(self) -> None:
        self.waiting_since = None
        self.caught_up.set()

    def _run(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            if self._stop.is_set() and (not self.journal.backlog or self.last_error):
                return
            if not self.journal.backlog:
                self._caught_up()
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            if self._drain_once():
                delay = BACKOFF_S[0]
            else:
                if self._stop.is_set():
                    return
                self._sleep(delay)
                delay = min(BACKOFF_S[1], delay * 2)
