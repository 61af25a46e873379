// The inspector's page: recordings with playback, the day's sample, a seat's timeline.
// Data goes into the DOM as text and properties only (never innerHTML). Times come from the
// server already in the center's time zone and are shown as they are, whatever the browser's.
"use strict";
const STATES = {signed_out: "签出", ready: "就绪", ringing: "振铃", on_call: "通话", wrapup: "整理", busy: "示忙"};
const OUTCOMES = {answered: "接通", abandoned: "放弃", timeout: "超时", exit_empty: "无座席",
  exit_key: "按键离开", overflowed: "溢出", transferred: "转接", waiting: "等待中", ivr: "语音导航"};
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

function callRows(tbody, rows) {
  tbody.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.uniqueid = row.uniqueid;
    tr.dataset.seat = row.seat;
    cell(tr, clock(row.started)); cell(tr, row.caller); cell(tr, row.queue); cell(tr, row.seat);
    cell(tr, OUTCOMES[row.outcome] || row.outcome);
    cell(tr, row.wait_s == null ? "" : row.wait_s.toFixed(1));
    cell(tr, row.talk_s == null ? "" : row.talk_s.toFixed(1));
    cell(tr, row.survey_score == null ? "" : row.survey_score);
    const td = cell(tr, "");
    if (row.file) {
      const b = document.createElement("button"); b.type = "button"; b.className = "play";
      b.textContent = "播放"; b.onclick = () => play(row, tr); td.appendChild(b);
    } else {
      td.textContent = "文件缺失";
    }
    tbody.appendChild(tr);
  }
}

async function loadRecordings() {
  say("");
  try {
    const out = await getJSON("/web/inspect/recordings?" + query({
      date: $("date").value, seat: $("seat").value, queue: $("queue").value}));
    callRows(document.querySelector("#recordings tbody"), out.recordings);
    $("rec-count").textContent = `${out.date}：${out.recordings.length} 条录音`;
  } catch (e) { say(e.message); }
}

async function loadSample() {
  say("");
  try {
    const out = await getJSON("/web/inspect/sample?" + query({date: $("date").value, n: $("n").value}));
    callRows(document.querySelector("#sample tbody"), out.sample);
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
    d.title = `${STATES[s.state] || s.state}${s.reason ? "（" + s.reason + "）" : ""} ` +
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
    cell(tr, reason); cell(tr, duration(secs)); busy.appendChild(tr);
  }
  const segs = document.querySelector("#segments tbody"); segs.replaceChildren();
  for (const s of t.segments) {
    const tr = document.createElement("tr"); tr.dataset.state = s.state;
    cell(tr, clock(s.start)); cell(tr, s.open ? `${clock(s.end)}（进行中）` : clock(s.end));
    cell(tr, STATES[s.state] || s.state); cell(tr, s.reason); cell(tr, s.queue);
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
  const info = await getJSON("/web/inspect/center");
  $("center").textContent = info.center;
  $("tz").textContent = info.timezone;
  $("date").value = info.today; $("date").max = info.today;
  $("n").value = info.sample_default; $("n").max = info.sample_max;
  for (const s of info.seats) { option($("seat"), s, s); option($("tl-seat"), s, s); }
  for (const q of info.queues) option($("queue"), q, q);
  const legend = $("legend");
  for (const [k, v] of Object.entries(STATES)) {
    const sp = document.createElement("span"); sp.className = `state-${k}`; sp.textContent = v; legend.appendChild(sp);
  }
  $("filters").onsubmit = (e) => { e.preventDefault(); loadRecordings(); loadSample(); loadTimeline(); };
  $("sample-form").onsubmit = (e) => { e.preventDefault(); loadSample(); };
  $("timeline-form").onsubmit = (e) => { e.preventDefault(); loadTimeline(); };
  $("player").addEventListener("error", () => say("录音无法播放"));
  await Promise.all([loadRecordings(), loadSample(), loadTimeline()]);
  document.body.dataset.ready = "1";
}

start().catch((e) => say(e.message));
