"""How many examples a property test runs.

A test states its own count for the full suite (`examples(300)`); the loaded Hypothesis
profile scales it by its `max_examples` against Hypothesis' default of 100. The full suite runs
the default profile (each test's own count); the unit tier (`-m "not real"`) loads `unit`
(conftest.py does, unless `--hypothesis-profile` names another), a fifth of each count, at
least 10, so the tier stays fast while every property still runs.
"""

from __future__ import annotations

from hypothesis import settings

UNIT = "unit"
settings.register_profile(UNIT, max_examples=20)


def examples(full: int) -> int:
    """`full` examples in the default profile, scaled by the loaded profile."""
    loaded = settings.default
    assert loaded is not None
    return max(10, round(full * loaded.max_examples / 100))
