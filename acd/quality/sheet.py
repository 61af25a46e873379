"""The score sheet (评分表): a TOML file of items, each with a maximum, some critical.

A sheet is checked field by field when it is loaded, like the center file; a score is checked
against it before anything is kept: every item scored, each a whole number from 0 to its
maximum. The total is the sum; a call passes when the total reaches `pass_percent` of the
sheet's maximum and no critical item scored 0.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.errors import Invalid

DEFAULT = Path(__file__).resolve().parent / "sheet.toml"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TITLE = re.compile(r"^[^\x00-\x1f\x7f<>]{1,100}$")


class SheetError(ValueError):
    """The sheet file is malformed; the message names the field."""


@dataclass(frozen=True)
class Item:
    code: str
    title: str
    max: int
    critical: bool = False


@dataclass(frozen=True)
class Sheet:
    code: str
    name: str
    pass_percent: float
    items: tuple[Item, ...]

    @property
    def max_total(self) -> int:
        return sum(i.max for i in self.items)

    def check(self, scores: Any) -> dict[str, int]:
        """The scores as {item: points}, or Invalid naming the first problem."""
        if not isinstance(scores, dict):
            raise Invalid("scores: must be an object of item: points")
        known = {i.code: i for i in self.items}
        for code in scores:
            if code not in known:
                raise Invalid(f"scores: {code!r} is not an item of the sheet")
        missing = [i.code for i in self.items if i.code not in scores]
        if missing:
            raise Invalid(f"scores: every item is scored (missing: {', '.join(missing)})")
        out = {}
        for item in self.items:
            v = scores[item.code]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= item.max:
                raise Invalid(f"scores: {item.code!r} must be a whole number from 0 to "
                              f"{item.max}")
            out[item.code] = v
        return out

    def passed(self, scores: dict[str, int]) -> bool:
        total = sum(scores.values())
        critical_zero = any(i.critical and scores.get(i.code, 0) == 0 for i in self.items)
        return not critical_zero and total * 100 >= self.pass_percent * self.max_total

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "pass_percent": self.pass_percent,
                "max_total": self.max_total,
                "items": [{"code": i.code, "title": i.title, "max": i.max,
                           "critical": i.critical} for i in self.items]}


def parse(data: dict[str, Any]) -> Sheet:
    extra = sorted(set(data) - {"code", "name", "pass_percent", "items"})
    if extra:
        raise SheetError(f"{extra[0]}: is not a known field")
    code, name = data.get("code"), data.get("name")
    if not isinstance(code, str) or not _CODE.match(code):
        raise SheetError(f"code: must be a lower-case name, got {code!r}")
    if not isinstance(name, str) or not _TITLE.match(name):
        raise SheetError(f"name: must be one line of text, got {name!r}")
    pass_percent = data.get("pass_percent", 80)
    if isinstance(pass_percent, bool) or not isinstance(pass_percent, (int, float)) or \
            not 0 <= pass_percent <= 100:
        raise SheetError(f"pass_percent: must be a number from 0 to 100, got {pass_percent!r}")
    raw = data.get("items")
    if not isinstance(raw, list) or not raw or len(raw) > 50:
        raise SheetError("items: needs 1 to 50 [[items]] tables")
    items: list[Item] = []
    for i, d in enumerate(raw):
        path = f"items[{i}]"
        if not isinstance(d, dict):
            raise SheetError(f"{path}: must be a table")
        extra = sorted(set(d) - {"code", "title", "max", "critical"})
        if extra:
            raise SheetError(f"{path}.{extra[0]}: is not a known field")
        c, t, m, crit = d.get("code"), d.get("title"), d.get("max"), d.get("critical", False)
        if not isinstance(c, str) or not _CODE.match(c):
            raise SheetError(f"{path}.code: must be a lower-case name, got {c!r}")
        if any(x.code == c for x in items):
            raise SheetError(f"{path}.code: {c!r} is listed twice")
        if not isinstance(t, str) or not _TITLE.match(t):
            raise SheetError(f"{path}.title: must be one line of text, got {t!r}")
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 100:
            raise SheetError(f"{path}.max: must be an integer from 1 to 100, got {m!r}")
        if not isinstance(crit, bool):
            raise SheetError(f"{path}.critical: must be true or false, got {crit!r}")
        items.append(Item(c, t, m, crit))
    return Sheet(code, name, float(pass_percent), tuple(items))


def load(path: Path | None = None) -> Sheet:
    p = path or DEFAULT
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SheetError(f"{p}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SheetError(f"{p}: not valid TOML: {exc}") from None
    try:
        return parse(data)
    except SheetError as exc:
        raise SheetError(f"{p}: {exc}") from None
