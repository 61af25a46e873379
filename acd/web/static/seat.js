// The seat console's page (acd/web/pages.py): the seat's state and its buttons; the call, the
// order form and the knowledge base are in console.js. Text only into the DOM.
"use strict";
const SEAT = meta("seat"), REASONS = JSON.parse(meta("reasons"));
const NAMES = {signed_out: "签出", ready: "就绪", ringing: "振铃", on_call: "通话", wrapup: "整理", busy: "示忙"};
document.getElementById("seat").textContent = SEAT;
const sel = document.getElementById("reasons");
for (const r of REASONS) { const o = document.createElement("option"); o.value = r; o.textContent = r; sel.appendChild(o); }
let shownCall = null;
function show(s) { if (!s) return; document.getElementById("state").textContent = NAMES[s.state] || s.state;
  document.getElementById("reason").textContent = s.reason || "";
  seatConsole.seat(s);
  // Fetched when the phone rings and again once answered (the wait is known only then).
  if (s.uniqueid && `${s.uniqueid} ${s.state}` !== shownCall && (s.state === "ringing" || s.state === "on_call")) {
    shownCall = `${s.uniqueid} ${s.state}`;
    fetch(`/web/calls/${encodeURIComponent(s.uniqueid)}`).then(r => r.json()).then(c => {
      if (c.error) return;
      for (const [id, v] of [["c-caller", c.caller], ["c-name", c.name], ["c-queue", c.queue],
                             ["c-wait", c.wait_s], ["c-ivr", c.ivr_path]])
        document.getElementById(id).textContent = v == null ? "" : String(v);
      const ul = document.getElementById("c-orders"); ul.replaceChildren();
      for (const o of c.earlier_orders) { const li = document.createElement("li");
        li.textContent = `#${o.id} ${o.accepted} ${o.type} ${o.status} ${o.content}`; ul.appendChild(li); }
    });
  }
}
connectLive((snap) => show(snap.seats[SEAT]), (c) => { if (c.kind === "seat" && c.name === SEAT) show(c.data); });
function act(action, body) { post(`/web/seats/${encodeURIComponent(SEAT)}/${action}`, body)
  .then(() => { document.getElementById("msg").textContent = ""; }, e => { document.getElementById("msg").textContent = e.message; }); }
document.getElementById("signin").onclick = () => act("signin");
document.getElementById("signout").onclick = () => act("signout");
document.getElementById("busy").onclick = () => act("busy", {reason: sel.value});
document.getElementById("ready").onclick = () => act("ready");
