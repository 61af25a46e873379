// The back office's search of work orders (acd/orders/http.py list with its filters) and an
// order's detail with its history. Titles of codes from live.js T; text only into the DOM.
(() => {
  const $ = (id) => document.getElementById(id);
  let page = 1;
  function fill(id, table) {
    for (const [v, t] of Object.entries(table || {})) { const o = document.createElement("option"); o.value = v; o.textContent = t; $(id).appendChild(o); }
  }
  async function search() {
    const q = new URLSearchParams({page: String(page)});
    for (const [k, id] of [["q", "s-q"], ["type", "s-type"], ["domain", "s-domain"], ["status", "s-status"],
                           ["unit", "s-unit"], ["since", "s-since"], ["until", "s-until"]])
      if ($(id).value.trim()) q.set(k, $(id).value.trim());
    try {
      const rows = await getJSON("/web/orders/list?" + q);
      const tb = $("results").tBodies[0]; tb.replaceChildren();
      for (const o of rows) {
        const tr = orderRow(tb, o, [o.id, when(o.accepted_at), title("types", o.type), title("domains", o.domain),
          title("statuses", o.status), o.handling_unit_name || title("units", o.handling_unit), o.due || "",
          o.caller_number, o.content.slice(0, 40)], show);
        tr.tabIndex = 0; tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(o.id); });
        if (o.due && o.status === "transferred" && o.due < new Date().toLocaleDateString("sv-SE", {timeZone: T.timezone})) tr.classList.add("overdue");
      }
      $("s-count").textContent = rows.length ? `本页 ${rows.length} 件` : "没有符合条件的工单";
      $("s-page").textContent = `第 ${page} 页`;
      $("s-prev").disabled = page <= 1; $("s-next").disabled = rows.length < 50;
    } catch (e) { say(e.message, false); }
  }
  async function show(id) {
    try {
      const o = await getJSON(`/web/orders/${encodeURIComponent(id)}`);
      $("order-detail").hidden = false;
      $("od-id").textContent = o.id; $("od-status").textContent = title("statuses", o.status);
      $("od-kind").textContent = `${title("types", o.type)} / ${title("domains", o.domain)}${o.sub_item ? " / " + o.sub_item : ""}`;
      $("od-caller").textContent = `${o.caller_name} ${o.caller_number}`;
      $("od-accepted").textContent = when(o.accepted_at);
      $("od-unit").textContent = o.handling_unit_name || title("units", o.handling_unit) || "（未转办）";
      $("od-due").textContent = o.due ? o.due + (o.extended_days ? `（已延期 ${o.extended_days} 个工作日）` : "") : "";
      $("od-content").textContent = o.content; $("od-reply").textContent = o.reply || "";
      const ol = $("od-history"); ol.replaceChildren();
      for (const e of o.history) {
        const li = document.createElement("li");
        li.textContent = `${when(e.at)} ${e.by} ${title("actions", e.action)}（${title("statuses", e.from)} → ${title("statuses", e.to)}）${e.reason ? "：" + e.reason : ""}`;
        ol.appendChild(li);
      }
      $("order-detail").scrollIntoView();
    } catch (e) { say(e.message, false); }
  }
  document.addEventListener("DOMContentLoaded", () => {
    fill("s-type", T.types); fill("s-domain", T.domains); fill("s-status", T.statuses); fill("s-unit", T.units);
    $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); page = 1; search(); });
    $("s-prev").addEventListener("click", () => { if (page > 1) { page -= 1; search(); } });
    $("s-next").addEventListener("click", () => { page += 1; search(); });
    search();
  });
})();
