"""AMI events as the engine reads them: a frozen mapping with typed accessors.

Everything from the wire is text. A malformed event (no name, a timestamp that is not a
number, a missing Uniqueid where one is needed) raises `MalformedEvent`; the pipeline logs it
and goes on with the next one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class MalformedEvent(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    name: str
    fields: Mapping[str, str]
    node: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any], node: str) -> Event:
        if not isinstance(raw, Mapping):
            raise MalformedEvent(f"not a mapping: {type(raw).__name__}")
        name = raw.get("Event")
        if not isinstance(name, str) or not name:
            raise MalformedEvent("no Event name")
        fields = {str(k): v if isinstance(v, str) else str(v) for k, v in raw.items()}
        return cls(name=name, fields=fields, node=node)

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    def require(self, key: str) -> str:
        value = self.fields.get(key)
        if not value:
            raise MalformedEvent(f"{self.name} without {key}")
        return value

    def integer(self, key: str, default: int = 0) -> int:
        value = self.fields.get(key, "")
        try:
            return int(value) if value != "" else default
        except ValueError:
            raise MalformedEvent(f"{self.name}.{key} is not an integer: {value!r}") from None

    @property
    def timestamp(self) -> float:
        """Asterisk's own time of the event (manager.conf timestampevents), else now."""
        value = self.fields.get("Timestamp")
        if not value:
            return time.time()
        try:
            return float(value)
        except ValueError:
            raise MalformedEvent(f"{self.name}.Timestamp is not a number: {value!r}") from None

    @property
    def at(self) -> datetime:
        return utc(self.timestamp)

    @property
    def uniqueid(self) -> str:
        return self.require("Uniqueid")

    @property
    def seat(self) -> str:
        """The seat of a queue member event: its MemberName, else the PJSIP interface's name."""
        name = self.fields.get("MemberName") or ""
        if name:
            return name
        iface = self.fields.get("Interface") or self.fields.get("Location") or ""
        if iface.upper().startswith("PJSIP/"):
            return iface.split("/", 1)[1]
        raise MalformedEvent(f"{self.name} names no seat")


def utc(ts: float) -> datetime:
    """Epoch seconds as the ledger's naive UTC datetime."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)
