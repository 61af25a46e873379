"""structlog, configured once for every process the `hotline` command starts."""

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


def configure(level: str = "INFO", json: bool | None = None) -> None:
    """Set up structlog and the stdlib root logger; JSON when stderr is not a terminal."""
    global _configured
    if _configured:
        return
    if json is None:
        json = not sys.stderr.isatty()
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_caller,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
