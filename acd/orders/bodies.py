"""The bodies the work-order routes take, field by field (acd/orders/fields.py): what is
checked before anything is written and what the OpenAPI description says, from one place.
The choices that depend on the center (its handling units, the centers it exchanges orders
with) are read from the center file."""

from __future__ import annotations

from typing import Any

from acd.errors import Invalid
from acd.orders.fields import Day, Field, Flag, Number, Text, check
from acd.orders.service import MAX_EXTENSION, REFUSALS
from hotline.center import DOMAINS, ORDER_TYPES, Center

STATUSES = ("accepted", "transferred", "returned", "replied", "closed", "archived",
            "not_accepted")
UNIQUEID = r"[A-Za-z0-9._-]{1,64}"
EXTERNAL_ID = r"[A-Za-z0-9_-]{1,64}"
NUMBER = r"[0-9+-]{1,40}"
KB_FORMAT = "hotline12328-kb/1"  # docs/knowledge-exchange.md
MAX_IMPORT = 10_000
SOURCES = ("call", "web", "wechat", "app", "letter", "visit")  # 12345: its own route


def _type() -> Text:
    return Text(20, required=True, choices=tuple(ORDER_TYPES),
                doc="投诉举报 complaint, 信息咨询 consultation, 意见建议 suggestion")


def _domain(required: bool = True) -> Text:
    return Text(20, required=required, choices=tuple(DOMAINS), doc="业务领域 (seed 000 annex 3)")


def _reason(doc: str = "why, for the order's history") -> Text:
    return Text(2000, required=True, one_line=False, doc=doc)


def create() -> dict[str, Field]:
    return {"type": _type(), "domain": _domain(),
            "content": Text(4000, required=True, one_line=False),
            "caller_number": Text(40, pattern=NUMBER), "caller_name": Text(60),
            "call_uniqueid": Text(64, pattern=UNIQUEID,
                                  doc="the call's Asterisk Uniqueid: one the seat answered"),
            "source": Text(20, choices=SOURCES, doc="call (with call_uniqueid) by default"),
            "sub_item": Text(60), "subject": Text(200, doc="who or what is complained about"),
            "cross_region": Flag(doc="跨省(地市)工单: from another region"),
            "region": Text(60, doc="the region, for a cross-region order")}


def action(center: Center, name: str) -> dict[str, Field]:
    units = tuple(u.code for u in center.units)
    peers = tuple(p.code for p in center.exchange.peers)
    return {
        "answer_on_call": {"reply": Text(4000, one_line=False, doc="the answer given")},
        "refuse": {"reason": Text(40, required=True, choices=tuple(REFUSALS),
                                  doc="article 28: " + "; ".join(
                                      f"{k} {v}" for k, v in REFUSALS.items()))},
        "transfer": {"unit": Text(40, required=True, choices=units,
                                  doc="a handling unit of the center file ([[units]])")},
        "return": {"reason": _reason("why the unit is not the one (within 2 working days)")},
        "extend": {"days": Number(1, MAX_EXTENSION, required=True),
                   "reason": _reason("art. 34: why more time is needed")},
        "reply": {"text": Text(4000, required=True, one_line=False)},
        "close": {}, "archive": {}, "receive": {},
        "reopen": {"reason": _reason()},
        "forward": {"center": Text(40, required=True, choices=peers,
                                   doc="another center ([[exchange.peers]])"),
                    "reason": _reason()},
        "escalate": {"reason": _reason("上管一级: why the level above takes it")},
        "remind": {"note": Text(200, doc="催办: a word for the unit")},
    }[name]


def intake() -> dict[str, Field]:
    """An order transferred from 12345."""
    return {"id": Text(64, required=True, pattern=EXTERNAL_ID, doc="the order's id at 12345"),
            "type": _type(), "domain": _domain(),
            "content": Text(4000, required=True, one_line=False),
            "caller_number": Text(40, pattern=NUMBER), "caller_name": Text(60),
            "sub_item": Text(60), "subject": Text(200)}


def knowledge_entry(with_ref: bool = False) -> dict[str, Field]:
    out: dict[str, Field] = {}
    if with_ref:
        out["ref"] = Text(80, required=True, pattern=r"[A-Za-z0-9_.:-]{1,80}",
                          doc="the entry's key in the system it comes from")
    out.update({"title": Text(200, required=True), "body": Text(4000, required=True,
                                                                  one_line=False),
                "domain": _domain(required=False), "for_ivr": Flag(),
                "valid_from": Day(), "valid_to": Day()})
    return out


def check_document(doc: Any) -> list[dict[str, Any]]:
    """A knowledge document in the exchange format, every entry checked: the entries, or
    Invalid naming the entry and the field."""
    if not isinstance(doc, dict):
        raise Invalid("the body must be a JSON object")
    unknown = sorted(str(k) for k in doc if k not in ("format", "center", "entries"))
    if unknown:
        raise Invalid(f"{unknown[0]}: is not a known field (known: format, center, entries)")
    if doc.get("format") != KB_FORMAT:
        raise Invalid(f"format: must be {KB_FORMAT!r}")
    if "center" in doc and not isinstance(doc["center"], str):
        raise Invalid("center: must be text")
    entries = doc.get("entries")
    if not isinstance(entries, list) or len(entries) > MAX_IMPORT:
        raise Invalid(f"entries: must be a list of at most {MAX_IMPORT} entries")
    out, seen = [], set()
    fields = knowledge_entry(with_ref=True)
    for i, item in enumerate(entries):
        try:
            entry = check(item, fields)
        except Invalid as exc:
            raise Invalid(f"entries[{i}].{exc}") from None
        if entry["ref"] in seen:
            raise Invalid(f"entries[{i}].ref: {entry['ref']!r} comes twice")
        seen.add(entry["ref"])
        out.append(entry)
    return out
