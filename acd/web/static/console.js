// The seat console's work order, knowledge search and "to the survey" (acd/web/console.py).
// The form stays bound to the seat's last answered call through wrap-up and after it, until
// the next call is answered. Text only into the DOM (never innerHTML).
const seatConsole = (() => {
  let call = null;       // the call the form is for
  let live = null;       // the call the seat is talking on (survey button)
  let sent = null;       // the call whose order has been filed
  const $ = (id) => document.getElementById(id);
  function say(id, text, ok) { const el = $(id); el.textContent = text; el.className = ok ? "ok" : "bad"; }

  function bind(uid) {
    call = uid;
    $("order").reset(); answeredChanged();
    $("o-call").textContent = uid; $("o-call").dataset.uniqueid = uid;
    $("o-submit").disabled = false; say("order-msg", "", true);
  }
  function seat(s) {
    live = s.state === "on_call" ? s.uniqueid : null;
    $("to-survey").disabled = !live;
    if (s.uniqueid && s.uniqueid !== call && (s.state === "on_call" || s.state === "wrapup")) bind(s.uniqueid);
  }
  function answeredChanged() {
    const yes = $("o-answered-yes").checked, refused = $("o-refused").checked;
    $("o-reply-label").hidden = !yes; $("o-unit-label").hidden = yes || refused;
    $("o-refusal-label").hidden = !refused;
    $("o-region-label").hidden = !$("o-cross").checked;
  }
  // The center's handling units and article 28's reasons, as the server knows them.
  async function loadChoices() {
    const r = await fetch("/web/choices");
    if (!r.ok) return;
    const c = await r.json();
    for (const [id, items, value, text] of [["o-unit", c.units, "code", "name"],
                                            ["o-refusal", c.refusals, "code", "text"]]) {
      for (const item of items) {
        const o = document.createElement("option"); o.value = item[value]; o.textContent = item[text];
        $(id).appendChild(o);
      }
    }
  }
  async function submit(ev) {
    ev.preventDefault();
    if (!call) return;
    const yes = $("o-answered-yes").checked, refused = $("o-refused").checked;
    const cross = $("o-cross").checked;
    const body = {uniqueid: call, type: $("o-type").value, domain: $("o-domain").value,
      sub_item: $("o-sub").value, subject: $("o-subject").value, content: $("o-content").value,
      answered: yes, reply: yes ? $("o-reply").value : "",
      unit: yes || refused ? "" : $("o-unit").value,
      refusal: refused ? $("o-refusal").value || "-" : "",
      cross_region: cross, region: cross ? $("o-region").value : ""};
    $("o-submit").disabled = true;
    try {
      const o = await post("/web/orders", body);
      const how = o.status === "closed" ? "即时答复办结" : o.status === "not_accepted"
        ? `不予受理：${o.refusal}` : `已转办 ${o.unit_name}，承办期限 ${o.due}`;
      say("order-msg", `工单 #${o.id} 已提交（${how}）`, true); sent = call;
    } catch (e) {
      say("order-msg", e.message, false); $("o-submit").disabled = false;
    }
  }
  async function search(ev) {
    ev.preventDefault();
    const ul = $("kb-results"); ul.replaceChildren(); say("kb-msg", "", true);
    const r = await fetch(`/web/kb?q=${encodeURIComponent($("kb-q").value)}`);
    const out = await r.json();
    if (!r.ok) { say("kb-msg", out.message || String(r.status), false); return; }
    if (!out.length) { say("kb-msg", "没有找到", false); return; }
    for (const e of out) {
      const li = document.createElement("li"); li.dataset.entry = e.id;
      const b = document.createElement("button"); b.type = "button"; b.className = "kb-use";
      b.textContent = e.title; b.title = "用此条答复（计入使用次数）";
      const body = document.createElement("div"); body.className = "kb-body"; body.textContent = e.body;
      b.onclick = async () => {
        try { await post(`/web/kb/${e.id}/used`); } catch (err) { say("kb-msg", err.message, false); return; }
        li.classList.add("used"); b.disabled = true;
        if (!$("o-reply").value.trim()) $("o-reply").value = e.body;
      };
      li.append(b, body); ul.appendChild(li);
    }
  }
  async function toSurvey() {
    if (!live) return;
    // The seat leaves the call: asked first (the caller goes on to the survey's voice).
    if (!await confirmDialog("确定将来电人转入满意度评价吗？转出后本座席的通话即结束。", "转满意度评价")) {
      $("to-survey").focus(); return;
    }
    $("to-survey").disabled = true;
    try { await post(`/web/calls/${encodeURIComponent(live)}/survey`); say("msg", "已转满意度评价", true); }
    catch (e) { say("msg", e.message, false); $("to-survey").disabled = !live; }
  }
  document.addEventListener("DOMContentLoaded", () => {
    $("order").addEventListener("submit", submit);
    $("kb").addEventListener("submit", search);
    for (const id of ["o-answered-yes", "o-answered-no", "o-refused", "o-cross"]) $(id).addEventListener("change", answeredChanged);
    loadChoices();
  });
  // Words typed into the order of a call and not filed yet: leaving would drop them.
  function unsaved() {
    return !!call && sent !== call && !!($("o-content").value.trim() || $("o-reply").value.trim());
  }
  return { seat, unsaved, toSurvey };
})();
