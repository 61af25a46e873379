"""Caller numbers of one test alone.

Every test of the session's Asterisk writes to the same queue_log, and the engine replays it
into a ledger: a test that finds "its" calls by caller number must never meet another test's.
Each test draws its numbers from its own block, `13` + the test's five-digit index in the
session + four digits: eleven digits, like a mobile number, never twice in a session.
"""

from __future__ import annotations

import itertools

_index = itertools.count(1)


class CallerNumbers:
    """`numbers(n)`: n fresh numbers of this test's block, never the same twice."""

    def __init__(self) -> None:
        self.prefix = f"13{next(_index) % 100_000:05d}"
        self._next = itertools.count(1)

    def __call__(self, count: int) -> list[str]:
        return [f"{self.prefix}{next(self._next):04d}" for _ in range(count)]

    def one(self) -> str:
        return self(1)[0]
