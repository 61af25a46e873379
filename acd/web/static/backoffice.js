// Shared by the unit's page and the back office: order rows, messages. Text only into the DOM.
// Titles of codes come from the page's <meta name="titles"> (live.js T, acd/web/titles.py).
const TYPES = T.types || {}, DOMAINS = T.domains || {}, STATUSES = T.statuses || {};
const ACTIONS = T.actions || {};
function say(text, ok) { const m = document.getElementById("msg"); m.textContent = text; m.className = ok ? "ok" : "bad"; }
function day(iso) { return iso ? iso.slice(0, 10) : ""; }
function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : ""; }
function orderRow(tbody, o, cells, onPick) {
  const tr = document.createElement("tr"); tr.dataset.order = o.id;
  for (const c of cells) cell(tr, c);
  if (onPick) tr.addEventListener("click", () => onPick(o.id));
  tbody.appendChild(tr); return tr;
}
