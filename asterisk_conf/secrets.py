"""Secrets the rendered config needs: generated once per center, kept in the state directory.

They are never committed and never printed in logs; `hotline pbx credentials` shows them to
the person who sets up a softphone. Environment variables override the file.
"""

from __future__ import annotations

import json
import os
import secrets as _random
from dataclasses import dataclass
from pathlib import Path

from acd.center import Center


@dataclass(frozen=True)
class Secrets:
    ami: dict[str, str]    # node name -> AMI secret
    seats: dict[str, str]  # seat id -> SIP password

    def ami_secret(self, node: str) -> str:
        return self.ami[node]


def _new() -> str:
    return _random.token_urlsafe(18)


def load_or_create(center: Center, directory: Path) -> Secrets:
    """Read `<directory>/secrets-<center>.json`, adding a secret for anything new in the center."""
    path = directory / f"secrets-{center.code}.json"
    data: dict[str, dict[str, str]] = {"ami": {}, "seats": {}}
    if path.exists():
        loaded = json.loads(path.read_text())
        data["ami"].update(loaded.get("ami", {}))
        data["seats"].update(loaded.get("seats", {}))
    changed = not path.exists()
    for node in center.nodes:
        want = node.ami_secret or data["ami"].get(node.name) or _new()
        if data["ami"].get(node.name) != want:
            data["ami"][node.name] = want
            changed = True
    for seat in center.seats:
        if seat.id not in data["seats"]:
            data["seats"][seat.id] = _new()
            changed = True
    if changed:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    ami, seats = dict(data["ami"]), dict(data["seats"])
    # A deployment may hand secrets in through the environment instead (docker/compose.yaml):
    # HOTLINE_AMI_SECRET_<NODE> and HOTLINE_SEAT_SECRET_<SEAT> win over the file.
    for node in center.nodes:
        ami[node.name] = os.environ.get(f"HOTLINE_AMI_SECRET_{node.name.upper()}", ami[node.name])
    for seat in center.seats:
        seats[seat.id] = os.environ.get(f"HOTLINE_SEAT_SECRET_{seat.id}", seats[seat.id])
    return Secrets(ami=ami, seats=seats)
