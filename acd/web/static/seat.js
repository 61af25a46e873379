// The seat console's page (acd/web/pages.py): the seat's state with a timer for the call,
// wrap-up and busy; a ringing notice (a tone and the tab's title); the buttons with keyboard
// shortcuts (Alt+digit) and a confirmation where an action drops something; the call. The
// order form, the knowledge base and "to the survey" are in console.js. Text only into the DOM.
"use strict";
const SEAT = meta("seat");
const $ = (id) => document.getElementById(id);
const BASE_TITLE = document.title;
let seatNow = null;          // the seat's last view from the live feed
let shownCall = null;
let audio = null, ringTimer = null, titleTimer = null;

$("seat").textContent = SEAT;
if (T.seats && T.seats[SEAT]) $("seat").title = T.seats[SEAT];
for (const [code, t] of Object.entries(T.busy || {})) {
  const o = document.createElement("option"); o.value = code; o.textContent = t; $("reasons").appendChild(o);
}

// --- ringing: a tone every 2 s and a blinking title until the call is answered or gone ----------
function tone() {
  if (!audio) return;
  const t0 = audio.currentTime;
  for (const [f, at] of [[660, 0], [880, 0.25]]) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = f; o.connect(g); g.connect(audio.destination);
    g.gain.setValueAtTime(0.2, t0 + at); g.gain.setValueAtTime(0, t0 + at + 0.2);
    o.start(t0 + at); o.stop(t0 + at + 0.22);
  }
  document.body.dataset.rings = String(Number(document.body.dataset.rings || 0) + 1);
}
function ringing(on, caller) {
  const notice = $("ring-notice");
  if (on && !ringTimer) {
    notice.textContent = `来电振铃${caller ? "：" + caller : ""}，请在话机上接听`; notice.hidden = false;
    tone(); ringTimer = setInterval(tone, 2000);
    let flip = false;
    titleTimer = setInterval(() => { flip = !flip; document.title = flip ? "【来电】" + BASE_TITLE : BASE_TITLE; }, 800);
    document.title = "【来电】" + BASE_TITLE;
  } else if (!on && ringTimer) {
    clearInterval(ringTimer); clearInterval(titleTimer); ringTimer = titleTimer = null;
    notice.hidden = true; document.title = BASE_TITLE;
  } else if (on && caller) {
    notice.textContent = `来电振铃：${caller}，请在话机上接听`;
  }
}

// --- the state, its timer, the call ----------------------------------------------------------------
const TIMED = {on_call: "通话", wrapup: "整理", busy: "示忙", ringing: "振铃", ready: "就绪"};
function tick() {
  const s = seatNow;
  if (!s || !s.since || !TIMED[s.state]) { $("timer").textContent = ""; return; }
  const d = Date.now() / 1000 - s.since;
  const text = s.state === "wrapup" && s.wrapup_until
    ? `${TIMED[s.state]} ${seconds(d)}（剩 ${seconds(Math.max(0, s.wrapup_until - Date.now() / 1000))}）`
    : `${TIMED[s.state]} ${seconds(d)}`;
  if ($("timer").textContent !== text) $("timer").textContent = text;
  if (s.state === "on_call") $("c-talk").textContent = seconds(d);
}
function show(s) {
  if (!s) return;
  seatNow = s;
  $("state").textContent = title("states", s.state);
  $("reason").textContent = s.state === "busy" && s.reason ? `（${title("busy", s.reason)}）` : "";
  document.body.dataset.state = s.state;
  seatConsole.seat(s);
  ringing(s.state === "ringing", $("c-caller").textContent);
  tick();
  // Fetched when the phone rings and again once answered (the wait is known only then).
  if (s.uniqueid && `${s.uniqueid} ${s.state}` !== shownCall && (s.state === "ringing" || s.state === "on_call")) {
    shownCall = `${s.uniqueid} ${s.state}`;
    if (s.state === "ringing") $("c-talk").textContent = "";
    getJSON(`/web/calls/${encodeURIComponent(s.uniqueid)}`).then(c => {
      for (const [id, v] of [["c-caller", c.caller], ["c-name", c.name], ["c-queue", title("queues", c.queue)],
                             ["c-wait", c.wait_s], ["c-ivr", c.ivr_path]])
        $(id).textContent = v == null ? "" : String(v);
      if (seatNow && seatNow.state === "ringing") ringing(true, c.caller);
      const ul = $("c-orders"); ul.replaceChildren();
      for (const o of c.earlier_orders) {
        const li = document.createElement("li");
        li.textContent = `#${o.id} ${o.accepted} ${title("types", o.type)} ${title("statuses", o.status)} ${o.content}`;
        ul.appendChild(li);
      }
      if (!c.earlier_orders.length) { const li = document.createElement("li"); li.textContent = "无"; ul.appendChild(li); }
    }).catch(() => {});
  }
}
connectLive((snap) => show(snap.seats[SEAT]), (c) => { if (c.kind === "seat" && c.name === SEAT) show(c.data); });
setInterval(tick, 1000);

// --- actions -------------------------------------------------------------------------------------
function say(text, ok) { $("msg").textContent = text; $("msg").className = ok ? "ok" : "bad"; }
function unlockAudio() {  // browsers start sound only after a person's gesture: the first click
  if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; } }
  if (audio && audio.state === "suspended") audio.resume();
}
async function act(action, body, done) {
  unlockAudio();
  try { await post(`/web/seats/${encodeURIComponent(SEAT)}/${action}`, body); say(done || "", true); }
  catch (e) { say(e.message, false); }
}
async function signOut() {
  const s = seatNow ? seatNow.state : "";
  const busyWithCall = s === "on_call" || s === "ringing" || s === "wrapup";
  const unsaved = seatConsole.unsaved();
  if (busyWithCall || unsaved) {
    const why = [busyWithCall ? `您当前处于“${title("states", s)}”状态` : "", unsaved ? "工单尚未提交，内容将丢失" : ""]
      .filter(Boolean).join("，");
    if (!await confirmDialog(`${why}。确定签出吗？`, "签出")) { $("signout").focus(); return; }
  }
  act("signout", {}, "已签出");
}
async function goBusy() {
  const s = seatNow ? seatNow.state : "";
  if (s === "ringing" && !await confirmDialog("电话正在振铃，示忙后该来电将转给其他座席。确定示忙吗？", "示忙")) { $("busy").focus(); return; }
  act("busy", {reason: $("reasons").value}, `已示忙（${title("busy", $("reasons").value)}）`);
}
$("signin").addEventListener("click", () => act("signin", {}, "已签入"));
$("ready").addEventListener("click", () => act("ready", {}, "已就绪"));
$("busy").addEventListener("click", goBusy);
$("end-wrapup").addEventListener("click", () => act("end-wrapup", {}, "整理结束"));
$("signout").addEventListener("click", signOut);
$("to-survey").addEventListener("click", () => { unlockAudio(); seatConsole.toSurvey(); });
// Alt+digit for the common actions, Alt+K the knowledge base, Alt+N the order's content.
const KEYS = {"1": "signin", "2": "ready", "3": "busy", "4": "to-survey", "5": "end-wrapup", "0": "signout"};
document.addEventListener("keydown", (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const key = ev.key.toLowerCase(), code = ev.code.replace(/^(Digit|Numpad)/, "");
  const id = KEYS[key] || KEYS[code];
  if (id) { ev.preventDefault(); const b = $(id); if (!b.disabled) { b.focus(); b.click(); } return; }
  if (key === "k" || ev.code === "KeyK") { ev.preventDefault(); $("kb-q").focus(); }
  else if (key === "n" || ev.code === "KeyN") { ev.preventDefault(); $("o-content").focus(); }
});
// Leaving the page with an order typed and not filed: the browser asks.
window.addEventListener("beforeunload", (ev) => { if (seatConsole.unsaved()) { ev.preventDefault(); ev.returnValue = ""; } });
document.addEventListener("click", unlockAudio, {once: true});
