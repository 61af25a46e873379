"""Report files for a month, a year or a special event: a Chinese XLSX workbook (typed numbers,
percent formats, frozen headers, filters, native charts: queue_stats/workbook.py) and one
self-contained HTML page with its charts inline (PNG files are written beside it too), reproducing the kind of figures in seed 000 (volume by type,
year on year, the domain breakdown, the centers' ranking) plus the seat report.

Every figure comes from `queue_stats.indicators`, `order_indicators`, `assessment` and `seats`,
with numerator and denominator where it is a rate, so the report can be checked by hand.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from acd.history.models import Call, QueueCall
from acd.orders.models import WorkOrder
from hotline.center import BUSY_TITLES_DEFAULT, DOMAINS, ORDER_TYPES
from hotline.localtime import to_local
from queue_stats import assessment
from queue_stats import workbook as wbk
from queue_stats.indicators import (
    ANSWERED,
    Mean,
    Ratio,
    call_indicators,
    local_to_utc,
    next_month,
)
from queue_stats.order_indicators import order_indicators
from queue_stats.seats import occupancy, seat_report

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@dataclass(frozen=True)
class Period:
    """What a report covers: local times of the province (end exclusive) and the same in UTC."""
    kind: str  # month / year / special
    title: str
    lo: datetime
    hi: datetime
    timezone: str = "Asia/Shanghai"

    @classmethod
    def month(cls, year: int, month: int, timezone: str = "Asia/Shanghai") -> Period:
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1-12, got {month}")
        lo = datetime(year, month, 1)
        return cls("month", f"{year}年{month}月", lo, next_month(lo), timezone)

    @classmethod
    def year(cls, year: int, timezone: str = "Asia/Shanghai") -> Period:
        return cls("year", f"{year}年度", datetime(year, 1, 1), datetime(year + 1, 1, 1), timezone)

    @classmethod
    def special(cls, title: str, lo: datetime, hi: datetime,
                timezone: str = "Asia/Shanghai") -> Period:
        if hi <= lo:
            raise ValueError("a special event must end after it starts")
        if not title.strip():
            raise ValueError("a special event needs a title")
        return cls("special", title, lo, hi, timezone)

    def utc(self, t: datetime) -> datetime:
        return local_to_utc(t, self.timezone)

    @property
    def since(self) -> datetime:
        return self.utc(self.lo)

    @property
    def until(self) -> datetime:
        return self.utc(self.hi)

    def steps(self) -> list[tuple[str, datetime, datetime]]:
        """The chart's x axis: months of a year, days of a month or of a short event, weeks of
        a longer one (label, local start, local end)."""
        out, t = [], self.lo
        while t < self.hi:
            if self.kind == "year":
                nxt, label = next_month(t), f"{t.month}月"
            elif (self.hi - self.lo).days <= 62:
                nxt, label = t + timedelta(days=1), f"{t:%m-%d}"
            else:
                nxt, label = t + timedelta(days=7), f"{t:%m-%d}"
            out.append((label, t, min(nxt, self.hi)))
            t = nxt
        return out

    def a_year_earlier(self) -> Period:
        def back(t: datetime) -> datetime:
            return t.replace(year=t.year - 1, day=28 if (t.month, t.day) == (2, 29) else t.day)
        return Period(self.kind, self.title, back(self.lo), back(self.hi), self.timezone)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    numerator: str
    denominator: str
    target: str
    figure: Ratio | Mean | int | None = None  # the figure itself, for the spreadsheet


def _rows(engine: Engine, p: Period, center: str | None, seats: list,  # type: ignore[type-arg]
          today: date | None = None) -> list[Row]:
    calls = call_indicators(engine, p.since, p.until, center=center)
    orders = order_indicators(engine, p.since, p.until, center=center, timezone=p.timezone,
                              today=today)

    def r(label: str, x: Ratio | Mean, target: str = "") -> Row:
        if isinstance(x, Ratio):
            return Row(label, str(x), f"{x.numerator:g}", f"{x.denominator:g}", target, x)
        return Row(label, str(x), f"{x.total:.1f}", f"{x.count}", target, x)

    return [
        Row("排队来电 calls queued", str(calls.queued), "", "", "", calls.queued),
        r("人工接通率 manual connection rate", calls.manual_connection_rate, "≥ 95 %"),
        r("平均等待时长 average wait (拨打12328至获得服务)", calls.average_wait_s, "≤ 25 s"),
        r("排队等待时长 queue wait (进入队列至接通)", calls.average_queue_wait_s),
        r("10秒接通率 answered within 10 s", calls.answered_within_10s_rate),
        r("放弃率 abandon rate", calls.abandon_rate),
        r("平均处理时长 average handle time", calls.average_handle_time_s),
        r("座席占用率 occupancy", occupancy(seats)),
        Row("工单数量 work orders", str(orders.orders), "", "", "", orders.orders),
        r("信息咨询类即时答复率 instant-answer rate", orders.instant_answer_rate, "≥ 95 %"),
        r("限时办结率 closed in time (期限在本期的转办工单)", orders.closed_in_time, "≥ 95 %"),
        Row("未到期待办 deadlines pending", str(orders.deadlines_pending), "", "", "",
            orders.deadlines_pending),
        r("跨省(地市)工单办结率 cross-region closed in time", orders.cross_region_closed_in_time,
          "≥ 90 %"),
        r("即时答复满意率 instant-answer satisfaction", orders.instant_answer_satisfaction,
          "≥ 90 %"),
        r("抽查回访率 revisit rate", orders.revisit_rate, "≥ 30 %"),
        r("抽查回访满意率 revisit satisfaction", orders.revisit_satisfaction, "≥ 90 %"),
        r("电话工单生成率 order generation rate", orders.order_generation_rate, "≥ 99.5 %"),
        r("数据规范率 data conformity", orders.data_conformity, "≥ 99 %"),
    ]


def order_counts(engine: Engine, p: Period, center: str | None
                 ) -> list[tuple[str, dict[tuple[str, str], int]]]:
    """Per step of the period: orders accepted by (type, domain). One grouped query per step,
    each over the accepted_at index."""
    out = []
    with engine.connect() as conn:
        for label, lo, hi in p.steps():
            q = (select(WorkOrder.type, WorkOrder.domain, func.count())
                 .where(WorkOrder.accepted_at >= p.utc(lo), WorkOrder.accepted_at < p.utc(hi))
                 .group_by(WorkOrder.type, WorkOrder.domain))
            if center:
                q = q.where(WorkOrder.center == center)
            out.append((label, {(t, d): n for t, d, n in conn.execute(q)}))
    return out


def _by_queue(engine: Engine, p: Period, center: str | None) -> list[tuple[str, int, int]]:
    """(queue, stays entered, stays answered) for the period."""
    q = (select(QueueCall.queue, QueueCall.outcome, func.count())
         .join(Call, Call.uniqueid == QueueCall.uniqueid)
         .where(QueueCall.entered_at >= p.since, QueueCall.entered_at < p.until,
                Call.callback_of.is_(None))   # a callback's leg is its call's, not a stay
         .group_by(QueueCall.queue, QueueCall.outcome))
    if center:
        q = q.where(QueueCall.center == center)
    totals: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for queue, outcome, n in conn.execute(q):
            t = totals.setdefault(queue, [0, 0])
            t[0] += n
            if outcome in ANSWERED:
                t[1] += n
    return [(q, t[0], t[1]) for q, t in sorted(totals.items())]


def change(now: int, before: int) -> str:
    """Year-on-year change as seed 000 writes it; no orders a year earlier: no data."""
    return "no data" if not before else f"{100 * (now - before) / before:+.2f}%"


def change_ratio(now: int, before: int) -> float | None:
    """The same change as a fraction for a spreadsheet cell (None: no data)."""
    return None if not before else (now - before) / before


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    if CJK_FONT.exists():
        font_manager.fontManager.addfont(str(CJK_FONT))
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(CJK_FONT)).get_name()
    return plt


def _charts(out: Path, steps: list[str], by_type: dict[str, list[int]], this: list[int],
            last: list[int], domains: list[tuple[str, int]], ranking: list[tuple[str, float]],
            by_queue: list[tuple[str, int, int]]) -> dict[str, Path]:
    plt = _pyplot()
    files = {}

    def save(name: str, fig) -> None:  # type: ignore[no-untyped-def]
        fig.tight_layout()
        files[name] = out / f"{name}.png"
        fig.savefig(files[name])
        plt.close(fig)

    x = list(range(len(steps)))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    bottom = [0] * len(steps)
    for (t, counts), color in zip(by_type.items(), ("#2e6da4", "#d9534f", "#5cb85c"),
                                  strict=False):
        ax.bar(x, counts, bottom=bottom, label=ORDER_TYPES.get(t, t), color=color)
        bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
    ax.set_xticks(x, steps, rotation=60 if len(steps) > 12 else 0, fontsize=7)
    ax.set_title("工单量（按类型） orders by type")
    ax.legend()
    save("volume-by-type", fig)

    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    w = 0.4
    ax.bar([i - w / 2 for i in x], last, w, label="去年同期 a year earlier", color="#9bb7d4")
    ax.bar([i + w / 2 for i in x], this, w, label="本期 this period", color="#2e6da4")
    ax.set_xticks(x, steps, rotation=60 if len(steps) > 12 else 0, fontsize=7)
    ax.set_title("工单量同比 year on year")
    ax.legend()
    save("year-on-year", fig)

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    names = [DOMAINS.get(d, d) for d, _ in domains] or ["—"]
    ax.barh(names[::-1], [n for _, n in domains][::-1] or [0], color="#2e6da4")
    ax.set_title("各领域工单 orders by domain")
    save("domains", fig)

    fig, ax = plt.subplots(figsize=(7, max(3.0, 0.32 * len(ranking) + 1)), dpi=100)
    ax.barh([c for c, _ in ranking][::-1] or ["—"], [s for _, s in ranking][::-1] or [0],
            color="#5cb85c")
    ax.set_title("各中心考核得分排名 centers ranked")
    save("ranking", fig)

    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    qn = [q for q, _, _ in by_queue] or ["—"]
    ax.bar(qn, [t for _, t, _ in by_queue] or [0], label="排队 queued", color="#9bb7d4")
    ax.bar(qn, [a for _, _, a in by_queue] or [0], label="接通 answered", color="#2e6da4")
    ax.set_title("各队列来电 calls by queue")
    ax.legend()
    save("calls-by-queue", fig)
    return files


def _outage_cell(row: assessment.CenterRow, key: str) -> object:
    """断网时长 as annex 4 prints it: total/average hours (5.6/0.9); any other cell as is."""
    if key == "outage_hours":
        return f"{row.values.get('outage_hours', 0.0):.1f}/" \
               f"{row.values.get('outage_average_hours', 0.0):.1f}"
    return _cell(row.values.get(key))


def _fmt(v: Ratio | Mean | float | None) -> str:
    if isinstance(v, Ratio):
        return "no data" if v.value is None else f"{100 * v.value:.2f}%"
    if isinstance(v, Mean):
        return "no data" if v.value is None else f"{v.value:.0f}"
    return "" if v is None else f"{v:g}"


def _cell(v: Ratio | Mean | float | None) -> str | float:
    """A spreadsheet cell: counts stay numbers, rates and means are shown as in seed 000."""
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else _fmt(v)


def _hours(s: float) -> str:
    return f"{s / 3600:.2f}"


def write(engine: Engine, p: Period, out_dir: Path, center: str | None = None,
          rules: assessment.Rules | None = None,
          adjustments: dict[str, float] | None = None,
          now: datetime | None = None,
          busy_title: Callable[[str], str] | None = None) -> dict[str, Path]:
    """Write report.xlsx, report.html and the charts (PNG) into out_dir. `busy_title` names a
    busy reason in Chinese (the center file's `Center.busy_title`; the default titles
    otherwise)."""
    title = busy_title or (lambda code: BUSY_TITLES_DEFAULT.get(code, code))

    def reasons(busy_s: dict[str, float]) -> str:
        return "; ".join(f"{'未注明' if k == '-' else title(k)} {_hours(v)}"
                         for k, v in sorted(busy_s.items()))
    from openpyxl import Workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    seats = seat_report(engine, p.since, p.until, center, p.timezone, now)
    today = None if now is None else to_local(now, p.timezone).date()
    rows = _rows(engine, p, center, seats, today)
    steps = order_counts(engine, p, center)
    earlier = order_counts(engine, p.a_year_earlier(), center)
    labels = [s for s, _ in steps]
    by_type = {t: [sum(n for (tt, _), n in c.items() if tt == t) for _, c in steps]
               for t in ORDER_TYPES}
    this = [sum(c.values()) for _, c in steps]
    last = [sum(c.values()) for _, c in earlier] + [0] * (len(steps) - len(earlier))
    total_last = sum(last)
    domains_now = {d: sum(n for _, c in steps for (_, dd), n in c.items() if dd == d)
                   for d in DOMAINS}
    domains_before = {d: sum(n for _, c in earlier for (_, dd), n in c.items() if dd == d)
                      for d in DOMAINS}
    total = sum(this)
    domains = sorted(((d, n) for d, n in domains_now.items()), key=lambda x: -x[1])
    if p.kind == "month":
        table = assessment.monthly_table(engine, p.lo.year, p.lo.month, rules, p.timezone,
                                         today=today)
        ranked: list[assessment.CenterRow] = table.rows
        rollup = None
    elif p.kind == "year":
        rollup = assessment.year_tables(engine, p.lo.year, rules, adjustments, p.timezone,
                                        today=today)
        table = assessment.period_table(engine, p.lo, p.hi, p.title, rules, p.timezone,
                                        today=today)
        ranked = rollup.rows
    else:
        table = assessment.period_table(engine, p.lo, p.hi, p.title, rules, p.timezone,
                                        today=today)
        ranked, rollup = table.rows, None
    by_queue = _by_queue(engine, p, center)
    charts = _charts(out_dir, labels, by_type, this, last, domains,
                     [(r.name or r.center, r.score) for r in ranked], by_queue)
    scope = f"中心 {table.rules.name_of(center)}" if center else "全省 all centers"
    period = f"{p.lo:%Y-%m-%d} — {p.hi - timedelta(seconds=1):%Y-%m-%d}"
    keys = list(assessment.LABELS)

    # --- XLSX: numbers as numbers, formats, widths, frozen headers, filters, charts ---
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    wbk.table(ws, ["指标", "数值", "分子", "分母", "目标", "说明"],
              [[r.label, wbk.number(r.figure),
                r.figure.numerator if isinstance(r.figure, Ratio) else
                r.figure.total if isinstance(r.figure, Mean) else None,
                r.figure.denominator if isinstance(r.figure, Ratio) else
                r.figure.count if isinstance(r.figure, Mean) else None,
                r.target, "无数据" if wbk.number(r.figure) is None else ""] for r in rows],
              title_rows=[[p.title], [scope, period]])
    for i, r in enumerate(rows, start=4):
        ws.cell(row=i, column=2).number_format = wbk.fmt_of(r.figure)
        ws.cell(row=i, column=3).number_format = "0.0" if isinstance(r.figure, Mean) else "0"
    at = wb.create_sheet("考核表")
    fmts = [None, "0", wbk.SCORE] + [
        "0" if k in ("orders", "outage_count") else wbk.HOURS if k == "outage_hours" else
        wbk.SECONDS if k == "average_wait_s" else wbk.PERCENT for k in keys] + [wbk.HOURS,
                                                                                 wbk.SCORE]
    head = wbk.table(at, ["城市", "排名", "总分"] + [
        assessment.LABELS[k] + ("(时)" if k == "outage_hours" else "") for k in keys]
        + ["平均断网时长(时)", "扣分"],
        [[r.name or r.center, r.rank, r.score] + [wbk.number(r.values.get(k)) for k in keys]
         + [r.values.get("outage_average_hours", 0.0), r.deduction] for r in table.rows],
        fmts, title_rows=[[f"{table.title} 运行服务质量考核表（{table.rules.name}，"
                           f"基本分 {table.rules.base:g}）"]])
    if table.rows:
        wbk.bar_chart(at, "各中心考核得分", head, head + len(table.rows), [3],
                      f"A{head + len(table.rows) + 3}", horizontal=True)
    ties = "、".join(assessment.LABELS[k] for k in table.rules.tie_break) or "（并列同名次）"
    if rollup is not None:
        rs = wb.create_sheet("年度排名")
        wbk.table(rs, ["城市", "排名", "得分", "月数"]
                  + [assessment.LABELS[k] for k in table.rules.tie_break],
                  [[r.name or r.center, r.rank, r.score, r.values.get("months")]
                   + [wbk.number(r.values.get(k)) for k in table.rules.tie_break]
                   for r in rollup.rows],
                  [None, "0", wbk.SCORE, "0"] + [wbk.fmt_of(rollup.rows[0].values.get(k))
                                                 if rollup.rows else None
                                                 for k in table.rules.tie_break],
                  title_rows=[[rollup.title, f"月度得分平均，加减分后排名；并列按{ties}"]])
    ts = wb.create_sheet("类型")
    n_types = len(ORDER_TYPES)
    head = wbk.table(ts, ["时段"] + [ORDER_TYPES[t] for t in ORDER_TYPES]
                     + ["合计", "去年同期", "同比"],
                     [[label] + [by_type[t][i] for t in ORDER_TYPES]
                      + [this[i], last[i], change_ratio(this[i], last[i])]
                      for i, label in enumerate(labels)]
                     + [["合计"] + [sum(by_type[t]) for t in ORDER_TYPES]
                        + [total, total_last, change_ratio(total, total_last)]],
                     [None] + ["0"] * (n_types + 2) + [wbk.CHANGE])
    wbk.bar_chart(ts, "工单量（按类型）", head, head + len(labels),
                  list(range(2, 2 + n_types)), f"{chr(ord('A') + n_types + 5)}2", stacked=True,
                  y_title="件")
    wbk.bar_chart(ts, "工单量同比", head, head + len(labels),
                  [2 + n_types, 3 + n_types], f"{chr(ord('A') + n_types + 5)}20", y_title="件")
    ds = wb.create_sheet("领域")
    head = wbk.table(ds, ["领域", "工单量", "占比", "去年同期", "同比"],
                     [[DOMAINS.get(d, d), n, n / total if total else None, domains_before[d],
                       change_ratio(n, domains_before[d])] for d, n in domains],
                     [None, "0", wbk.PERCENT, "0", wbk.CHANGE])
    wbk.bar_chart(ds, "各领域工单", head, head + len(domains), [2], "H2", horizontal=True,
                  y_title="件")
    ss = wb.create_sheet("座席")
    wbk.table(ss, ["座席", "日期", "签入(时)", "示忙(时)", "示忙原因", "整理(时)", "接听",
                   "平均处理(秒)", "占用率"],
              [[sd.seat, sd.day, round(sd.signed_in_s / 3600, 2),
                round(sd.busy_total_s / 3600, 2),
                reasons(sd.busy_s),
                round(sd.wrapup_s / 3600, 2), sd.answered,
                wbk.number(sd.average_handle_time_s), wbk.number(sd.occupancy)]
               for sd in seats],
              [None, None, wbk.HOURS, wbk.HOURS, None, wbk.HOURS, "0", wbk.SECONDS,
               wbk.PERCENT])
    qs = wb.create_sheet("队列")
    head = wbk.table(qs, ["队列", "排队", "接通"], [list(q) for q in by_queue],
                     [None, "0", "0"])
    wbk.bar_chart(qs, "各队列来电", head, head + len(by_queue), [2, 3], "E2", y_title="通")
    xlsx = out_dir / "report.xlsx"
    wb.save(xlsx)

    # --- HTML ---
    esc = html.escape

    def tr(cells: list[object], th: bool = False) -> str:
        tag = "th" if th else "td"
        return "<tr>" + "".join(f"<{tag}>{esc(str(c))}</{tag}>" for c in cells) + "</tr>"

    def img(name: str, alt: str) -> str:
        """The chart inside the page (a data: URI): the HTML is one self-contained file."""
        data = base64.b64encode(charts[name].read_bytes()).decode()
        return f'<p><img src="data:image/png;base64,{data}" alt="{esc(alt)}"></p>'

    parts = [
        "<h2>指标 indicators</h2><table>", tr(["指标", "数值", "分子", "分母", "目标"], True),
        *(tr([r.label, r.value, r.numerator, r.denominator, r.target]) for r in rows), "</table>",
        f"<h2>考核表 assessment ({esc(table.title)})</h2><table class=wide>",
        tr(["城市", "排名", "总分"] + [assessment.LABELS[k] for k in keys] + ["扣分"], True),
        *(tr([r.name or r.center, r.rank, r.score]
             + [str(_outage_cell(r, k)) if k == "outage_hours" else _fmt(r.values.get(k))
                for k in keys] + [r.deduction]) for r in table.rows), "</table>",
        f"<p>并列名次按{esc(ties)}区分先后。</p>",
    ]
    if rollup is not None:
        parts += [f"<h2>{esc(rollup.title)}排名 annual ranking</h2><table>",
                  tr(["城市", "排名", "得分", "月数"], True),
                  *(tr([r.name or r.center, r.rank, r.score, r.values.get("months")])
                    for r in rollup.rows), "</table>"]
    parts += [img("ranking", "各中心考核得分排名"),
              "<h2>工单量 orders by type, year on year</h2>", img("volume-by-type", "工单量"),
              img("year-on-year", "同比"),
              "<table>", tr(["时段"] + [ORDER_TYPES[t] for t in ORDER_TYPES] + ["合计", "去年同期", "同比"], True),
              tr(["合计"] + [sum(by_type[t]) for t in ORDER_TYPES] + [total, total_last,
                                                              change(total, total_last)]),
              "</table>", "<h2>领域 domains</h2>", img("domains", "各领域工单"), "<table>",
              tr(["领域", "工单量", "占比", "去年同期", "同比"], True),
              *(tr([DOMAINS.get(d, d), n, f"{100 * n / total:.2f}%" if total else "no data",
                    domains_before[d], change(n, domains_before[d])]) for d, n in domains),
              "</table>", "<h2>座席 seats</h2><table>",
              tr(["座席", "日期", "签入(时)", "示忙(时)", "示忙原因", "整理(时)", "接听",
                  "平均处理(秒)", "占用率"], True),
              *(tr([sd.seat, sd.day, _hours(sd.signed_in_s), _hours(sd.busy_total_s),
                    reasons(sd.busy_s),
                    _hours(sd.wrapup_s), sd.answered, _fmt(sd.average_handle_time_s),
                    _fmt(sd.occupancy)])
                for sd in seats), "</table>",
              "<h2>队列 queues</h2>", img("calls-by-queue", "各队列来电")]
    page = out_dir / "report.html"
    page.write_text(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(p.title)}</title><style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2rem}}
table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccd;padding:.3rem .6rem}}
table.wide{{font-size:.75rem}}</style></head><body><h1>{esc(p.title)}</h1>
<p>{esc(scope)} · {esc(period)} ({esc(p.timezone)})</p>{"".join(parts)}</body></html>""",
                    encoding="utf-8")
    return {"xlsx": xlsx, "html": page, **charts}
