// The live feed: a snapshot, then every change; text only into the DOM (never innerHTML).
function connectLive(onSnapshot, onChange) {
  let socket, retry = 500;
  function open() {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    socket.onopen = () => { document.body.classList.remove("is-stale"); retry = 500; };
    socket.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.kind === "snapshot") onSnapshot(msg.data); else onChange(msg);
    };
    socket.onclose = () => {
      document.body.classList.add("is-stale");
      setTimeout(open, retry); retry = Math.min(retry * 2, 10000);
    };
  }
  open();
}
function cell(row, text, cls) {
  const td = document.createElement("td"); td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls; row.appendChild(td); return td;
}
async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json",
    "X-CSRF-Token": document.querySelector("meta[name=csrf]").content }, body: JSON.stringify(body || {}) });
  const out = await r.json(); if (!r.ok) throw new Error(out.error || r.status); return out;
}
function pct(x) { return x == null ? "无数据" : (100 * x).toFixed(1) + " %"; }
