"""The ledger's write-ahead journal: every change the engine makes, kept on disk, in order,
until the database has taken it.

One JSON line per record (a batch of changes: calls in their last state, seat transitions,
outages, the replay cursor), numbered by `seq`: microseconds since the epoch, made strictly
increasing, so the numbers keep growing across restarts even if the file is lost. The engine appends (one write(2), O_APPEND,
from the event loop: once it returns, a SIGKILL of the engine loses nothing); the ledger's
writer thread reads the records after the last one applied, fsyncs the file and applies them
in one transaction that also stores the last `seq` applied (`engine_cursors.journal_seq`), so a
record is applied exactly once even if the engine dies between the commit and noting it. When
the writer has caught up, the file is emptied.

`Journal(None)` keeps the records in memory only (fast tests, benchmarks): the same order and
the same retries, no durability.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class Journal:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory: list[bytes] = []
        self._fd: int | None = None
        self._read_at = 0      # byte offset (file) or index (memory) of the next unread record
        self._appended = 0     # records appended since the journal was last emptied
        self._read = 0         # of those, records handed to the writer and applied
        self.seq = 0           # the last seq given
        self.bytes_high = 0    # the largest the file grew (measured back-pressure)
        self.corrupt = 0       # lines that could not be read back (skipped)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            for record in self._scan():
                self.seq = max(self.seq, int(record["seq"]))
                self._appended += 1

    # --- the engine's side (event loop) ---------------------------------------------------------

    def append(self, record: Record) -> int:
        """Number the record, keep it; its seq."""
        with self._lock:
            self.seq = max(self.seq + 1, time.time_ns() // 1000)
            record["seq"] = self.seq
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            if self._fd is None:
                self._memory.append(line)
            else:
                os.write(self._fd, line)
                self.bytes_high = max(self.bytes_high, os.fstat(self._fd).st_size)
            self._appended += 1
            return self.seq

    @property
    def backlog(self) -> int:
        """Records kept and not yet applied."""
        return self._appended - self._read

    # --- the writer's side (its thread) ---------------------------------------------------------

    def _scan(self) -> list[Record]:
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0)
        out = []
        for line in data.split(b"\n"):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a last line cut by a crash mid-write: nothing after it
        return out

    def unread(self, limit: int = 500) -> tuple[list[Record], int]:
        """Up to `limit` records after the last one applied, and where they end."""
        with self._lock:
            if self._fd is None:
                chunk = self._memory[self._read_at:self._read_at + limit]
                return [json.loads(b) for b in chunk], self._read_at + len(chunk)
            size = os.fstat(self._fd).st_size
            data = os.pread(self._fd, size - self._read_at, self._read_at)
        out: list[Record] = []
        pos = self._read_at
        for line in data.split(b"\n")[:-1]:  # the part after the last newline is unfinished
            if len(out) == limit:
                break
            pos += len(line) + 1
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    self.corrupt += 1  # a line cut by a crash of the machine mid-write
        return out, pos

    def sync(self) -> None:
        """Make what was appended durable (the writer, before applying it)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def applied(self, count: int, end: int) -> None:
        """The records read up to `end` are in the database; empty the journal if that was
        all of it."""
        with self._lock:
            self._read += count
            self._read_at = end
            if self._fd is None:
                if self._read_at == len(self._memory):
                    self._memory.clear()
                    self._read_at = self._read = self._appended = 0
                return
            if self._read_at == os.fstat(self._fd).st_size:
                os.ftruncate(self._fd, 0)
                os.fsync(self._fd)
                self._read_at = self._read = self._appended = 0

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
