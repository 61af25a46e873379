// The listening audit for admins (acd/web/spy.py audit_trail): every spy session and refusal.
// Text only into the DOM (never innerHTML).
"use strict";
document.getElementById("center").textContent = meta("center");
async function load() {
  const days = document.getElementById("days").value || "30";
  const msg = document.getElementById("msg"); msg.textContent = "";
  let out;
  try { out = await getJSON(`/web/audit/spy?days=${encodeURIComponent(days)}`); }
  catch (e) { msg.textContent = e.message; return; }
  const tb = document.querySelector("#spies tbody"); tb.replaceChildren();
  for (const s of out.sessions) {
    const tr = document.createElement("tr"); tr.dataset.id = s.id; tr.dataset.status = s.status;
    for (const v of [s.id, s.by || "（话机拨号）", s.supervisor, s.seat, s.mode_label, s.status_label,
                     s.requested_at, s.started_at, s.ended_at, s.seconds, s.target]) cell(tr, v);
    tb.appendChild(tr);
  }
  document.getElementById("count").textContent = `共 ${out.sessions.length} 条`;
}
document.getElementById("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
load();
