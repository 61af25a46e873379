// The listening audit for admins (acd/web/spy.py audit_trail): every spy session and refusal.
// Text only into the DOM (never innerHTML).
"use strict";
document.getElementById("center").textContent = meta("center");
async function load() {
  const days = document.getElementById("days").value || "30";
  const msg = document.getElementById("msg"); msg.textContent = "";
  const r = await fetch(`/web/audit/spy?days=${encodeURIComponent(days)}`);
  const out = await r.json();
  if (!r.ok) { msg.textContent = out.error || String(r.status); return; }
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
