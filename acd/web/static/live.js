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
    socket.onclose = (ev) => {
      // 4401: the session ended (logged out, revoked, user removed): back to the login page.
      if (ev.code === 4401) { location.href = "/login"; return; }
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
function meta(name) { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : ""; }
// 退出: ends every session of this user (acd/web/pages.py logout), then the login page.
document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", () => fetch("/logout", { method: "POST",
    headers: { "X-CSRF-Token": meta("csrf") } }).finally(() => { location.href = "/login"; }));
});
