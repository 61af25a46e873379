"""Every title a page shows for a code, in one JSON object the pages read from their
`<meta name="titles">` (acd/web/static/titles.js): queues, busy reasons, the center and the
centers it exchanges orders with, handling units and seats from the center file; order types,
domains and statuses from the kernel (hotline/center.py); seat states, actions, roles and call
outcomes from here. Codes stay ASCII everywhere else; only what a person reads is Chinese.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from acd.orders import service
from acd.web import messages
from hotline.center import DOMAINS, ORDER_STATUSES, ORDER_TYPES, Center

OUTCOMES = {"answered": "接通", "abandoned": "放弃", "timeout": "超时", "exit_empty": "无座席",
            "exit_key": "按键离开", "overflowed": "溢出", "transferred": "转接",
            "waiting": "等待中", "ivr": "语音导航", "handoff": "转其他热线"}
ORDER_ACTIONS = {**{k: v for k, v in messages.ACTIONS.items() if "-" not in k},
                 "accept": "受理", "result_sent": "结果已反馈"}
NODE_STATES = {"up": "已连接", "down": "已断开"}


def titles(center: Center) -> dict[str, Any]:
    return {
        "center": center.name, "center_code": center.code, "timezone": center.timezone,
        "queues": {q.name: q.title for q in center.queues},
        "busy": dict(center.busy_titles),
        "seats": {s.id: s.name for s in center.seats},
        "units": {u.code: u.name for u in center.units},
        "centers": {center.code: center.name, **{p.code: p.name for p in center.exchange.peers}},
        "types": ORDER_TYPES, "domains": DOMAINS, "statuses": ORDER_STATUSES,
        "actions": ORDER_ACTIONS, "states": messages.SEAT_STATES, "roles": messages.ROLES,
        "outcomes": OUTCOMES, "refusals": service.REFUSALS, "satisfaction": service.SATISFACTION,
        "nodes": NODE_STATES,
    }


@lru_cache(maxsize=8)
def titles_json(center: Center) -> str:
    return json.dumps(titles(center), ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=8)
def wallboard_json(center: Center) -> str:
    """The wallboard's alert thresholds ([wallboard] of the center file)."""
    w = center.wallboard
    return json.dumps({"min_calls": w.min_calls, "node_down_sound": w.node_down_sound,
                       "alerts": {a.indicator: {"when": a.when, "threshold": a.threshold,
                                                "sound": a.sound, "enabled": a.enabled}
                                  for a in w.alerts}}, separators=(",", ":"))
