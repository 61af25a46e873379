"""The figures in the center's time (Asia/Shanghai) while the ledger stays UTC: `hotline stats
--since/--until` as Beijing dates, 限时办结率 by the Beijing deadline day across a month's end
(and its pending orders), the tie-break and the centers' Chinese names from the rules file
(seed 000 annex 4 against Henan's art. 10); on SQLite and PostgreSQL where a database counts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from acd.history.models import Call
from acd.orders import service
from hotline.localtime import to_utc
from queue_stats import assessment, report
from queue_stats.assessment import CenterRow, Rules, RulesError
from queue_stats.indicators import Ratio
from queue_stats.order_indicators import order_indicators, order_indicators_by
from tests.support.cli import in_process
from tests.test_stats_indicators import add_call

TZ = "Asia/Shanghai"
LIAONING = Path(assessment.__file__).resolve().parent / "scoring" / "liaoning.toml"


def utc(local: str) -> datetime:
    return to_utc(datetime.fromisoformat(local), TZ)


@pytest.fixture
def hotline(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """The `hotline` command in this process, on the example center (Asia/Shanghai)."""
    return in_process(capsys, monkeypatch)


def test_stats_since_and_until_are_the_centers_dates(ledger, capsys, hotline,
                                                      tmp_path) -> None:
    """Issue 15: `hotline stats calls` for 2021-03-01..03 by day gave a first day starting at
    08:00 and an extra day. Every --since/--until is a local date or time of the center, end
    exclusive, and --help says so: 1-3 March are Beijing's days, from 00:00 on the 1st
    (16:00 UTC on 28 February) to 00:00 on the 4th."""
    url, engine = ledger
    with Session(engine) as s, s.begin():
        for uid, local in (("feb28", "2021-02-28T23:30"), ("d1", "2021-03-01T00:30"),
                           ("d1b", "2021-03-01T07:59"), ("d2", "2021-03-02T12:00"),
                           ("d3", "2021-03-03T23:30"), ("mar4", "2021-03-04T05:00")):
            add_call(s, uid, utc(local), "answered", wait=4, talk=30)
    with Session(engine) as s, s.begin():   # ended (what an upload sends)
        s.execute(update(Call).values(ended_at=Call.started_at))
    code, out, _ = hotline("stats", "calls", "--since", "2021-03-01", "--until",
                           "2021-03-04", "--by", "day", "--database", url)
    assert code == 0
    assert {r.split()[0]: int(r.split()[1]) for r in out.splitlines()[1:]} == {
        "2021-03-01": 2, "2021-03-02": 1, "2021-03-03": 1}
    code, out, _ = hotline("stats", "calls", "--since", "2021-03-01T08:00", "--until",
                           "2021-03-03", "--database", url)
    assert "2021-03-01 08:00 to 2021-03-03 00:00 (Asia/Shanghai): queued 1," in out
    code, out, _ = hotline("stats", "upload", "--since", "2021-03-01", "--until",
                           "2021-03-02", "--out", str(tmp_path), "--database", url)
    assert out.startswith("2 call record(s)")  # d1 and d1b, not 28 February's
    code, _, err = hotline("stats", "calls", "--since", "March", "--database", url)
    assert code == 2 and "--since must be a local date or time" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = hotline("stats", "seats", "--since", "2021-03-02", "--until",
                           "2021-03-01", "--database", url)
    assert code == 2 and "--until must be after --since" in err
    for command in (["stats", "calls"], ["stats", "reconcile"], ["report"]):
        with pytest.raises(SystemExit):
            hotline(*command, "--help")
        assert "time zone" in capsys.readouterr().out


def consultation(s: Session, received: str, replied: str | None, cross: bool = False):  # type: ignore[no-untyped-def]
    o = service.create(s, center="shenyang", type="consultation", domain="highway",
                       content="x", source="web", accepted_at=utc(received), timezone=TZ,
                       cross_region=cross)
    service.transfer(s, o, "seat", "u", at=utc(received), timezone=TZ)
    if replied:
        service.reply(s, o, "u", "已答复", at=utc(replied))
    return o


MARCH = (utc("2026-03-01T00:00"), utc("2026-04-01T00:00"))
APRIL = (utc("2026-04-01T00:00"), utc("2026-05-01T00:00"))


def test_closed_in_time_by_the_beijing_deadline_day_across_the_months_end(db_engine) -> None:
    """Seed 002 art. 7 (一): "限时办结率：限时办结的转办工单量与转办工单总量的比率"; seed 001
    art. 33: the unit replies within 5 working days of receipt. Received Tuesday 24 March:
    due Tuesday 31 March. A reply at 23:30 that Beijing day is in time; at 00:30 on 1 April
    (16:30 UTC, still the 31st in UTC) it is late; no reply by then: failed. Due 1 April
    (received the 25th): April's figure, not March's."""
    with Session(db_engine) as s, s.begin():
        consultation(s, "2026-03-24T10:00", "2026-03-31T23:30")               # in time
        consultation(s, "2026-03-24T10:00", "2026-04-01T00:30", cross=True)   # late
        consultation(s, "2026-03-24T10:00", None)                             # failed
        consultation(s, "2026-03-25T10:00", "2026-03-26T09:00", cross=True)   # April's
    march = order_indicators(db_engine, *MARCH, timezone=TZ, today=date(2026, 4, 10))
    assert march.closed_in_time == Ratio(1, 3)
    assert march.cross_region_closed_in_time == Ratio(0, 1)
    april = order_indicators(db_engine, *APRIL, timezone=TZ, today=date(2026, 4, 10))
    assert (april.closed_in_time, april.cross_region_closed_in_time) == (Ratio(1, 1),
                                                                        Ratio(1, 1))
    days = order_indicators_by(db_engine, MARCH[0], APRIL[1], "day", timezone=TZ,
                               today=date(2026, 4, 10))
    assert days["2026-03-31"].closed_in_time == Ratio(1, 3)
    assert days["2026-04-01"].closed_in_time == Ratio(1, 1)


def test_an_open_order_not_yet_due_is_pending_not_failed(db_engine) -> None:
    """Seed 002 art. 7 (一), issue 15's month: a suggestion replied in time and a complaint due
    next month, still open, made 1 of 2 = 50 % (0 of 8 points). The complaint received 20
    March is due 7 May (30 working days): not March's; in May, pending until its day is over,
    then failed."""
    with Session(db_engine) as s, s.begin():
        ok = service.create(s, center="shenyang", type="suggestion", domain="highway",
                            content="x", source="web", accepted_at=utc("2026-03-02T09:00"),
                            timezone=TZ)
        service.transfer(s, ok, "seat", "u", at=utc("2026-03-02T10:00"), timezone=TZ)
        service.reply(s, ok, "u", "已采纳", at=utc("2026-03-12T10:00"))
        open_ = service.create(s, center="shenyang", type="complaint", domain="highway",
                               content="x", subject="y", source="web",
                               accepted_at=utc("2026-03-20T09:00"), timezone=TZ)
        service.transfer(s, open_, "seat", "u", at=utc("2026-03-20T10:00"), timezone=TZ)
        assert open_.due == date(2026, 5, 7)
    table = assessment.monthly_table(db_engine, 2026, 3, today=date(2026, 4, 1))
    row = table.rows[0]
    assert row.values["closed_in_time"] == Ratio(1, 1)
    assert row.scores["closed_in_time"] == 8          # henan.toml's full points
    may = (utc("2026-05-01T00:00"), utc("2026-06-01T00:00"))
    on_the_day = order_indicators(db_engine, *may, timezone=TZ, today=date(2026, 5, 7))
    assert on_the_day.closed_in_time == Ratio(0, 0) and on_the_day.deadlines_pending == 1
    after = order_indicators(db_engine, *may, timezone=TZ, today=date(2026, 5, 8))
    assert after.closed_in_time == Ratio(0, 1) and after.deadlines_pending == 0


# --- ranking and names ---------------------------------------------------------------------------

# Seed 000 annex 4: city, rank, score, 工单数量, 人工接通率 of the tied centers.
ANNEX_4 = [("锦州市", 1, 100, 23051, 98.55), ("大连市", 2, 100, 7967, 96.80),
           ("盘锦市", 3, 100, 7668, 97.56), ("葫芦岛市", 4, 100, 5560, 98.87),
           ("辽宁省", 5, 100, 4537, 95.00), ("朝阳市", 6, 100, 3254, 98.61),
           ("营口市", 13, 84.5, 2109, 87.96), ("本溪市", 14, 84.5, 1213, 91.61)]


def test_ties_are_ranked_as_the_rules_file_says() -> None:
    """Seed 000 annex 4 ranks its six centers on 100 points by 工单数量 (盘锦市, 97.56 %, before
    葫芦岛市, 98.87 %) and 营口市 before 本溪市 on 84.5; Henan's art. 10 ranks ties "根据人工
    接通率". The tie-break is a field of the rules file: liaoning.toml's reproduces annex 4,
    henan.toml's Henan's rule."""
    liaoning, henan = Rules.load(LIAONING), Rules.load()
    assert liaoning.tie_break == ("orders",) and henan.tie_break == ("manual_connection_rate",)
    code = {name: c for c, name in liaoning.centers.items()}

    def rows() -> list[CenterRow]:
        return [CenterRow(code[name], {"orders": orders,
                                       "manual_connection_rate": Ratio(mcr, 100)},
                          score=score, name=liaoning.name_of(code[name]))
                for name, _, score, orders, mcr in reversed(ANNEX_4)]

    ranked = rows()
    assessment.rank(ranked, liaoning.tie_break)
    assert [r.name for r in ranked] == [name for name, *_ in ANNEX_4]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5, 6, 7, 8]   # annex 4's order, no sharing
    by_mcr = rows()
    assessment.rank(by_mcr, henan.tie_break)
    assert [r.name for r in by_mcr][:3] == ["葫芦岛市", "朝阳市", "锦州市"]
    assert [r.name for r in by_mcr][6:] == ["本溪市", "营口市"]


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("tie_break"), "tie_break: required"),
    (lambda d: d.update(tie_break=["speed"]), r"tie_break\[0\]"),
    (lambda d: d.update(tie_break="orders"), "expected a list"),
    (lambda d: d.update(centers={"jinzhou": 3}), "centers"),
])
def test_a_bad_tie_break_or_name_table_is_refused(change, field) -> None:
    import tomllib
    data = tomllib.loads(LIAONING.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(RulesError, match=field):
        Rules.parse(data)


def test_assessment_and_report_show_the_centers_chinese_names(ledger, hotline,
                                                              tmp_path) -> None:
    """Seed 000 annex 4 lists its centers as 锦州市, 大连市…; the records keep codes. Two centers
    with the same score: liaoning.toml ranks the one with more orders first and names them;
    henan.toml (no names, ties by the connection rate, here equal) shows codes, rank shared."""
    url, engine = ledger
    with Session(engine) as s, s.begin():
        for center, n in (("dalian", 2), ("jinzhou", 3)):
            for i in range(n):
                uid = f"{center}-{i}"
                add_call(s, uid, utc(f"2021-03-10T10:0{i}"), "answered", wait=4, talk=30,
                         center=center)
                o = service.create(s, center=center, type="consultation", domain="highway",
                                   content="x", source="call", call_uniqueid=uid,
                                   accepted_at=utc(f"2021-03-10T10:0{i}"), timezone=TZ)
                service.answer_on_call(s, o, "seat")
    code, out, _ = hotline("assess", "--month", "2021-03", "--rules", str(LIAONING),
                           "--database", url)
    lines = [x.split() for x in out.splitlines()[2:]]
    assert code == 0 and "ties by 工单数量" in out
    assert [(x[0], x[2], x[-1]) for x in lines] == [("1", "3", "锦州市"), ("2", "2", "大连市")]
    assert "jinzhou" not in out
    code, out, _ = hotline("assess", "--month", "2021-03", "--database", url)
    assert [(x.split()[0], x.split()[-1]) for x in out.splitlines()[2:]] == [
        ("1", "dalian"), ("1", "jinzhou")]
    files = report.write(engine, report.Period.month(2021, 3), tmp_path,
                         rules=Rules.load(LIAONING), now=datetime(2021, 4, 5))
    table = list(load_workbook(files["xlsx"])["考核表"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[1]) for r in table] == [("锦州市", 1), ("大连市", 2)]
    assert "并列名次按工单数量区分先后" in files["html"].read_text(encoding="utf-8")
