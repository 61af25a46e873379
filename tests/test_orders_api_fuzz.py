"""The API's OpenAPI 3.1 description is valid (openapi-spec-validator), and schemathesis,
driven by it, throws generated and malformed requests at the running app (positive and
negative bodies, parameters, ids) on SQLite and on PostgreSQL: never a 500, and every answer's
status is one the description names. Issue 14: fuzzed API bodies on both databases never give
500."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.orders import http, openapi, service
from acd.orders.models import WorkOrder
from tests.support.backoffice import back_office, center, token

EXAMPLES = 15  # per operation and phase: about 1,500 requests per database, under a minute


def test_the_description_is_valid_openapi_3_1() -> None:
    spec = openapi.describe(center())
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    # Every lifecycle action and the back office's routes are described, with their bodies.
    for action in service.ALL_ACTIONS:
        assert f"/api/orders/{{id}}/{action}" in spec["paths"]
    refuse = spec["paths"]["/api/orders/{id}/refuse"]["post"]["requestBody"]
    reasons = refuse["content"]["application/json"]["schema"]["properties"]["reason"]["enum"]
    assert set(service.REFUSALS) <= set(reasons)


def test_the_lists_filters_are_described() -> None:
    """Every query parameter the orders list reads (its handler and `search`) is in the
    description, so a client (and schemathesis) knows and tries each."""
    read = set(re.findall(r"query\.get\(\"(\w+)\"", inspect.getsource(http.list_orders)))

    class Recording(dict):  # type: ignore[type-arg]
        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            read.add(key)
            return default

    http.search(select(WorkOrder), Recording(), center())
    assert {"status", "overdue", "q", "type", "domain", "unit", "since", "until",
            "page"} <= read
    spec = openapi.describe(center())
    described = {p["name"] for p in spec["paths"]["/api/orders"]["get"]["parameters"]}
    assert read <= described, read - described


def schemathesis(port: int, bearer: str, paths: str, out: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [str(exe), "run", f"http://127.0.0.1:{port}/api/openapi.json",
         "--url", f"http://127.0.0.1:{port}", "-H", f"Authorization: Bearer {bearer}",
         "--include-path-regex", paths, "--checks", "not_a_server_error,status_code_conformance",
         "-n", str(EXAMPLES), "--seed", "12328", "--no-color", "--request-timeout", "20",
         "--report-junit-path", str(out)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"})


@pytest.mark.real  # the running app fuzzed over HTTP (about 30 s): kept out of the fast tier
def test_schemathesis_never_gets_a_500(db_engine, tmp_path) -> None:
    with back_office(db_engine) as (port, c):
        boss = token(db_engine, c, "boss", "supervisor")
        partner = token(db_engine, c, "p12345", "partner")
        # Orders to act on (ids 1..3), so actions reach the lifecycle, not only the 404.
        for i in range(3):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/orders", method="POST",
                data=json.dumps({"type": "complaint", "domain": "highway", "content": f"单{i}",
                                 "subject": "某站", "source": "web"}).encode(),
                headers={"Authorization": f"Bearer {boss}",
                         "Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).close()
        runs = [schemathesis(port, boss, r"^/api/(orders|kb)", tmp_path / "boss.xml"),
                schemathesis(port, partner, r"^/api/(12345|kb/export)", tmp_path / "partner.xml")]
    for run in runs:
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    with Session(db_engine) as s:  # it did reach the database, not only the checks
        assert s.query(WorkOrder).count() > 3
