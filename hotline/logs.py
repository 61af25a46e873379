"""structlog, configured once for every process the `hotline` command starts.

Every line a process writes to stderr is one JSON object (when stderr is not a terminal) with
`timestamp`, `level`, `logger` and `event`: the project's own structlog loggers and every
stdlib logger (panoramisk, aiohttp, alembic, asyncio ...) go through the same processors, so a
log shipper reads one format. On a terminal the same events are rendered for people.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_configured = False
_DIGITS = re.compile(r"\d{5,}")


def mask_number(number: str | None) -> str:
    """A caller number as it may appear in a log or a list: 138****5678."""
    if not number:
        return ""
    if len(number) <= 4:
        return "*" * len(number)
    keep = 3 if len(number) >= 8 else 1
    return number[:keep] + "*" * (len(number) - keep - 4) + number[-4:]


def _mask_caller(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in ("caller", "callerid", "caller_number", "phone"):
        value = event.get(key)
        if isinstance(value, str) and _DIGITS.search(value):
            event[key] = mask_number(value)
    return event


def _logger_name(logger: Any, _: str, event: dict[str, Any]) -> dict[str, Any]:
    """The logger's name (`acd.engine`, `panoramisk.manager`, `hotline.access` ...)."""
    if "logger" not in event:
        record = event.get("_record")
        name = record.name if record is not None else getattr(logger, "name", None)
        if name:
            event["logger"] = name
    return event


def processors(json: bool) -> tuple[list[Any], Any]:
    """(the processors every event goes through, the renderer at the end)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_caller,
    ]
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json
                     else structlog.dev.ConsoleRenderer())
    return shared, renderer


def handler(json: bool, stream: Any = None) -> logging.Handler:
    """A stdlib handler that renders every record, structlog's and the stdlib's, as one line."""
    shared, renderer = processors(json)
    h = logging.StreamHandler(stream or sys.stderr)
    h.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer]))
    return h


def configure(level: str = "INFO", json: bool | None = None) -> None:
    """Set up structlog and the stdlib root logger; JSON when stderr is not a terminal."""
    global _configured
    if _configured:
        return
    if json is None:
        json = not sys.stderr.isatty()
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(json))
    root.setLevel(numeric)
    shared, _ = processors(json)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
