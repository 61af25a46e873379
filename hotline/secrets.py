"""Secrets the rendered config needs: generated once per center, kept in the state directory.

They are never committed and never printed in logs; `hotline pbx credentials` shows them to
the person who sets up a softphone. Environment variables override the file.
"""

from __future__ import annotations

import json
import os
import secrets as _random
from dataclasses import dataclass, field
from pathlib import Path

from hotline.center import Center


@dataclass(frozen=True)
class Secrets:
    ami: dict[str, str]    # node name -> AMI secret
    seats: dict[str, str]  # seat id -> SIP password
    supervisors: dict[str, str] = field(default_factory=dict)  # supervisor phone -> SIP password

    def ami_secret(self, node: str) -> str:
        return self.ami[node]


def _new() -> str:
    return _random.token_urlsafe(18)


def load_or_create(center: Center, directory: Path) -> Secrets:
    """Read `<directory>/secrets-<center>.json`, adding a secret for anything new in the center."""
    path = directory / f"secrets-{center.code}.json"
    data: dict[str, dict[str, str]] = {"ami": {}, "seats": {}, "supervisors": {}}
    if path.exists():
        loaded = json.loads(path.read_text())
        for kind, known in data.items():
            known.update(loaded.get(kind, {}))
    changed = not path.exists()
    for node in center.nodes:
        want = node.ami_secret or data["ami"].get(node.name) or _new()
        if data["ami"].get(node.name) != want:
            data["ami"][node.name] = want
            changed = True
    for kind, phones in (("seats", center.seats), ("supervisors", center.supervisors)):
        for phone in phones:
            if phone.id not in data[kind]:
                data[kind][phone.id] = _new()
                changed = True
    if changed:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    ami, seats, sups = dict(data["ami"]), dict(data["seats"]), dict(data["supervisors"])
    # A deployment may hand secrets in through the environment instead (docker/compose.yaml):
    # HOTLINE_AMI_SECRET_<NODE>, HOTLINE_SEAT_SECRET_<SEAT> and
    # HOTLINE_SUPERVISOR_SECRET_<PHONE> win over the file.
    for node in center.nodes:
        ami[node.name] = os.environ.get(f"HOTLINE_AMI_SECRET_{node.name.upper()}", ami[node.name])
    for seat in center.seats:
        seats[seat.id] = os.environ.get(f"HOTLINE_SEAT_SECRET_{seat.id}", seats[seat.id])
    for sup in center.supervisors:
        sups[sup.id] = os.environ.get(f"HOTLINE_SUPERVISOR_SECRET_{sup.id}", sups[sup.id])
    return Secrets(ami=ami, seats=seats, supervisors=sups)
