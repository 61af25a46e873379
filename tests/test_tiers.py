"""How conftest.py tells the unit tier from the tests that need a real part: by the fixtures a
test uses, the names its own code calls, and the database it is parametrized with."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import real_parts


def item(fixtures: tuple[str, ...] = (), function: Any = None, marks: tuple[str, ...] = (),
         params: dict[str, str] | None = None) -> Any:
    """What real_parts reads of a collected test."""
    return SimpleNamespace(
        fixturenames=list(fixtures), function=function,
        iter_markers=lambda: [getattr(pytest.mark, m).mark for m in marks],
        **({"callspec": SimpleNamespace(params=params)} if params is not None else {}))


def pure(tmp_path: Any) -> None:
    assert tmp_path


def starts_its_own_rig(tmp_path: Any) -> None:
    from tests.support.rig import running_pbx
    with running_pbx(tmp_path, "x"):
        pass


def renders_in_chromium() -> None:
    from tests.support.browser import require_chromium
    require_chromium()


@pytest.mark.parametrize(("test", "parts"), [
    (item(("tmp_path",), pure), set()),
    (item(("sipp", "pbx", "tmp_path"), pure), {"asterisk"}),         # a fixture's closure
    (item(("stack", "pbx", "redis_url", "ledger"), pure), {"asterisk", "redis"}),
    (item(("db_engine",), pure, params={"db_engine": "sqlite"}), set()),
    (item(("db_engine", "tmp_path"), pure, params={"db_engine": "postgresql"}), {"postgres"}),
    (item(("tmp_path",), starts_its_own_rig), {"asterisk"}),           # in the test's code
    (item((), renders_in_chromium), {"browser"}),
    (item((), pure, marks=("asterisk",)), {"asterisk"}),                # marked by hand
], ids=["pure", "sipp", "stack", "sqlite", "postgresql", "own-rig", "chromium", "marked"])
def test_the_real_parts_a_test_needs(test: Any, parts: set[str]) -> None:
    assert real_parts(test) == parts


def test_this_module_is_in_the_unit_tier(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("real") is None
