"""Report files: the XLSX loads with openpyxl and holds the figures; the HTML renders in
Debian's chromium (a screenshot is kept)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from queue_stats import report
from tests.support.real import unavailable
from tests.test_stats_indicators import T0, add_call

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_report_files(db_engine, tmp_path) -> None:
    with Session(db_engine) as s, s.begin():
        add_call(s, "a", T0, "answered", wait=4, talk=60)
        add_call(s, "b", T0 + timedelta(minutes=1), "abandoned", wait=30, queue="urban")
    files = report.write(db_engine, T0, T0 + timedelta(hours=1), "shenyang",
                         "值班报告 shift report", tmp_path)
    wb = load_workbook(files["xlsx"])
    rows = {r[0]: r for r in wb["指标"].iter_rows(values_only=True) if r and r[0]}
    assert rows["人工接通率 manual connection rate"][1:4] == ("50.00 %", "1", "2")
    assert rows["工单数量 work orders"][1] == "0"
    assert [tuple(r) for r in wb["队列"].iter_rows(min_row=2, values_only=True)] == \
        [("highway", 1, 1), ("urban", 1, 0)]
    assert files["png"].stat().st_size > 1000
    if db_engine.dialect.name != "sqlite":
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not Path("/usr/bin/chromium").exists():
        unavailable("Debian's chromium is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto(files["html"].as_uri())
            assert page.locator("table tr").count() == 13
            assert page.evaluate("document.querySelector('img').naturalWidth") > 100
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
