// Shared by the unit's page and the back office: order rows, messages. Text only into the DOM.
const TYPES = {complaint: "投诉举报", consultation: "信息咨询", suggestion: "意见建议"};
const DOMAINS = {highway: "高速公路", ordinary_road: "普通公路", road_transport: "道路运输",
  urban_transit: "城市客运", waterway: "水路", maritime: "海事", other: "其他"};
const STATUSES = {accepted: "已受理", transferred: "已转办", returned: "已退回", replied: "已回复",
  closed: "已办结", archived: "已归档", not_accepted: "不予受理"};
const ACTIONS = {accept: "受理", transfer: "转办", receive: "签收", reply: "回复", "return": "退回",
  extend: "延期", remind: "催办", close: "办结", archive: "归档", reopen: "重新办理",
  refuse: "不予受理", answer_on_call: "即时答复", forward: "转其他中心", escalate: "上管一级",
  result_sent: "结果已反馈"};
function say(text, ok) { const m = document.getElementById("msg"); m.textContent = text; m.className = ok ? "ok" : "bad"; }
function day(iso) { return iso ? iso.slice(0, 10) : ""; }
function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }
async function getJSON(url) {
  const r = await fetch(url); const out = await r.json();
  if (!r.ok) throw new Error(out.error || r.status); return out;
}
function orderRow(tbody, o, cells, onPick) {
  const tr = document.createElement("tr"); tr.dataset.order = o.id;
  for (const c of cells) cell(tr, c);
  if (onPick) tr.addEventListener("click", () => onPick(o.id));
  tbody.appendChild(tr); return tr;
}
