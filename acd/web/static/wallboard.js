// The wallboard (大屏, acd/web/pages.py): KPI tiles for the center and each queue, coloured
// against their targets; the nodes and their outages; alerts (banner, sound, a history) when an
// indicator crosses its threshold ([wallboard] of the center file); today's trend by quarter
// hour against the same weekday last week (ECharts); waiting callers; seats with their actions
// and the supervisor's listen/whisper/barge; the emergency broadcast.
// The DOM is built once per queue, seat and caller and then only its text and classes change,
// so keyboard focus and a half-chosen <select> survive every update. Text only (no innerHTML).
"use strict";
const CFG = (() => { try { return JSON.parse(meta("wallboard")); } catch (e) { return {alerts: {}}; } })();
const $ = (id) => document.getElementById(id);
const TZ = T.timezone || "Asia/Shanghai";
const int = (x) => (x == null ? "无数据" : String(Math.round(x)));
const secs = (x) => (x == null ? "无数据" : `${Math.round(x)} 秒`);
// key, title, format; the figures of a queue view or of the center (sums of the queues).
const INDICATORS = [
  ["manual_connection_rate", "人工接通率", pct],
  ["average_wait_s", "平均等待时长", secs],
  ["service_level", "10秒接通率", pct],
  ["waiting", "排队来电", int],
  ["longest_wait_s", "最长等待", secs],
];
const LABEL = Object.fromEntries(INDICATORS.map(([k, t]) => [k, t]));
const FORMAT = Object.fromEntries(INDICATORS.map(([k, , f]) => [k, f]));
const RATES = new Set(["manual_connection_rate", "service_level", "average_wait_s"]);
let state = {queues: {}, seats: {}, nodes: {}};

function setText(el, text) { text = text == null ? "" : String(text); if (el.textContent !== text) el.textContent = text; }
function setClass(el, base, level) { const c = `${base} ${level}`.trim(); if (el.className !== c) el.className = c; }
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function now() { return Date.now() / 1000; }

// --- figures -----------------------------------------------------------------------------------
function queueFigures(q) {
  const w = q.waiting || [];
  return {manual_connection_rate: q.manual_connection_rate_today,
          average_wait_s: q.average_arrival_wait_today_s,
          service_level: q.service_level_today, waiting: q.waiting_count || 0,
          longest_wait_s: w.length ? now() - w[0].since : 0, calls: q.offered_today || 0};
}
function centerFigures() {
  let offered = 0, answered = 0, within = 0, waitSum = 0, waiting = 0, longest = 0;
  for (const q of Object.values(state.queues)) {
    offered += q.offered_today || 0; answered += q.answered_today || 0;
    within += q.answered_within_sl_today || 0; waitSum += q.arrival_wait_sum_today_s || 0;
    waiting += q.waiting_count || 0;
    for (const w of q.waiting || []) longest = Math.max(longest, now() - w.since);
  }
  return {manual_connection_rate: offered ? answered / offered : null,
          average_wait_s: answered ? waitSum / answered : null,
          service_level: answered ? within / answered : null,
          waiting, longest_wait_s: longest, calls: offered};
}
// "bad" past the threshold, "warn" close to it, "ok", or "none" (no data / too few calls).
function level(key, value, calls) {
  const a = (CFG.alerts || {})[key];
  if (value == null || !a) return "none";
  if (RATES.has(key) && calls < (CFG.min_calls || 0)) return "none";
  const bad = a.when === "below" ? value < a.threshold : value > a.threshold;
  if (bad) return "bad";
  const near = a.when === "below" ? value < a.threshold + (1 - a.threshold) * 0.3
                                  : value > a.threshold * 0.8;
  return near ? "warn" : "ok";
}
function target(key) {
  const a = (CFG.alerts || {})[key]; if (!a) return "";
  const t = RATES.has(key) && key !== "average_wait_s" ? pct(a.threshold) : FORMAT[key](a.threshold);
  return a.when === "below" ? `目标 ≥ ${t}` : `目标 ≤ ${t}`;
}
const LEVEL_TEXT = {bad: "（超标）", warn: "（接近阈值）", ok: "", none: ""};

// --- the center's tiles and the nodes ------------------------------------------------------------
const centerTiles = {};
function buildCenterTiles() {
  for (const [key, label] of INDICATORS) {
    const tile = el("div", "tile"); tile.dataset.indicator = key;
    const l = el("div", "label", label), v = el("div", "value", "—"), t = el("div", "target", target(key));
    const s = el("span", "visually-hidden");
    tile.append(l, v, t, s); $("center-tiles").appendChild(tile);
    centerTiles[key] = {tile, v, s};
  }
}
function drawCenter() {
  const f = centerFigures();
  for (const [key] of INDICATORS) {
    const t = centerTiles[key], lv = level(key, f[key], f.calls);
    setText(t.v, FORMAT[key](f[key])); setText(t.s, LEVEL_TEXT[lv]); setClass(t.tile, "tile", lv);
  }
  return f;
}
const nodeEls = {};
function drawNodes() {
  for (const [name, n] of Object.entries(state.nodes)) {
    let e = nodeEls[name];
    if (!e) {
      const box = el("div", "node"); box.dataset.node = name;
      const label = el("span", "name", `节点 ${name}`), st = el("span", "state"), since = el("span", "since");
      box.append(label, st, since); $("nodes").appendChild(box);
      e = nodeEls[name] = {box, st, since};
    }
    const up = n.ami === "up";
    setText(e.st, up ? "已连接" : "已断开（断网）");
    setText(e.since, n.since ? `自 ${clock(n.since)}` : "");
    setClass(e.box, "node", up ? "ok" : "bad");
  }
}
function clock(epoch) {
  return new Date(epoch * 1000).toLocaleTimeString("zh-CN", {timeZone: TZ, hour12: false});
}

// --- queue cards ------------------------------------------------------------------------------------
const queueEls = {};
function queueCard(name) {
  let e = queueEls[name];
  if (e) return e;
  const card = el("article", "queue-card"); card.dataset.queue = name;
  const h = el("h3", "", title("queues", name));
  const dl = el("dl", "kpis"); const kpi = {};
  for (const [key, label] of INDICATORS) {
    const box = el("div", "kpi"); box.dataset.indicator = key;
    const dt = el("dt", "", label), dd = el("dd", "", "—");
    box.append(dt, dd); dl.appendChild(box); kpi[key] = {box, dd};
  }
  const seats = el("p", "seats"), staffing = el("p", "staffing"), counts = el("p", "counts");
  const planned = el("p", "plan");
  card.append(h, dl, counts, seats, staffing, planned);
  $("queues").appendChild(card);
  const o = document.createElement("option"); o.value = name; o.textContent = title("queues", name);
  $("trend-queue").appendChild(o);
  return (queueEls[name] = {card, kpi, seats, staffing, counts, planned});
}
function drawQueues() {
  const out = {};
  for (const q of Object.values(state.queues)) {
    const e = queueCard(q.queue), f = queueFigures(q);
    for (const [key] of INDICATORS) {
      const lv = level(key, f[key], f.calls);
      setText(e.kpi[key].dd, FORMAT[key](f[key]) + LEVEL_TEXT[lv]); setClass(e.kpi[key].box, "kpi", lv);
    }
    const s = q.seats || {};
    const signedIn = Object.entries(s).filter(([k]) => k !== "signed_out").reduce((a, [, v]) => a + v, 0);
    setText(e.counts, `今日排队 ${q.offered_today || 0} · 接通 ${q.answered_today || 0} · 放弃 ${q.abandoned_today || 0}`);
    setText(e.seats, `座席 在线 ${signedIn} · 就绪 ${s.ready || 0} · 通话 ${s.on_call || 0} · 整理 ${s.wrapup || 0} · 示忙 ${s.busy || 0}`);
    const st = q.staffing || {};
    setText(e.staffing, st.seats_needed == null ? "本小时建议座席：无数据"
      : `需 ${st.seats_needed} 在线 ${st.signed_in}（近1小时 ${st.calls_last_hour} 通）`);
    setClass(e.staffing, "staffing", st.seats_needed > st.signed_in ? "bad" : "");
    const p = plan && plan.queues[q.queue] ? plan.queues[q.queue][centerHour()] : null;
    setText(e.planned, p == null || p.seats == null ? "本小时计划座席：无数据"
      : `本小时计划座席 ${p.seats}（去年同期 ${p.calls} 通）`);
    setClass(e.planned, "plan", p && p.seats > signedIn ? "bad" : "");
    out[q.queue] = f;
  }
  return out;
}

// --- alerts: banner, sound, history ---------------------------------------------------------------
const HISTORY_KEY = `hotline-alerts-${meta("center")}`;
const active = new Map();   // id -> {text}
let history = [];
let acked = false, audio = null;
function today() { return new Date().toLocaleDateString("sv-SE", {timeZone: TZ}); }
function loadHistory() {
  try {
    const kept = JSON.parse(localStorage.getItem(HISTORY_KEY) || "{}");
    history = kept.day === today() ? kept.items || [] : [];
  } catch (e) { history = []; }
  drawHistory();
}
function saveHistory() { localStorage.setItem(HISTORY_KEY, JSON.stringify({day: today(), items: history.slice(0, 200)})); }
function drawHistory() {
  const ol = $("alert-history"); ol.replaceChildren();
  for (const h of history) {
    const li = el("li", h.cleared ? "cleared" : "raised", `${clock(h.at)} ${h.text}`);
    ol.appendChild(li);
  }
  $("history-none").hidden = history.length > 0;
}
function beep() {
  if (!audio) return;
  const t0 = audio.currentTime;
  for (let i = 0; i < 3; i++) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880; o.connect(g); g.connect(audio.destination);
    g.gain.setValueAtTime(0.25, t0 + i * 0.35); g.gain.setValueAtTime(0, t0 + i * 0.35 + 0.2);
    o.start(t0 + i * 0.35); o.stop(t0 + i * 0.35 + 0.22);
  }
  document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
}
function check(id, raised, text, sound) {
  if (raised && !active.has(id)) {
    active.set(id, {text});
    history.unshift({at: now(), text: `告警：${text}`}); saveHistory(); drawHistory();
    acked = false;
    if (sound) beep();
  } else if (!raised && active.has(id)) {
    const was = active.get(id); active.delete(id);
    history.unshift({at: now(), text: `恢复：${was.text}`, cleared: true}); saveHistory(); drawHistory();
  } else if (raised) {
    active.get(id).text = text;
  }
}
function checkAll(center, queues) {
  for (const [scope, name, f] of [["center", T.center || "全中心", center],
    ...Object.entries(queues).map(([q, f]) => [`queue:${q}`, title("queues", q), f])]) {
    for (const [key] of INDICATORS) {
      const a = (CFG.alerts || {})[key];
      if (!a || !a.enabled) continue;
      const raised = level(key, f[key], f.calls) === "bad";
      const t = RATES.has(key) && key !== "average_wait_s" ? pct(a.threshold) : FORMAT[key](a.threshold);
      check(`${scope}:${key}`, raised, `${name} ${LABEL[key]} ${FORMAT[key](f[key])}（${a.when === "below" ? "低于" : "高于"} ${t}）`, a.sound);
    }
  }
  for (const [name, n] of Object.entries(state.nodes))
    check(`node:${name}`, n.ami !== "up", `节点 ${name} 与电话系统断开（断网）`, CFG.node_down_sound);
  const ul = $("alerts-now"); ul.replaceChildren();
  for (const [id, a] of active) { const li = el("li", "", a.text); li.dataset.alert = id; ul.appendChild(li); }
  $("alert-banner").hidden = active.size === 0;
  $("ack").hidden = acked;
}
function drawThresholds() {
  const tb = $("thresholds").tBodies[0];
  for (const [key, label] of INDICATORS) {
    const a = (CFG.alerts || {})[key]; if (!a) continue;
    const tr = document.createElement("tr"); cell(tr, label);
    cell(tr, a.enabled ? `${a.when === "below" ? "低于" : "高于"} ${RATES.has(key) && key !== "average_wait_s" ? pct(a.threshold) : FORMAT[key](a.threshold)}`
      + (RATES.has(key) ? `（今日排队满 ${CFG.min_calls} 通后）` : "") : "不告警");
    cell(tr, a.sound ? "有" : "无"); tb.appendChild(tr);
  }
}

// --- waiting callers ------------------------------------------------------------------------------
const waitingEls = new Map();
function drawWaiting() {
  const tb = $("waiting").tBodies[0], seen = new Set();
  const all = [];
  for (const q of Object.values(state.queues)) for (const w of q.waiting || []) all.push([q.queue, w]);
  all.sort((a, b) => a[1].since - b[1].since);
  for (const [queue, w] of all) {
    seen.add(w.uniqueid);
    let e = waitingEls.get(w.uniqueid);
    if (!e) {
      const tr = el("tr", "waiting-call"); tr.dataset.uniqueid = w.uniqueid;
      e = {tr, q: cell(tr, ""), c: cell(tr, w.caller), t: cell(tr, "")};
      waitingEls.set(w.uniqueid, e);
    }
    setText(e.q, title("queues", queue)); setText(e.t, seconds(now() - w.since));
    setClass(e.t, "", now() - w.since > ((CFG.alerts || {}).longest_wait_s || {}).threshold ? "long" : "");
    if (e.tr.parentNode !== tb || tb.lastElementChild !== e.tr) tb.appendChild(e.tr);
  }
  for (const [uid, e] of waitingEls) if (!seen.has(uid)) { e.tr.remove(); waitingEls.delete(uid); }
  $("waiting-none").hidden = all.length > 0;
}

// --- seats ------------------------------------------------------------------------------------------
const SPY_MODES = [["监听", "listen"], ["密语", "whisper"], ["强插", "barge"]];
const seatEls = {};
function seatRow(s) {
  let e = seatEls[s.seat];
  if (e) return e;
  const tr = document.createElement("tr"); tr.dataset.seat = s.seat;
  const name = title("seats", s.seat);
  e = {tr, id: cell(tr, s.seat), state: cell(tr, "", "state"), dur: cell(tr, "", "dur"),
       reason: cell(tr, "", "reason"), calls: cell(tr, "", "calls")};
  const td = cell(tr, "", "actions");
  const pick = document.createElement("select"); pick.className = "reason-pick";
  pick.setAttribute("aria-label", `座席 ${s.seat} 的示忙原因`);
  for (const [code, t] of Object.entries(T.busy || {})) {
    const o = document.createElement("option"); o.value = code; o.textContent = t; pick.appendChild(o);
  }
  const busy = el("button", "busy", "示忙"), ready = el("button", "ready", "就绪"), out = el("button", "signout", "签出");
  for (const b of [busy, ready, out]) { b.type = "button"; b.setAttribute("aria-label", `${b.textContent}：座席 ${s.seat}`); }
  busy.addEventListener("click", () => seatAct(s.seat, "busy", {reason: pick.value}, busy));
  ready.addEventListener("click", () => seatAct(s.seat, "ready", {}, ready));
  out.addEventListener("click", async () => {
    const st = (state.seats[s.seat] || {}).state;
    const onCall = st === "on_call" || st === "ringing";
    if (await confirmDialog(`确定将座席 ${s.seat}${name && name !== s.seat ? "（" + name + "）" : ""} 签出吗？` +
      (onCall ? "该座席正在通话，签出后将不再接到新来电。" : "签出后该座席不再接到来电。"), "签出"))
      seatAct(s.seat, "signout", {}, out);
    else out.focus();
  });
  const spies = el("span", "spies");
  td.append(pick, busy, ready, out, spies);
  e.spies = spies; e.onCall = false;
  return (seatEls[s.seat] = e);
}
async function seatAct(seat, action, body, button) {
  setText($("seat-msg"), "");
  try { await post(`/web/seats/${encodeURIComponent(seat)}/${action}`, body); }
  catch (err) { setText($("seat-msg"), `座席 ${seat}：${err.message}`); }
  if (button && document.activeElement === document.body) button.focus();
}
function drawSeats() {
  const tb = $("seats").tBodies[0];
  const seats = Object.values(state.seats).sort((a, b) => a.seat.localeCompare(b.seat));
  for (const s of seats) {
    const e = seatRow(s);
    if (e.tr.parentNode !== tb) tb.appendChild(e.tr);
    const dur = s.since ? now() - s.since : null;
    setText(e.state, title("states", s.state));
    setText(e.dur, dur == null ? "" : seconds(dur));
    setClass(e.dur, "dur", (s.state === "busy" && dur > 900) || (s.state === "wrapup" && dur > 120) ? "long" : "");
    setText(e.reason, s.reason ? title("busy", s.reason) : "");
    setText(e.calls, s.calls_today);
    // On a call: the supervisor's own phone rings and, answered, listens in (监听), whispers
    // to the seat only (密语) or talks to both sides (强插). Made only when the call starts.
    const onCall = s.state === "on_call";
    if (onCall !== e.onCall) {
      e.onCall = onCall; e.spies.replaceChildren();
      if (onCall) for (const [label, mode] of SPY_MODES) {
        const b = el("button", "spy", label); b.type = "button"; b.dataset.mode = mode;
        b.setAttribute("aria-label", `${label}：座席 ${s.seat}`);
        b.addEventListener("click", () => spy(s.seat, mode)); e.spies.appendChild(b);
      }
    }
  }
}
const spyPhone = $("spyphone"), spyMsg = $("spymsg");
function spy(seat, mode) {
  spyMsg.textContent = "";
  post(`/web/spy/${encodeURIComponent(seat)}`, {mode, phone: spyPhone.value})
    .then(() => { spyMsg.textContent = `话机 ${spyPhone.value} 振铃中：接听后${SPY_MODES.find(m => m[1] === mode)[0]}座席 ${seat}`; },
          e => { spyMsg.textContent = e.message; });
}

// --- the trend chart (ECharts, installed from npm into /static/vendor) ------------------------------
let chart = null;
async function drawTrend() {
  if (typeof echarts === "undefined") { setText($("trend-msg"), "图表库未安装（./run 安装 ECharts）"); return; }
  try {
    const t = await getJSON("/web/wallboard/trend?" + new URLSearchParams({queue: $("trend-queue").value}));
    if (!chart) chart = echarts.init($("trend"), null, {renderer: "canvas"});
    const rate = (xs) => xs.map(x => (x == null ? null : Math.round(1000 * x) / 10));
    chart.setOption({
      animation: false, textStyle: {fontFamily: "Noto Sans CJK SC, sans-serif"},
      tooltip: {trigger: "axis", renderMode: "richText"},
      legend: {top: 0},
      grid: {left: 50, right: 50, top: 36, bottom: 30},
      xAxis: {type: "category", data: t.labels, axisLabel: {interval: 7}},
      yAxis: [{type: "value", name: "来电", minInterval: 1}, {type: "value", name: "接通率 %", min: 0, max: 100}],
      series: [
        {name: `今日排队 ${t.today.date}`, type: "bar", data: t.today.queued, itemStyle: {color: "#2e6da4"}},
        {name: `上周同日排队 ${t.last_week.date}`, type: "bar", data: t.last_week.queued, itemStyle: {color: "#9bb7d4"}},
        {name: "今日接通率", type: "line", yAxisIndex: 1, data: rate(t.today.rate), connectNulls: false, itemStyle: {color: "#1e7b34"}},
        {name: "上周同日接通率", type: "line", yAxisIndex: 1, data: rate(t.last_week.rate), lineStyle: {type: "dashed"}, itemStyle: {color: "#8a6d00"}},
      ]}, true);
    const done = t.today.queued.filter(x => x != null).reduce((a, b) => a + b, 0);
    setText($("trend-msg"), `今日已排队 ${done} 通；上周同日全天 ${t.last_week.queued.reduce((a, b) => a + (b || 0), 0)} 通`);
    document.body.dataset.trend = "1";
  } catch (e) { setText($("trend-msg"), e.message); }
}

// --- seats lent between centers (座席借调; GET/POST /web/loans, acd/web/loans.py) ---------------------
let loanCenters = [];
function loanQueues() {
  const sel = $("loan-queues"), c = loanCenters.find(x => x.code === $("loan-to").value);
  sel.replaceChildren();
  for (const q of (c ? c.queues : [])) {
    const o = document.createElement("option"); o.value = q.name; o.textContent = q.title; sel.appendChild(o);
  }
}
async function loadLoans() {
  let out;
  try { out = await getJSON("/web/loans"); } catch (e) { setText($("loan-msg"), e.message); return; }
  loanCenters = out.centers || [];
  $("loans-panel").hidden = loanCenters.length < 2;
  const to = $("loan-to");
  if (!to.options.length) {
    for (const c of loanCenters) {
      const o = document.createElement("option"); o.value = c.code; o.textContent = c.name; to.appendChild(o);
    }
    loanQueues();
  }
  const tb = $("loans").tBodies[0];
  tb.replaceChildren();
  for (const l of out.loans || []) {
    const tr = el("tr"); tr.dataset.loan = l.id; tr.dataset.seat = l.seat;
    for (const text of [l.seat, l.from_name, l.to_name, l.queue_titles.join("、"), l.until, l.lent_by,
                        l.applied ? "借调中" : "等待生效"]) tr.appendChild(el("td", "", text));
    const td = el("td"), back = el("button", "return", "归还"); back.type = "button";
    back.setAttribute("aria-label", `归还：座席 ${l.seat}`);
    back.addEventListener("click", () => post("/web/loans/return", {seats: [l.seat]})
      .then(() => { setText($("loan-msg"), `座席 ${l.seat} 已归还`); loadLoans(); }, e => setText($("loan-msg"), e.message)));
    td.appendChild(back); tr.appendChild(td); tb.appendChild(tr);
  }
  $("loans-none").hidden = (out.loans || []).length > 0;
}
function lendSeats(e) {
  e.preventDefault();
  const seats = $("loan-seats").value.split(/[\s,，、]+/).filter(Boolean);
  const queues = [...$("loan-queues").selectedOptions].map(o => o.value);
  const hours = Number($("loan-hours").value);
  post("/web/loans", {seats, to: $("loan-to").value, queues, hours})
    .then(() => { setText($("loan-msg"), `已借出座席 ${seats.join("、")}`); loadLoans(); setTimeout(loadLoans, 3000); },
          err => setText($("loan-msg"), err.message));
}

// --- putting it together -------------------------------------------------------------------------
// The day's staffing plan from last year's counterpart (GET /web/staffing-plan: Erlang C per
// hour from the ledger; the calendar's choice of day named), read again every ten minutes.
let plan = null;
function loadPlan() {
  fetch("/web/staffing-plan").then(r => r.json()).then(out => {
    plan = out.queues ? out : null;
    setText($("plan-label"), plan ? `计划座席：${plan.label}` : `计划座席：${out.message || out.error || "无数据"}`);
    soon();
  }).catch(() => {});
}
function centerHour() {  // the hour of the center's day, whatever the browser's zone
  return Number(new Intl.DateTimeFormat("en-GB", {timeZone: plan.timezone, hour: "2-digit",
                                                  hourCycle: "h23"}).format(new Date()));
}

function render() {
  const center = drawCenter(), queues = drawQueues();
  drawNodes(); drawWaiting(); drawSeats(); checkAll(center, queues);
  setText($("clock"), new Date().toLocaleTimeString("zh-CN", {timeZone: TZ, hour12: false}));
}
let pending = false;
function soon() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } }

document.addEventListener("DOMContentLoaded", () => {
  setText($("center"), T.center || meta("center"));
  buildCenterTiles(); drawThresholds(); loadHistory(); loadPlan(); setInterval(loadPlan, 600000);
  loadLoans(); setInterval(loadLoans, 15000);
  $("loan-to").addEventListener("change", loanQueues);
  $("loan-form").addEventListener("submit", lendSeats);
  fetch("/web/spy/phones").then(r => r.json()).then(out => {
    for (const p of out.phones || []) {
      const o = document.createElement("option"); o.value = p.id; o.textContent = `${p.id} ${p.name}`;
      spyPhone.appendChild(o);
    }
    if (!spyPhone.options.length) spyMsg.textContent = "中心文件未配置班长话机 ([[supervisors]])";
    const kept = localStorage.getItem("hotline-spy-phone");
    if (kept && [...spyPhone.options].some(o => o.value === kept)) spyPhone.value = kept;
  });
  spyPhone.addEventListener("change", () => localStorage.setItem("hotline-spy-phone", spyPhone.value));
  connectLive((snap) => { state = snap; soon(); drawTrend(); }, (c) => {
    if (c.kind === "queue") state.queues[c.name] = c.data;
    else if (c.kind === "seat") state.seats[c.name] = c.data;
    else if (c.kind === "node") state.nodes[c.name] = c.data;
    soon();
  });
  setInterval(soon, 1000);          // the clocks and durations; the DOM stays as it is
  setInterval(drawTrend, 60000);
  $("trend-queue").addEventListener("change", drawTrend);
  $("trend-form").addEventListener("submit", (e) => { e.preventDefault(); drawTrend(); });
  window.addEventListener("resize", () => chart && chart.resize());
  $("sound").addEventListener("click", () => {
    if (!audio) { audio = new (window.AudioContext || window.webkitAudioContext)(); }
    const on = $("sound").getAttribute("aria-pressed") !== "true";
    if (on) audio.resume(); else audio.suspend();
    if (on && active.size && !acked) beep();  // alerts already up when the sound comes on
    $("sound").setAttribute("aria-pressed", String(on)); setText($("sound"), on ? "关闭声音" : "开启声音");
  });
  $("ack").addEventListener("click", () => { acked = true; $("ack").hidden = true; });
  $("fullscreen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", () => {
    const fs = !!document.fullscreenElement;
    document.body.classList.toggle("fs", fs); setText($("fullscreen"), fs ? "退出全屏" : "全屏");
    if (chart) setTimeout(() => chart.resize(), 100);
  });
  const say = (t) => setText($("bmsg"), t);
  $("bset").addEventListener("click", () => post("/web/broadcast", {text: $("btext").value}).then(() => say("已发布"), e => say(e.message)));
  $("bclear").addEventListener("click", () => post("/web/broadcast", {text: ""}).then(() => say("已清除"), e => say(e.message)));
});
