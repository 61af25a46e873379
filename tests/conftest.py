"""Fixtures shared by the whole suite. Real parts (Asterisk, Redis, PostgreSQL) are started
by the project's own code and always torn down, also when a test fails.

Every test that needs a real part is marked with it (`asterisk`, `postgres`, `redis`,
`browser`) and with `real`, from the fixtures it uses and the names its own code calls (see
`pytest_collection_modifyitems`), so `-m "not real"` is the fast unit tier."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine

from acd.history import db
from tests.support import examples
from tests.support.numbers import CallerNumbers
from tests.support.real import free_port, unavailable

if TYPE_CHECKING:
    from hotline.shell.simulate.sipp import Sipp
    from tests.support.recorded import Replayed
    from tests.support.rig import RunningPbx


# --- the tiers: which real parts a test needs -------------------------------------------------

REAL_PARTS = ("asterisk", "postgres", "redis", "browser", "containers")
# Fixtures that start a real part (directly, or through the fixtures they use: pytest gives
# a test's whole fixture closure).
_PART_FIXTURES = {"pbx": "asterisk", "sipp": "asterisk", "postgres_url": "postgres",
                  "redis_url": "redis", "redis_server": "redis"}
# Names whose use in a test's own code starts a real part there and then.
_PART_NAMES = {"running_pbx": "asterisk", "EngineProcess": "asterisk", "IvrProcess": "asterisk",
               "Sipp": "asterisk", "RedisServer": "redis", "postgres_server": "postgres",
               "require_chromium": "browser", "sync_playwright": "browser"}


def _names_used(fn: Any) -> set[str]:
    """Every global, attribute and imported name the function's code (nested code included)
    refers to."""
    fn = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
    code = getattr(fn, "__code__", None)
    names: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def real_parts(item: pytest.Item) -> set[str]:
    """The real parts a collected test needs."""
    parts = {m.name for m in item.iter_markers() if m.name in REAL_PARTS}
    parts |= {_PART_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in _PART_FIXTURES}
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("db_engine") == "postgresql":
        parts.add("postgres")
    parts |= {_PART_NAMES[n] for n in _names_used(getattr(item, "function", None))
              if n in _PART_NAMES}
    return parts


def pytest_configure(config: pytest.Config) -> None:
    """The unit tier (`-m "not real"`) runs property tests with fewer examples (see
    tests/support/examples.py), unless a Hypothesis profile is named on the command line."""
    from hypothesis import settings
    if "not real" in (config.option.markexpr or "") and \
            not config.getoption("--hypothesis-profile", None):
        settings.load_profile(examples.UNIT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = real_parts(item)
        for part in sorted(parts - {m.name for m in item.iter_markers()}):
            item.add_marker(part)
        if parts:
            item.add_marker("real")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server on loopback for the whole session."""
    from hotline.shell.postgres_server import postgres_server
    from hotline.shell.simulate.ports import retrying

    def start() -> tuple[Any, str]:
        cm = postgres_server(free_port())
        return cm, cm.__enter__()

    try:  # again on another port if this one was taken meanwhile
        cm, url = retrying(start, lambda exc: "PostgreSQL is not installed" not in str(exc))
    except Exception as exc:
        unavailable(f"PostgreSQL could not start: {exc}")
        raise
    try:
        yield url
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The ledger's schema on a fresh SQLite file and on the real PostgreSQL, in turn."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
        db.create_schema(engine)
        yield engine
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = db.make_engine(url)
    try:  # closed even when emptying fails: a pool left to the garbage collector warns later
        _empty_postgres(engine)
        db.create_schema(engine)
        yield engine
        _empty_postgres(engine)
    finally:
        engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    from sqlalchemy import text
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPbx]:
    """The real Asterisk 22, running the example center on free ports, for the whole session."""
    import os

    from asterisk_conf.rig import RigError
    from tests.support.rig import running_pbx
    state = tmp_path_factory.mktemp("pbx-state")
    try:
        cm = running_pbx(state, name=f"test-{os.getpid()}")
        handle = cm.__enter__()
    except (RigError, OSError) as exc:
        unavailable(f"Asterisk could not start: {exc}")
        raise
    try:
        yield handle
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture
def sipp(pbx: RunningPbx) -> Iterator[Sipp]:
    """SIPp callers and seats against the session's Asterisk; all stopped after the test,
    their leftover channels hung up and the queues emptied of members."""
    import shutil

    if shutil.which("sipp") is None:
        unavailable("SIPp is not installed (Debian package sip-tester)")
    s = pbx.sipp()
    try:
        yield s
    finally:
        s.close()
        pbx.hangup_all()
        pbx.remove_all_members()
        shutil.rmtree(s.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole session (its URL)."""
    from hotline.shell.redis_server import RedisServer, RedisServerError
    from hotline.shell.simulate.ports import retrying
    directory = tmp_path_factory.mktemp("redis")

    def start() -> RedisServer:
        server = RedisServer(free_port(), directory)
        server.start()
        return server

    try:  # again on another port if this one was taken meanwhile
        server = retrying(start, lambda exc: "not installed" not in str(exc))
    except RedisServerError as exc:
        unavailable(f"Redis could not start: {exc}")
        raise
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def numbers() -> CallerNumbers:
    """Caller numbers of this test alone: `numbers(6)`, `numbers.one()`
    (tests/support/numbers.py)."""
    return CallerNumbers()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """The session's Redis, empty for this test: emptied before it and after it (the live
    snapshot, the emergency broadcast), whether it passes or fails."""
    import redis

    def empty() -> None:
        with redis.Redis.from_url(redis_server) as r:
            r.flushdb()

    empty()
    yield redis_server
    empty()


@pytest.fixture
def ledger(tmp_path):  # type: ignore[no-untyped-def]
    """A fresh SQLite ledger for an engine process: (URL, SQLAlchemy engine).

    Its replay cursor for the first node starts at the test's start, so an engine on it replays
    the session's shared queue_log from there on: this test's calls, not the earlier tests'."""
    import time

    from acd.history.ledger import Ledger
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = db.make_engine(url)
    db.create_schema(engine)
    Ledger(db.session_factory(engine), "", "pbx1").advance_cursor(time.time())
    yield url, engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _leave_the_pbx_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test of the session's Asterisk, whether it passed or failed: no channel left,
    no seat left in a queue (signed in, busy), whatever the test did."""
    yield
    pbx = request.node.funcargs.get("pbx") if hasattr(request.node, "funcargs") else None
    if pbx is not None:
        pbx.hangup_all()
        pbx.remove_all_members()


@pytest.fixture(scope="session")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Replayed]]:
    """Replays a recording of tests/fixtures/ami/ through the engine's pipeline into a fresh
    SQLite ledger: `replayed("survey")` (tests/support/recorded.py); no Asterisk. Each replay
    (name and options) is made once a session and shared: read it, never write to it."""
    from tests.support import recorded
    directory = tmp_path_factory.mktemp("replayed")
    made: dict[tuple[object, ...], Replayed] = {}

    def replay(name: str, **options: Any) -> Replayed:
        key = (name, *sorted(options.items()))
        if key not in made:
            made[key] = stack.enter_context(recorded.replayed(name, directory, **options))
        return made[key]

    with ExitStack() as stack:
        yield replay
