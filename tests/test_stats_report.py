"""Report files for a month, a year and a special event: the XLSX loads with openpyxl and holds
figures computed by hand (indicators, the assessment table, volume by type year on year, the
domain breakdown, the seat report); the HTML renders in Debian's chromium with every chart
(a screenshot is kept)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from acd.history.models import SeatInterval
from acd.orders import service
from queue_stats import report
from queue_stats.report import Period, change
from tests.support.browser import ARTIFACTS, launch, require_chromium
from tests.test_stats_assessment import queued

MAR = datetime(2026, 3, 10, 2, 0)  # 10:00 in Shanghai


def fill(db_engine) -> None:
    with Session(db_engine) as s, s.begin():
        queued(s, "a", "大连市", MAR, "answered", wait=4)
        queued(s, "b", "大连市", MAR + timedelta(minutes=1), "abandoned", wait=30)
        queued(s, "c", "锦州市", MAR + timedelta(minutes=2), "answered", wait=8)

        def order(center: str, type_: str, domain: str, at: datetime) -> None:
            service.create(s, center=center, type=type_, domain=domain, content="x",
                           subject="y", source="web", accepted_at=at)

        for _ in range(3):
            order("大连市", "consultation", "highway", MAR)
        order("大连市", "complaint", "urban_transit", MAR + timedelta(days=1))
        order("锦州市", "consultation", "highway", MAR + timedelta(days=2))
        order("大连市", "consultation", "highway", MAR.replace(year=2025))   # a year earlier
        order("大连市", "consultation", "highway", MAR.replace(year=2025))
        s.add_all([SeatInterval(seat_id="8001", center="大连市", state="ready",
                                started_at=MAR - timedelta(hours=1), ended_at=MAR),
                   SeatInterval(seat_id="8001", center="大连市", state="busy", reason="meal",
                                started_at=MAR, ended_at=MAR + timedelta(minutes=30))])


def test_period_bounds() -> None:
    p = Period.month(2026, 2)
    assert (p.lo, p.hi) == (datetime(2026, 2, 1), datetime(2026, 3, 1))
    assert p.since == datetime(2026, 1, 31, 16, 0)  # Shanghai is UTC+8
    assert len(p.steps()) == 28 and len(Period.year(2026).steps()) == 12
    assert Period.special("春运", datetime(2026, 1, 1), datetime(2026, 4, 1)).steps()[1][0] == "01-08"
    with pytest.raises(ValueError, match="title"):
        Period.special(" ", datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="month"):
        Period.month(2026, 13)
    assert change(5, 2) == "+150.00%" and change(3, 0) == "no data"


def test_month_report(db_engine, tmp_path) -> None:
    fill(db_engine)
    files = report.write(db_engine, Period.month(2026, 3), tmp_path,
                         now=datetime(2026, 4, 1))
    wb = load_workbook(files["xlsx"])
    rows = {r[0]: r for r in wb["指标"].iter_rows(values_only=True) if r and r[0]}
    # Numbers are numbers (a rate a fraction shown as a percentage), "no data" an empty cell.
    assert rows["人工接通率 manual connection rate"][1:4] == (pytest.approx(2 / 3), 2, 3)
    assert wb["指标"]["B5"].number_format == "0.00%"
    assert rows["工单数量 work orders"][1] == 5
    table = list(wb["考核表"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1]) for r in table] == [("锦州市", 1), ("大连市", 2)]
    assert table[1][3] == 4  # 工单数量 of 大连市
    types = {r[0]: r for r in wb["类型"].iter_rows(min_row=2, values_only=True)}
    # columns: step, complaint, consultation, suggestion, total, a year earlier, change
    assert types["03-10"][1:7] == (0, 3, 0, 3, 2, pytest.approx(0.5))
    assert types["合计"][1:7] == (1, 4, 0, 5, 2, pytest.approx(1.5))
    domains = {r[0]: r for r in wb["领域"].iter_rows(min_row=2, values_only=True)}
    assert domains["高速公路"][1:5] == (4, pytest.approx(0.8), 2, pytest.approx(1.0))
    assert domains["城市客运"][1:5] == (1, pytest.approx(0.2), 0, None)
    seats = list(wb["座席"].iter_rows(min_row=2, values_only=True))
    assert seats[0] == ("8001", "2026-03-10", 1.5, 0.5, "用餐 0.50", 0.0, 0, None, 0.0)  # titled
    # What a spreadsheet user needs: frozen headers, filters, widths, native charts.
    for name in ("指标", "考核表", "类型", "领域", "座席", "队列"):
        sheet = wb[name]
        assert sheet.freeze_panes is not None and sheet.auto_filter.ref, name
        assert sheet.column_dimensions["A"].width >= 8, name
    for name, charts in (("考核表", 1), ("类型", 2), ("领域", 1), ("队列", 1)):
        assert len(wb[name]._charts) == charts, name
    for sheet in wb.worksheets:  # no figure hides as text (the first column: labels, seat ids)
        for row in sheet.iter_rows(min_row=2, values_only=True):
            for v in row[1:]:
                assert not (isinstance(v, str) and v.replace(".", "").replace("%", "")
                            .strip("+-").isdigit()), (sheet.title, v)
    for name in ("volume-by-type", "year-on-year", "domains", "ranking", "calls-by-queue"):
        assert files[name].stat().st_size > 1000, name
    if db_engine.dialect.name != "sqlite":
        return
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(files["html"].as_uri())
            assert page.locator("h2").count() >= 6
            widths = page.evaluate("[...document.images].map(i => i.naturalWidth)")
            assert len(widths) == 5 and min(widths) > 100
            # self-contained: every chart inside the page, nothing fetched beside it
            assert all(src.startswith("data:image/png;base64,") for src in page.evaluate(
                "[...document.images].map(i => i.getAttribute('src'))"))
            assert "锦州市" in page.inner_text("table:nth-of-type(2)")
            page.screenshot(path=str(ARTIFACTS / "report-month.png"), full_page=True)
        finally:
            browser.close()


def test_year_and_special_event_reports(db_engine, tmp_path) -> None:
    fill(db_engine)
    year = report.write(db_engine, Period.year(2026), tmp_path / "year")
    wb = load_workbook(year["xlsx"])
    ranking = list(wb["年度排名"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in ranking] == ["锦州市", "大连市"]
    months = {r[0]: r for r in wb["类型"].iter_rows(min_row=2, values_only=True)}
    assert months["3月"][4:7] == (5, 2, pytest.approx(1.5)) and months["4月"][4] == 0
    event = report.write(db_engine, Period.special("两会保障", datetime(2026, 3, 10),
                                                   datetime(2026, 3, 11)), tmp_path / "ev",
                         center="大连市")
    wb = load_workbook(event["xlsx"])
    assert wb["指标"]["A1"].value == "两会保障"
    rows = {r[0]: r for r in wb["指标"].iter_rows(values_only=True) if r and r[0]}
    assert rows["工单数量 work orders"][1] == 3   # 大连市 on 10 March only
