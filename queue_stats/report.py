"""Report files for a period: a Chinese XLSX workbook and an HTML page with PNG charts.

The figures are those of `queue_stats.indicators` (and the work-order indicators where there
are orders), with numerator and denominator, so the report can be checked by hand.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from acd.history.models import QueueCall
from queue_stats.indicators import Mean, Ratio, call_indicators
from queue_stats.order_indicators import order_indicators

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    numerator: str
    denominator: str
    target: str


def _rows(engine: Engine, since: datetime, until: datetime, center: str) -> list[Row]:
    calls = call_indicators(engine, since, until, center=center)
    orders = order_indicators(engine, since, until, center=center)

    def r(label: str, x: Ratio | Mean, target: str = "") -> Row:
        if isinstance(x, Ratio):
            return Row(label, str(x), f"{x.numerator:g}", f"{x.denominator:g}", target)
        return Row(label, str(x), f"{x.total:.1f}", f"{x.count}", target)

    return [
        Row("排队来电 calls queued", str(calls.queued), "", "", ""),
        r("人工接通率 manual connection rate", calls.manual_connection_rate, "≥ 95 %"),
        r("平均等待时长 average wait", calls.average_wait_s, "≤ 25 s"),
        r("10秒接通率 answered within 10 s", calls.answered_within_10s_rate),
        r("放弃率 abandon rate", calls.abandon_rate),
        r("平均处理时长 average handle time", calls.average_handle_time_s),
        Row("工单数量 work orders", str(orders.orders), "", "", ""),
        r("信息咨询类即时答复率 instant-answer rate", orders.instant_answer_rate, "≥ 95 %"),
        r("限时办结率 closed in time", orders.closed_in_time, "≥ 95 %"),
        r("即时答复满意率 instant-answer satisfaction", orders.instant_answer_satisfaction,
          "≥ 90 %"),
        r("电话工单生成率 order generation rate", orders.order_generation_rate, "≥ 99.5 %"),
        r("数据规范率 data conformity", orders.data_conformity, "≥ 99 %"),
    ]


def _by_queue(engine: Engine, since: datetime, until: datetime,
              center: str) -> list[tuple[str, int, int]]:
    """(queue, stays entered, stays answered) for the period."""
    q = (select(QueueCall.queue, QueueCall.outcome, func.count())
         .where(QueueCall.entered_at >= since, QueueCall.entered_at < until,
                QueueCall.center == center)
         .group_by(QueueCall.queue, QueueCall.outcome))
    totals: dict[str, list[int]] = {}
    with engine.connect() as conn:
        for queue, outcome, n in conn.execute(q):
            t = totals.setdefault(queue, [0, 0])
            t[0] += n
            if outcome in ("answered", "transferred"):
                t[1] += n
    return [(q, t[0], t[1]) for q, t in sorted(totals.items())]


def _chart(by_queue: list[tuple[str, int, int]], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    if CJK_FONT.exists():
        font_manager.fontManager.addfont(str(CJK_FONT))
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(CJK_FONT)).get_name()
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    names = [q for q, _, _ in by_queue] or ["—"]
    ax.bar(names, [t for _, t, _ in by_queue] or [0], label="排队 queued", color="#9bb7d4")
    ax.bar(names, [a for _, _, a in by_queue] or [0], label="接通 answered", color="#2e6da4")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(engine: Engine, since: datetime, until: datetime, center: str, title: str,
          out_dir: Path) -> dict[str, Path]:
    """Write report.xlsx, report.html and calls-by-queue.png into out_dir."""
    from openpyxl import Workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = _rows(engine, since, until, center)
    by_queue = _by_queue(engine, since, until, center)
    period = f"{since:%Y-%m-%d %H:%M} — {until:%Y-%m-%d %H:%M} (UTC)"

    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append([title])
    ws.append([f"中心 {center}", period])
    ws.append(["指标", "数值", "分子", "分母", "目标"])
    for r in rows:
        ws.append([r.label, r.value, r.numerator, r.denominator, r.target])
    qs = wb.create_sheet("队列")
    qs.append(["队列", "排队", "接通"])
    for q in by_queue:
        qs.append(list(q))
    xlsx = out_dir / "report.xlsx"
    wb.save(xlsx)

    png = out_dir / "calls-by-queue.png"
    _chart(by_queue, png, "各队列来电 calls by queue")
    esc = html.escape
    body = "".join(f"<tr><td>{esc(r.label)}</td><td>{esc(r.value)}</td><td>{esc(r.numerator)}"
                   f"</td><td>{esc(r.denominator)}</td><td>{esc(r.target)}</td></tr>"
                   for r in rows)
    page = out_dir / "report.html"
    page.write_text(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(title)}</title><style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccd;padding:.3rem .6rem}}</style>
</head><body><h1>{esc(title)}</h1><p>中心 {esc(center)} · {esc(period)}</p>
<table><tr><th>指标</th><th>数值</th><th>分子</th><th>分母</th><th>目标</th></tr>{body}</table>
<p><img src="{png.name}" alt="各队列来电"></p></body></html>""", encoding="utf-8")
    return {"xlsx": xlsx, "html": page, "png": png}
