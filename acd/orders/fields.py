"""Every field a work-order request carries: its type, its length, its choices, written once.
`check` turns a request body into clean values or refuses it with `Invalid` naming the field
(never a 500: a list where text belongs, `"yes"` for a boolean, a NUL byte or a lone surrogate
PostgreSQL would choke on, a number past what the column holds); `schema` writes the same rules
as JSON Schema for the OpenAPI description (acd/orders/openapi.py), so the description and the
checks cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from acd.errors import Invalid, NotFound

# Characters no text field takes: NUL and the C0 controls but tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INT_MAX = 2**31 - 1  # an id PostgreSQL's integer holds


@dataclass(frozen=True)
class Text:
    longest: int
    required: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    one_line: bool = True
    doc: str = ""

    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"{name}: must be text, got {type(value).__name__}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(f"{name}: is not valid Unicode text") from None
        value = value.strip()
        if _CONTROL.search(value) or (self.one_line and ("\n" in value or "\r" in value)):
            raise Invalid(f"{name}: must not hold control characters"
                          + (" or line breaks" if self.one_line else ""))
        if len(value) > self.longest:
            raise Invalid(f"{name}: is too long (at most {self.longest} characters)")
        if self.required and not value:
            raise Invalid(f"{name}: is required")
        if self.choices and value not in self.choices and (value or self.required):
            raise Invalid(f"{name}: must be one of {', '.join(self.choices)}")
        if self.pattern and value and not re.fullmatch(self.pattern, value):
            raise Invalid(f"{name}: {value!r} is not of the expected form")
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "maxLength": self.longest}
        if self.choices:
            out["enum"] = list(self.choices) + ([] if self.required else [""])
        if self.pattern:
            out["pattern"] = f"^(?:{self.pattern})$" if self.required else \
                f"^(?:{self.pattern})?$"
        if self.required and not self.choices:
            out["minLength"] = 1
            out["pattern"] = out.get("pattern", r"\S")
        if self.doc:
            out["description"] = self.doc
        return out


@dataclass(frozen=True)
class Flag:
    doc: str = ""
    required: bool = False

    def clean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid(f"{name}: must be true or false")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean", **({"description": self.doc} if self.doc else {})}


@dataclass(frozen=True)
class Number:
    lo: int
    hi: int
    required: bool = False
    doc: str = ""

    def clean(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not \
                self.lo <= value <= self.hi:
            raise Invalid(f"{name}: must be an integer from {self.lo} to {self.hi}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi,
                **({"description": self.doc} if self.doc else {})}


@dataclass(frozen=True)
class Day:
    required: bool = False
    doc: str = ""

    def clean(self, name: str, value: Any) -> date | None:
        if value is None or value == "":
            if self.required:
                raise Invalid(f"{name}: is required")
            return None
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise Invalid(f"{name}: must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{name}: {value!r} is not a day of the calendar") from None

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "null"], "format": "date",
                **({"description": self.doc} if self.doc else {})}


Field = Text | Flag | Number | Day


def check(body: Any, fields: dict[str, Field]) -> dict[str, Any]:
    """The body's fields, cleaned; a missing optional field gets its empty value. Refuses a
    body that is not an object, an unknown field, and each field's first fault, by name."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    unknown = sorted(str(k) for k in body if k not in fields)
    if unknown:
        raise Invalid(f"{unknown[0]}: is not a known field (known: {', '.join(fields) or 'none'})")
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in body:
            if spec.required:
                raise Invalid(f"{name}: is required")
            out[name] = {Text: "", Flag: False, Number: None, Day: None}[type(spec)]
            continue
        out[name] = spec.clean(name, body[name])
    return out


def schema(fields: dict[str, Field]) -> dict[str, Any]:
    """The JSON Schema of a body with these fields."""
    return {"type": "object", "additionalProperties": False,
            "properties": {k: v.schema() for k, v in fields.items()},
            **({"required": req} if (req := [k for k, v in fields.items() if v.required])
               else {})}


def order_id(raw: str) -> int:
    """An order id from a path: a positive integer the database holds, else no such order."""
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= INT_MAX:
        raise NotFound("no such order")
    return int(raw)
