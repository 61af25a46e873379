"""A province's two centers in one deployment (seed 000 §四: Shenyang and Huludao): the shipped
example center file (Shenyang, the primary) with Huludao hosted beside it."""

from __future__ import annotations

import tomllib
from typing import Any

from hotline import center

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


def toml_of(data: dict[str, Any]) -> str:
    """The data as a TOML center file (the few value types a center file has)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(v)

    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))
               or (isinstance(v, list) and not all(isinstance(x, dict) for x in v))}
    lines += [f"{k} = {value(v)}" for k, v in scalars.items()]
    for key, v in data.items():
        if key in scalars:
            continue
        if isinstance(v, dict):
            _table(lines, key, v, value)
        else:
            for item in v:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {value(x)}" for k, x in item.items()]
    return "\n".join(lines) + "\n"


def _table(lines: list[str], key: str, v: dict[str, Any], value: Any) -> None:
    lines.append(f"[{key}]")
    subs = {}
    for k, x in v.items():
        if isinstance(x, dict) and not all(not isinstance(y, (dict, list)) for y in x.values()):
            subs[k] = x
        elif isinstance(x, list) and x and all(isinstance(y, dict) for y in x):
            subs[k] = x
        else:
            lines.append(f"{k} = {value(x)}")
    for k, x in subs.items():
        if isinstance(x, dict):
            _table(lines, f"{key}.{k}", x, value)
        else:
            for item in x:
                lines.append(f"[[{key}.{k}]]")
                lines += [f"{kk} = {value(y)}" for kk, y in item.items()]
