// The handling unit's page: its orders, the overdue ones with their reminders, and on an
// order: receive (签收), reply, return with a reason, extend (seed 001 art. 32-34).
(() => {
  const $ = (id) => document.getElementById(id);
  let picked = null;
  async function load() {
    const [me, mine, late] = await Promise.all([getJSON("/web/unit/me"),
      getJSON("/web/orders/list"), getJSON("/web/orders/list?overdue=1")]);
    $("unit-name").textContent = me.name;
    const tb = $("orders").tBodies[0]; tb.replaceChildren();
    const overdueIds = new Set(late.overdue.map(o => o.id));
    for (const o of mine) {
      const tr = orderRow(tb, o, [o.id, TYPES[o.type], DOMAINS[o.domain],
        `${o.caller_name} ${o.caller_number}`, when(o.transferred_at),
        o.signed_at ? "已签收" : "未签收", o.due, o.reminders ? `${o.reminders} 次` : "",
        o.content.slice(0, 40)], pick);
      if (overdueIds.has(o.id)) tr.classList.add("overdue");
    }
    const ob = $("overdue").tBodies[0]; ob.replaceChildren();
    for (const o of late.overdue)
      orderRow(ob, o, [o.id, TYPES[o.type], o.due, o.reminders ? `${o.reminders} 次（${when(o.reminded_at)}）` : "",
        o.content.slice(0, 40)], pick).classList.add("overdue");
    $("overdue-count").textContent = late.overdue.length ? `${late.overdue.length} 件` : "无";
    if (picked && !mine.some(o => o.id === picked)) { picked = null; $("detail").hidden = true; }
    if (picked) await pick(picked);
  }
  async function pick(id) {
    const o = await getJSON(`/web/orders/${id}`);
    picked = id; $("detail").hidden = false;
    $("d-id").textContent = o.id; $("d-status").textContent = STATUSES[o.status] || o.status;
    $("d-content").textContent = o.content; $("d-caller").textContent = o.caller_number;
    $("d-name").textContent = o.caller_name; $("d-due").textContent = o.due;
    $("d-extended").textContent = o.extended_days ? `${o.extended_days} 个工作日` : "无";
    $("receive").disabled = !!o.signed_at;
    const ul = $("d-history"); ul.replaceChildren();
    for (const e of o.history) {
      const li = document.createElement("li");
      li.textContent = `${when(e.at)} ${ACTIONS[e.action] || e.action} ${e.by} ${e.reason}`;
      ul.appendChild(li);
    }
  }
  async function act(action, body, done) {
    try { await post(`/web/orders/${picked}/${action}`, body); say(done, true); await load(); }
    catch (e) { say(e.message, false); }
  }
  document.addEventListener("DOMContentLoaded", () => {
    $("receive").addEventListener("click", () => act("receive", {}, "已签收"));
    $("reply-form").addEventListener("submit", (ev) => { ev.preventDefault();
      act("reply", {text: $("reply-text").value}, "已回复"); });
    $("return-form").addEventListener("submit", (ev) => { ev.preventDefault();
      act("return", {reason: $("return-reason").value}, "已退回12328服务中心"); });
    $("extend-form").addEventListener("submit", (ev) => { ev.preventDefault();
      act("extend", {days: parseInt($("extend-days").value, 10), reason: $("extend-reason").value}, "已延期"); });
    load().catch(e => say(e.message, false));
  });
})();
