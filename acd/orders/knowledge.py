"""The knowledge base (知识库) with Chinese full-text search.

Every entry's title and body are cut into words by jieba (search mode, which also yields the
shorter words inside long ones) and indexed in `kb_tokens`; a query is cut the same way and
entries are ranked by how many of its words they hold. A word in the middle of a text is found
as well as one at its start, on SQLite and PostgreSQL alike (no LIKE, no database extension).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import jieba
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.errors import Invalid, NotFound
from acd.orders.models import KnowledgeEntry, KnowledgeToken

jieba.setLogLevel(logging.WARNING)
_STOP = set(" ，。、；：！？（）()《》“”\"',.;:!?-—\n\t的了和与或及在是")


def words(text: str) -> set[str]:
    return {w.strip().lower() for w in jieba.cut_for_search(text)
            if w.strip() and not all(ch in _STOP for ch in w)}


def add(s: Session, title: str, body: str, domain: str = "other", for_ivr: bool = False,
        valid_from: date | None = None, valid_to: date | None = None) -> KnowledgeEntry:
    if not title.strip() or not body.strip():
        raise Invalid("an entry has a title and a body")
    if valid_from and valid_to and valid_to < valid_from:
        raise Invalid("valid_to is before valid_from")
    entry = KnowledgeEntry(title=title.strip(), body=body.strip(), domain=domain,
                           for_ivr=for_ivr, valid_from=valid_from, valid_to=valid_to)
    s.add(entry)
    s.flush()
    s.add_all(KnowledgeToken(entry_id=entry.id, token=w[:60])
              for w in words(entry.title + " " + entry.body))
    return entry


def valid_on(entry: KnowledgeEntry, day: date) -> bool:
    """An entry counts from its valid_from to its valid_to, both days included."""
    return (entry.valid_from is None or entry.valid_from <= day) and \
        (entry.valid_to is None or day <= entry.valid_to)


def for_ivr(s: Session, title: str, today: date) -> str | None:
    """The body of the newest valid entry with this title that is marked for the IVR."""
    for entry in s.scalars(select(KnowledgeEntry).where(
            KnowledgeEntry.title == title, KnowledgeEntry.for_ivr.is_(True))
            .order_by(KnowledgeEntry.id.desc())):
        if valid_on(entry, today):
            return entry.body
    return None


def search(s: Session, query: str, today: date, limit: int = 10) -> list[KnowledgeEntry]:
    """Entries valid on `today`, the center's local day (`Center.today()`: never the
    machine's date, which is UTC in a container), best match first."""
    wanted = words(query)
    if not wanted:
        return []
    hits = Counter(s.scalars(select(KnowledgeToken.entry_id)
                             .where(KnowledgeToken.token.in_(sorted(wanted)))).all())
    if not hits:
        return []
    entries = {e.id: e for e in s.scalars(select(KnowledgeEntry)
                                          .where(KnowledgeEntry.id.in_(list(hits))))}
    valid = [e for e in entries.values() if valid_on(e, today)]
    valid.sort(key=lambda e: (-hits[e.id], -e.usage_count, e.id))
    return valid[:limit]


def used(s: Session, entry_id: int) -> None:
    """A seat answered on the call with this entry: count it."""
    entry = s.get(KnowledgeEntry, entry_id)
    if entry is None:
        raise NotFound(f"no knowledge entry {entry_id}")
    entry.usage_count += 1


# --- exchange with 12345 and other centers: one format, both directions --------------------------

FORMAT = "hotline12328-kb/1"  # = acd/orders/bodies.py KB_FORMAT, which checks it
ENTRY_FIELDS = ("ref", "title", "body", "domain", "for_ivr", "valid_from", "valid_to")


def export(s: Session, center: str) -> dict[str, Any]:
    """Every entry, in the exchange format (docs/knowledge-exchange.md)."""
    entries = []
    for e in s.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id)):
        entries.append({"ref": e.ref or f"{center}:{e.id}", "title": e.title, "body": e.body,
                        "domain": e.domain, "for_ivr": e.for_ivr,
                        "valid_from": e.valid_from.isoformat() if e.valid_from else None,
                        "valid_to": e.valid_to.isoformat() if e.valid_to else None})
    return {"format": FORMAT, "center": center, "entries": entries}


@dataclass(frozen=True)
class Imported:
    added: int
    updated: int
    unchanged: int


def _index(s: Session, entry: KnowledgeEntry) -> None:
    for token in s.scalars(select(KnowledgeToken).where(KnowledgeToken.entry_id == entry.id)):
        s.delete(token)
    s.add_all(KnowledgeToken(entry_id=entry.id, token=w[:60])
              for w in words(entry.title + " " + entry.body))


def import_(s: Session, entries: list[dict[str, Any]], center: str) -> Imported:
    """Entries already checked field by field (acd/orders/bodies.py): each is added, or
    updates the entry with its `ref` (one of this center's own, "<center>:<id>", is that
    entry). Importing the same document twice changes nothing the second time."""
    added = updated = unchanged = 0
    own = f"{center}:"
    for item in entries:
        if item["valid_from"] and item["valid_to"] and item["valid_to"] < item["valid_from"]:
            raise Invalid(f"entry {item['ref']}: valid_to is before valid_from")
        entry = s.scalars(select(KnowledgeEntry).where(KnowledgeEntry.ref == item["ref"])).first()
        if entry is None and item["ref"].startswith(own) and item["ref"][len(own):].isdigit():
            entry = s.get(KnowledgeEntry, int(item["ref"][len(own):]))
        values = {"title": item["title"], "body": item["body"],
                  "domain": item["domain"] or "other", "for_ivr": item["for_ivr"],
                  "valid_from": item["valid_from"], "valid_to": item["valid_to"]}
        if entry is None:
            entry = KnowledgeEntry(ref=item["ref"], usage_count=0, **values)
            s.add(entry)
            s.flush()
            _index(s, entry)
            added += 1
        elif all(getattr(entry, k) == v for k, v in values.items()):
            unchanged += 1
        else:
            for k, v in values.items():
                setattr(entry, k, v)
            s.flush()
            _index(s, entry)
            updated += 1
    return Imported(added, updated, unchanged)
