// The revisit page: the day's list, a form per revisit, the result sent as JSON.
// Data goes into the DOM as text and properties only (never innerHTML). The day and times
// come from the server in the center's time zone and are shown as they are.
"use strict";
const $ = (id) => document.getElementById(id);
const SATISFACTION = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意"};

function say(text, ok) { const m = $("msg"); m.textContent = text || ""; m.className = ok ? "ok" : "bad"; }

function select(options, value) {
  const s = document.createElement("select");
  for (const [v, text] of options) {
    const o = document.createElement("option"); o.value = v; o.textContent = text; s.appendChild(o);
  }
  s.value = value; return s;
}

function result(r) {
  if (!r.done_at) return "待回访";
  if (!r.reached) return `未联系上（${r.done_at.slice(5, 16).replace("T", " ")}）`;
  return `${r.satisfaction_title}（${r.by}）`;
}

function row(r) {
  const tr = document.createElement("tr");
  tr.dataset.revisit = r.id;
  if (r.reached) tr.className = "done"; else if (r.done_at) tr.className = "unreached";
  const o = r.order;
  cell(tr, "#" + r.order_id); cell(tr, o.type_title); cell(tr, o.domain_title);
  cell(tr, o.handling_unit); cell(tr, o.content, "content"); cell(tr, o.reply, "content");
  cell(tr, o.caller_number); cell(tr, o.caller_name); cell(tr, r.assigned_to || "（未分配）");
  cell(tr, result(r), "result");
  if (r.reached) { cell(tr, "是"); cell(tr, r.satisfaction_title); cell(tr, r.notes); cell(tr, ""); return tr; }
  const reached = select([["1", "是"], ["0", "否"]], "1"); reached.className = "reached";
  const sat = select(Object.entries(SATISFACTION), "2"); sat.className = "satisfaction";
  const note = document.createElement("input"); note.className = "note"; note.maxLength = 2000;
  reached.onchange = () => { sat.disabled = reached.value === "0"; };
  const send = document.createElement("button"); send.type = "button"; send.className = "save";
  send.textContent = "提交";
  send.onclick = async () => {
    const yes = reached.value === "1";
    try {
      await post(`/web/revisits/${r.id}`, {reached: yes, satisfaction: yes ? Number(sat.value) : null,
                                           note: note.value});
      say(`工单 #${r.order_id} 回访已记录` + (yes && sat.value === "4" ? "，不满意：已退回中心重新办理" : ""), true);
      load();
    } catch (e) { say(e.message); }
  };
  for (const el of [reached, sat, note, send]) { const td = cell(tr, ""); td.appendChild(el); }
  return tr;
}

async function load() {
  try {
    const out = await getJSON("/web/revisits?" + new URLSearchParams({day: $("day").value}));
    $("day").value = out.day;
    $("who").textContent = out.worker ? `回访员 ${out.worker} · ${out.timezone}` : `全部回访员 · ${out.timezone}`;
    const body = document.querySelector("#revisits tbody");
    body.replaceChildren(...out.revisits.map(row));
    const s = out.summary;
    $("summary").textContent = `共 ${s.total} 条，已回访 ${s.reached} 条，满意 ${s.satisfied} 条`;
  } catch (e) { say(e.message); }
}

$("day-form").onsubmit = (e) => { e.preventDefault(); say(""); load(); };
$("sample").onclick = async () => {
  try {
    const out = await post("/web/revisits/sample", {day: $("day").value});
    say(`${out.day} 回访名单共 ${out.total} 条`, true); load();
  } catch (e) { say(e.message); }
};
load();
