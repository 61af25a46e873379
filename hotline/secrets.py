"""Secrets the rendered config needs: generated once per center, kept in the state directory.

They are never committed and never printed in logs; `hotline pbx credentials` shows them to
the person who sets up a softphone. Environment variables override the file (checked like the
center file's fields: they are written into pjsip.conf and manager.conf).

Every secret file is written atomically and private from its creation (`write_private`: a
0600 temporary file in a 0700 directory, fsynced, then renamed over the old one), so no other
user ever sees a partial or readable copy.
"""

from __future__ import annotations

import json
import os
import re
import secrets as _random
from dataclasses import dataclass, field
from pathlib import Path

from hotline.center import Center, CenterError
from hotline.paths import private_dir

# A secret rendered into a config file: no space, quote, comment marker or line break.
_FROM_ENV = re.compile(r"^[A-Za-z0-9_.~+/=-]{8,128}$")


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by this user only from the first byte."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _env(var: str, default: str) -> str:
    value = os.environ.get(var)
    if value is None:
        return default
    if not _FROM_ENV.match(value):
        raise CenterError(var, "a secret from the environment is 8 to 128 letters, digits or "
                          "_.~+/=- (it is written into Asterisk's configuration)")
    return value


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
        write_private(path, json.dumps(data, indent=2, sort_keys=True).encode())
    ami, seats, sups = dict(data["ami"]), dict(data["seats"]), dict(data["supervisors"])
    # A deployment may hand secrets in through the environment instead (docker/compose.yaml):
    # HOTLINE_AMI_SECRET_<NODE>, HOTLINE_SEAT_SECRET_<SEAT> and
    # HOTLINE_SUPERVISOR_SECRET_<PHONE> win over the file.
    for node in center.nodes:
        ami[node.name] = _env(f"HOTLINE_AMI_SECRET_{node.name.upper()}", ami[node.name])
    for seat in center.seats:
        seats[seat.id] = _env(f"HOTLINE_SEAT_SECRET_{seat.id}", seats[seat.id])
    for sup in center.supervisors:
        sups[sup.id] = _env(f"HOTLINE_SUPERVISOR_SECRET_{sup.id}", sups[sup.id])
    return Secrets(ami=ami, seats=seats, supervisors=sups)
