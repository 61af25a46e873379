// The wallboard (acd/web/pages.py): queues, waiting callers, seats with their actions and the
// supervisor's listen/whisper/barge buttons, the emergency broadcast. Text only into the DOM.
"use strict";
const CENTER = meta("center"); document.getElementById("center").textContent = CENTER;
const NAMES = {signed_out: "签出", ready: "就绪", ringing: "振铃", on_call: "通话", wrapup: "整理", busy: "示忙"};
let state = {queues: {}, seats: {}, nodes: {}};
function render() {
  const now = Date.now() / 1000;
  const qb = document.querySelector("#queues tbody"); qb.replaceChildren();
  const wb = document.querySelector("#waiting tbody"); wb.replaceChildren();
  for (const q of Object.values(state.queues)) {
    const tr = document.createElement("tr"); tr.dataset.queue = q.queue;
    const s = q.seats || {};
    const signedIn = Object.entries(s).filter(([k]) => k !== "signed_out").reduce((a, [, v]) => a + v, 0);
    cell(tr, q.queue); cell(tr, q.waiting_count, "waiting-count");
    cell(tr, q.waiting && q.waiting.length ? Math.round(now - q.waiting[0].since) : 0);
    cell(tr, q.answered_today); cell(tr, q.abandoned_today); cell(tr, pct(q.manual_connection_rate_today));
    cell(tr, q.average_wait_today_s == null ? "无数据" : q.average_wait_today_s);
    cell(tr, pct(q.service_level_today));
    cell(tr, [signedIn, s.ready || 0, s.on_call || 0, s.wrapup || 0, s.busy || 0].join("/"));
    const st = q.staffing || {};
    cell(tr, st.seats_needed == null ? "无数据" : `需 ${st.seats_needed} 在线 ${st.signed_in}（近1小时 ${st.calls_last_hour} 通）`,
         "staffing" + (st.seats_needed > st.signed_in ? " long" : ""));
    qb.appendChild(tr);
    for (const w of q.waiting || []) {
      const r = document.createElement("tr"); r.className = "waiting-call";
      cell(r, q.queue); cell(r, w.caller); cell(r, Math.round(now - w.since)); wb.appendChild(r);
    }
  }
  const sb = document.querySelector("#seats tbody"); sb.replaceChildren();
  for (const s of Object.values(state.seats).sort((a, b) => a.seat.localeCompare(b.seat))) {
    const tr = document.createElement("tr"); tr.dataset.seat = s.seat;
    const dur = s.since ? Math.round(now - s.since) : null;
    cell(tr, s.seat); cell(tr, NAMES[s.state] || s.state, "state");
    cell(tr, dur, ((s.state === "busy" && dur > 900) || (s.state === "wrapup" && dur > 120)) ? "long" : "");
    cell(tr, s.reason, "reason"); cell(tr, s.calls_today);
    const td = cell(tr, "");
    for (const [label, action, body] of [["示忙", "busy", {reason: "other"}], ["就绪", "ready"], ["签出", "signout"]]) {
      const b = document.createElement("button"); b.textContent = label;
      b.onclick = () => post(`/web/seats/${encodeURIComponent(s.seat)}/${action}`, body).catch(e => alert(e.message));
      td.appendChild(b);
    }
    // On a call: the supervisor's own phone rings and, answered, listens in (监听), whispers
    // to the seat only (密语) or talks to both sides (强插).
    if (s.state === "on_call") for (const [label, mode] of SPY_MODES) {
      const b = document.createElement("button"); b.textContent = label; b.className = "spy"; b.dataset.mode = mode;
      b.onclick = () => spy(s.seat, mode);
      td.appendChild(b);
    }
    sb.appendChild(tr);
  }
}
const SPY_MODES = [["监听", "listen"], ["密语", "whisper"], ["强插", "barge"]];
const spyPhone = document.getElementById("spyphone"), spyMsg = document.getElementById("spymsg");
fetch("/web/spy/phones").then(r => r.json()).then(out => {
  for (const p of out.phones || []) {
    const o = document.createElement("option"); o.value = p.id; o.textContent = `${p.id} ${p.name}`;
    spyPhone.appendChild(o);
  }
  if (!spyPhone.options.length) spyMsg.textContent = "中心文件未配置班长话机 ([[supervisors]])";
  const kept = localStorage.getItem("hotline-spy-phone");
  if (kept && [...spyPhone.options].some(o => o.value === kept)) spyPhone.value = kept;
});
spyPhone.onchange = () => localStorage.setItem("hotline-spy-phone", spyPhone.value);
function spy(seat, mode) {
  spyMsg.textContent = "";
  post(`/web/spy/${encodeURIComponent(seat)}`, {mode, phone: spyPhone.value})
    .then(() => { spyMsg.textContent = `话机 ${spyPhone.value} 振铃中：接听后${SPY_MODES.find(m => m[1] === mode)[0]}座席 ${seat}`; },
          e => { spyMsg.textContent = e.message; });
}
connectLive((snap) => { state = snap; render(); }, (c) => {
  if (c.kind === "queue") state.queues[c.name] = c.data;
  else if (c.kind === "seat") state.seats[c.name] = c.data;
  else if (c.kind === "node") state.nodes[c.name] = c.data;
  render();
});
setInterval(render, 1000);
document.getElementById("bset").onclick = () => post("/web/broadcast", {text: document.getElementById("btext").value})
  .then(() => { document.getElementById("bmsg").textContent = "已发布"; }, e => { document.getElementById("bmsg").textContent = e.message; });
document.getElementById("bclear").onclick = () => post("/web/broadcast", {text: ""})
  .then(() => { document.getElementById("bmsg").textContent = "已清除"; }, e => { document.getElementById("bmsg").textContent = e.message; });
