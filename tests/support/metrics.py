"""Reading the engine's Prometheus metrics and its log lines, for tests."""

from __future__ import annotations

import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(port: int, token: str = "", path: str = "/metrics",
           host: str = "127.0.0.1") -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from a /metrics page."""
    req = urllib.request.Request(f"http://{host}:{port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))


def not_json_lines(lines: list[str]) -> list[str]:
    """Log lines that are not one JSON object with a logger name, a level and an event."""
    bad = []
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if not isinstance(obj, dict) or not {"logger", "level", "event", "timestamp"} <= set(obj):
            bad.append(line)
    return bad
