"""A province's two centers in one deployment (seed 000 §四: Shenyang and Huludao): the shipped
example center file (Shenyang, the primary) with Huludao hosted beside it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from acd.history import db
from hotline import center
from tests.support.rig import dump_toml

HULUDAO_EXTENSION = "1232801"


def province_data() -> dict[str, Any]:
    """The example's TOML as data, plus [[hosted]] huludao with two queues and one seat."""
    data = tomllib.loads(center.EXAMPLE.read_text(encoding="utf-8"))
    data["hosted"] = [{"code": "huludao", "name": "葫芦岛市12328交通运输服务监督电话",
                       "region": "辽宁省葫芦岛市", "extension": HULUDAO_EXTENSION,
                       "default_queue": "hld_manual"}]
    data["queues"] += [
        {"name": "hld_manual", "title": "葫芦岛人工服务", "domain": "general",
         "center": "huludao", "menu": "manual"},
        {"name": "hld_highway", "title": "葫芦岛高速公路", "domain": "highway",
         "center": "huludao", "menu": "highway"},
    ]
    data["seats"] += [{"id": "8101", "queues": ["hld_manual", "hld_highway"],
                       "center": "huludao"}]
    return data


def province_files(tmp_path: Path, data: dict[str, Any]) -> tuple[center.Center, Path, str]:
    """The deployment `data` describes, as a center file and a migrated SQLite ledger:
    (center, its file, the ledger's URL)."""
    path = tmp_path / "province.toml"
    path.write_text(dump_toml(data), encoding="utf-8")
    c = center.load(path)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db.open_database(c, url).dispose()
    return c, path, url


class WebEngine:
    """The engine as the web app sees it, without Asterisk: `snapshot` is its live view (no
    queues, seats or nodes unless given); no seat, call or manager to act on."""

    def __init__(self, snapshot: dict[str, Any] | None = None) -> None:
        self._snapshot = snapshot or {"queues": {}, "seats": {}, "nodes": {}}

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    def snapshot(self) -> dict[str, Any]:
        return self._snapshot

    def manager(self, node: str) -> None:
        return None

    def seat(self, seat_id: str) -> None:
        return None

    def call(self, uniqueid: str) -> None:
        return None

    def recordings_dirs(self) -> dict[str, Path | None]:
        return {}
