// The back office for supervisors: overdue and soon-due orders with reminders (催办, seed 001
// art. 35), and orders sent to another center or to the level above (上管一级).
(() => {
  const $ = (id) => document.getElementById(id);
  let upper = "";
  async function load() {
    const lists = await getJSON("/web/orders/list?overdue=1");
    for (const kind of ["overdue", "soon"]) {
      const tb = $(kind).tBodies[0]; tb.replaceChildren();
      for (const o of lists[kind]) {
        const tr = orderRow(tb, o, [o.id, TYPES[o.type], o.handling_unit_name || o.handling_unit || "（未转办）",
          o.due, o.reminders ? `${o.reminders} 次（${when(o.reminded_at)}）` : "", o.content.slice(0, 40)]);
        if (kind === "overdue") tr.classList.add("overdue");
        const td = document.createElement("td"); tr.appendChild(td);
        if (o.status === "transferred") {
          const b = document.createElement("button"); b.type = "button"; b.className = "remind";
          b.textContent = "催办"; td.appendChild(b);
          b.addEventListener("click", async () => {
            try { await post(`/web/orders/${o.id}/remind`, {note: ""}); say(`已催办工单 #${o.id}`, true); await load(); }
            catch (e) { say(e.message, false); }
          });
        }
      }
    }
    $("overdue-count").textContent = lists.overdue.length ? `${lists.overdue.length} 件` : "无";
  }
  async function move(action) {
    const id = $("move-id").value, reason = $("move-reason").value;
    const body = action === "forward" ? {center: $("move-center").value, reason} : {reason};
    try {
      const o = await post(`/web/orders/${encodeURIComponent(id)}/${action}`, body);
      say(`工单 #${o.id} 已${action === "forward" ? "转往" : "上报"} ${o.center}`, true); await load();
    } catch (e) { say(e.message, false); }
  }
  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const c = await getJSON("/web/choices"); upper = c.upper;
      for (const p of c.peers) {
        const o = document.createElement("option"); o.value = p.code; o.textContent = p.name;
        $("move-center").appendChild(o);
      }
      $("escalate").disabled = !upper;
      await load();
    } catch (e) { say(e.message, false); }
    $("move-form").addEventListener("submit", (ev) => { ev.preventDefault(); move("forward"); });
    $("escalate").addEventListener("click", () => move("escalate"));
  });
})();
