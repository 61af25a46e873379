// The inspector's page: recordings with playback, the day's sample, a seat's timeline.
// Data goes into the DOM as text and properties only (never innerHTML). Times come from the
// server already in the center's time zone and are shown as they are, whatever the browser's.
"use strict";
const STATES = T.states || {}, OUTCOMES = T.outcomes || {};
let page = 1, pages = 1, sheet = null, scoring = null;
const $ = (id) => document.getElementById(id);

function say(text) { $("msg").textContent = text || ""; }

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return q.toString();
}

function option(select, value, text) {
  const o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o);
}

function clock(iso) { return iso ? iso.slice(11, 19) : ""; }  // "2026-11-23T18:57:10+08:00" -> 18:57:10

function duration(s) {
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}

function play(row, tr) {
  const player = $("player");
  document.querySelectorAll("tr.playing").forEach((x) => x.classList.remove("playing"));
  tr.classList.add("playing");
  player.dataset.uniqueid = row.uniqueid;
  player.src = row.audio;
  $("now-playing").textContent = `${clock(row.started)} ${row.seat} ${row.queue}`;
  player.play().catch((e) => say(`无法播放：${e.message}`));
}

function callRows(tbody, rows, withScore) {
  tbody.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.uniqueid = row.uniqueid;
    tr.dataset.seat = row.seat;
    cell(tr, clock(row.started)); cell(tr, row.caller); cell(tr, title("queues", row.queue)); cell(tr, row.seat);
    cell(tr, OUTCOMES[row.outcome] || row.outcome);
    cell(tr, row.wait_s == null ? "" : row.wait_s.toFixed(1));
    cell(tr, row.talk_s == null ? "" : row.talk_s.toFixed(1));
    cell(tr, row.survey_score == null ? "" : title("satisfaction", row.survey_score));
    const td = cell(tr, "");
    if (row.file) {
      const b = document.createElement("button"); b.type = "button"; b.className = "play";
      b.textContent = "播放"; b.setAttribute("aria-label", `播放：${clock(row.started)} 座席 ${row.seat} 的录音`);
      b.onclick = () => play(row, tr); td.appendChild(b);
    } else {
      td.textContent = "文件缺失";
    }
    if (withScore) {
      const q = cell(tr, "", "qa");
      if (row.qa) q.textContent = `${row.qa.total}/${row.qa.max_total}（${row.qa.passed ? "合格" : "不合格"}，${row.qa.by}）`;
      else if (row.seat && row.outcome !== "abandoned") {
        const b = document.createElement("button"); b.type = "button"; b.className = "score"; b.textContent = "评分";
        b.setAttribute("aria-label", `评分：${clock(row.started)} 座席 ${row.seat} 的录音`);
        b.onclick = () => openScore(row); q.appendChild(b);
      }
    }
    tbody.appendChild(tr);
  }
}

function filters() {
  return {since: $("date").value, until: $("until").value, seat: $("seat").value, queue: $("queue").value,
          caller: $("caller").value.trim(), order: $("order").value.trim(), page: String(page)};
}
async function loadRecordings() {
  say("");
  try {
    const out = await getJSON("/web/inspect/recordings?" + query(filters()));
    callRows(document.querySelector("#recordings tbody"), out.recordings, true);
    pages = out.pages;
    $("rec-count").textContent = `${out.since}${out.until !== out.since ? " 至 " + out.until : ""}：共 ${out.total} 条录音`;
    $("page-of").textContent = `第 ${out.page} / ${out.pages} 页`;
    $("prev").disabled = out.page <= 1; $("next").disabled = out.page >= out.pages;
    document.body.dataset.searches = String(Number(document.body.dataset.searches || 0) + 1);
  } catch (e) { say(e.message); }
}

// --- quality scoring against the center's sheet (acd/web/quality.py) ------------------------------
function openScore(row) {
  scoring = row;
  $("score-call").textContent = `${clock(row.started)} 座席 ${row.seat} 来电 ${row.caller}`;
  const tb = $("score-items").tBodies[0]; tb.replaceChildren();
  for (const item of sheet.items) {
    const tr = document.createElement("tr"); tr.dataset.item = item.code;
    const th = document.createElement("th"); th.scope = "row";
    th.textContent = item.title + (item.critical ? "（否决项）" : ""); tr.appendChild(th);
    cell(tr, item.max);
    const input = document.createElement("input"); input.type = "number"; input.min = "0"; input.max = String(item.max);
    input.value = String(item.max); input.className = "points"; input.dataset.item = item.code;
    input.setAttribute("aria-label", `${item.title} 得分（0 至 ${item.max}）`);
    input.addEventListener("input", total);
    cell(tr, "").appendChild(input); tb.appendChild(tr);
  }
  $("score-comment").value = ""; total();
  $("score-section").hidden = false; $("score-section").scrollIntoView();
  tb.querySelector("input").focus();
}
function total() {
  let t = 0; for (const i of document.querySelectorAll("#score-items input.points")) t += Number(i.value) || 0;
  $("score-total").textContent = String(t);
}
async function submitScore(ev) {
  ev.preventDefault();
  if (!scoring) return;
  const scores = {};
  for (const i of document.querySelectorAll("#score-items input.points")) scores[i.dataset.item] = i.value === "" ? null : Number(i.value);
  try {
    const out = await post("/web/quality/scores", {uniqueid: scoring.uniqueid, scores, comment: $("score-comment").value});
    say(""); $("score-section").hidden = true; scoring = null;
    $("msg").textContent = `已评分：${out.total}/${out.max_total}，${out.passed ? "合格" : "不合格"}`; $("msg").className = "ok";
    await Promise.all([loadRecordings(), loadQuality()]);
  } catch (e) { say(e.message); $("msg").className = "bad"; }
}
async function loadQuality() {
  try {
    const out = await getJSON("/web/quality/report?" + query({since: $("q-since").value, until: $("q-until").value}));
    const tb = document.querySelector("#quality tbody"); tb.replaceChildren();
    for (const q of out.seats) {
      const tr = document.createElement("tr"); tr.dataset.seat = q.seat;
      cell(tr, q.seat); cell(tr, q.scored); cell(tr, q.average_percent == null ? "无数据" : `${q.average_percent} %`);
      cell(tr, q.passed); cell(tr, pct(q.pass_rate)); tb.appendChild(tr);
    }
  } catch (e) { say(e.message); }
}

async function loadSample() {
  say("");
  try {
    const out = await getJSON("/web/inspect/sample?" + query({date: $("date").value, n: $("n").value}));
    callRows(document.querySelector("#sample tbody"), out.sample, false);
    $("sample-count").textContent = `${out.date}：抽取 ${out.sample.length} 条（已接通且有录音）`;
  } catch (e) { say(e.message); }
}

function drawTimeline(t) {
  const track = document.querySelector("#timeline .track"), ticks = document.querySelector("#timeline .ticks");
  track.replaceChildren(); ticks.replaceChildren();
  // Zoom to when the seat was active (a whole day would make a call a hairline): the tick
  // step is the smallest that labels the span in at most a dozen ticks.
  let lo = 0, hi = t.day_s, step = 3600;
  if (t.segments.length) {
    const first = Math.min(...t.segments.map((s) => s.from_s)), last = Math.max(...t.segments.map((s) => s.to_s));
    step = [60, 300, 900, 1800, 3600, 7200].find((x) => (last - first) / x <= 12) || 7200;
    lo = Math.floor(first / step) * step;
    hi = Math.min(t.day_s, Math.max(lo + step, Math.ceil(last / step) * step));
  }
  const pct = (x) => `${(100 * (x - lo) / (hi - lo)).toFixed(4)}%`;
  for (const s of t.segments) {
    const d = document.createElement("div");
    d.className = `seg state-${s.state}`;
    d.dataset.state = s.state;
    d.style.left = pct(s.from_s);
    d.style.width = `${(100 * (s.to_s - s.from_s) / (hi - lo)).toFixed(4)}%`;
    d.title = `${STATES[s.state] || s.state}${s.reason ? "（" + title("busy", s.reason) + "）" : ""} ` +
      `${clock(s.start)}–${clock(s.end)} ${duration(s.to_s - s.from_s)}`;
    track.appendChild(d);
  }
  for (let x = lo; x <= hi; x += step) {
    const k = document.createElement("div"); k.className = "tick"; k.style.left = pct(x);
    const h = Math.floor(x / 3600), m = Math.floor((x % 3600) / 60);
    k.textContent = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
    ticks.appendChild(k);
  }
  $("tl-range").textContent = `${t.seat} · ${t.date} · ${t.timezone}`;
}

function drawTotals(t) {
  const totals = document.querySelector("#totals tbody"); totals.replaceChildren();
  for (const [state, secs] of Object.entries(t.totals)) {
    const tr = document.createElement("tr"); tr.dataset.state = state;
    cell(tr, STATES[state] || state); cell(tr, duration(secs)); totals.appendChild(tr);
  }
  const busy = document.querySelector("#busy-reasons tbody"); busy.replaceChildren();
  for (const [reason, secs] of Object.entries(t.busy_by_reason)) {
    const tr = document.createElement("tr"); tr.dataset.reason = reason;
    cell(tr, title("busy", reason)); cell(tr, duration(secs)); busy.appendChild(tr);
  }
  const segs = document.querySelector("#segments tbody"); segs.replaceChildren();
  for (const s of t.segments) {
    const tr = document.createElement("tr"); tr.dataset.state = s.state;
    cell(tr, clock(s.start)); cell(tr, s.open ? `${clock(s.end)}（进行中）` : clock(s.end));
    cell(tr, STATES[s.state] || s.state); cell(tr, s.reason ? title("busy", s.reason) : ""); cell(tr, s.queue ? title("queues", s.queue) : "");
    cell(tr, duration(s.to_s - s.from_s)); segs.appendChild(tr);
  }
}

async function loadTimeline() {
  say("");
  try {
    const t = await getJSON("/web/inspect/timeline?" + query({date: $("date").value, seat: $("tl-seat").value}));
    drawTimeline(t); drawTotals(t);
  } catch (e) { say(e.message); }
}

async function start() {
  const [info, sh] = await Promise.all([getJSON("/web/inspect/center"), getJSON("/web/quality/sheet")]);
  sheet = sh;
  $("sheet-name").textContent = `${sheet.name}：满分 ${sheet.max_total}，得分率 ${sheet.pass_percent}% 及以上且否决项不为 0 为合格`;
  $("score-max").textContent = String(sheet.max_total);
  $("center").textContent = T.center || info.center;
  $("tz").textContent = info.timezone;
  for (const id of ["date", "until", "q-until"]) { $(id).value = info.today; $(id).max = info.today; }
  $("q-since").value = info.today.slice(0, 8) + "01"; $("q-since").max = info.today;
  $("n").value = info.sample_default; $("n").max = info.sample_max;
  for (const s of info.seats) { option($("seat"), s, s); option($("tl-seat"), s, s); }
  for (const q of info.queues) option($("queue"), q, title("queues", q));
  const legend = $("legend");
  for (const [k, v] of Object.entries(STATES)) {
    const sp = document.createElement("span"); sp.className = `state-${k}`; sp.textContent = v; legend.appendChild(sp);
  }
  $("filters").onsubmit = (e) => { e.preventDefault(); page = 1; loadRecordings(); loadSample(); loadTimeline(); };
  $("prev").onclick = () => { if (page > 1) { page -= 1; loadRecordings(); } };
  $("next").onclick = () => { if (page < pages) { page += 1; loadRecordings(); } };
  $("sample-form").onsubmit = (e) => { e.preventDefault(); loadSample(); };
  $("timeline-form").onsubmit = (e) => { e.preventDefault(); loadTimeline(); };
  $("score-form").addEventListener("submit", submitScore);
  $("score-cancel").onclick = () => { $("score-section").hidden = true; scoring = null; };
  $("quality-form").onsubmit = (e) => { e.preventDefault(); loadQuality(); };
  $("player").addEventListener("error", () => say("录音无法播放"));
  await Promise.all([loadRecordings(), loadSample(), loadTimeline(), loadQuality()]);
  document.body.dataset.ready = "1";
}

start().catch((e) => say(e.message));
