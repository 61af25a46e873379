// Shared by every page: the live feed (a snapshot, then every change), requests that show the
// server's Chinese message on a refusal, the titles of codes, a confirmation dialog, logout.
// Text only into the DOM (never innerHTML); no inline script or style (the CSP forbids both).
"use strict";
function meta(name) { const m = document.querySelector(`meta[name="${name}"]`); return m ? m.content : ""; }
// Every title a page shows for a code (acd/web/titles.py): T.queues.highway === "高速公路".
const T = (() => { try { return JSON.parse(meta("titles") || "{}"); } catch (e) { return {}; } })();
function title(kind, code) { const t = (T[kind] || {})[code]; return t == null ? (code == null ? "" : String(code)) : t; }

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
      if (ev.code === 4401) { location.href = "/login?why=ended"; return; }
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
// A refusal's Chinese sentence ("message", acd/web/messages.py); the session gone: log in.
async function failure(r) {
  let out = {};
  try { out = await r.json(); } catch (e) { out = {}; }
  if (r.status === 401) { location.href = "/login?why=ended"; }
  return new Error(out.message || `请求失败（${r.status}）`);
}
async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json",
    "X-CSRF-Token": meta("csrf") }, body: JSON.stringify(body || {}) });
  if (!r.ok) throw await failure(r);
  return r.json();
}
async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  if (!r.ok) throw await failure(r);
  return r.json();
}
function pct(x) { return x == null ? "无数据" : (100 * x).toFixed(1) + " %"; }
function seconds(s) {  // 75 -> "1:15", 3700 -> "1:01:40"
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${x}` : `${m}:${x}`;
}
// Asks before an action that drops something (签出, 示忙 on a call, ...): a <dialog>, never
// confirm() or alert(). Resolves true when the person confirms.
function confirmDialog(text, yes) {
  return new Promise((resolve) => {
    let d = document.getElementById("confirm-dialog");
    if (!d) {
      d = document.createElement("dialog"); d.id = "confirm-dialog";
      d.setAttribute("aria-labelledby", "confirm-text");
      const p = document.createElement("p"); p.id = "confirm-text";
      const ok = document.createElement("button"); ok.type = "button"; ok.id = "confirm-yes";
      const no = document.createElement("button"); no.type = "button"; no.id = "confirm-no"; no.textContent = "取消";
      d.append(p, ok, no); document.body.appendChild(d);
    }
    d.querySelector("#confirm-text").textContent = text;
    const ok = d.querySelector("#confirm-yes"), no = d.querySelector("#confirm-no");
    ok.textContent = yes || "确定";
    const done = (v) => { ok.onclick = no.onclick = d.oncancel = null; d.close(); resolve(v); };
    ok.onclick = () => done(true); no.onclick = () => done(false);
    d.oncancel = (e) => { e.preventDefault(); done(false); };
    d.showModal(); no.focus();
  });
}
// The pages a role may open, for a page's <nav id="nav">.
const PAGES = [["/wallboard", "监控大屏", ["supervisor", "admin"]], ["/backoffice", "工单督办", ["supervisor", "admin"]],
  ["/inspect", "质量检验", ["inspector", "supervisor", "admin"]], ["/revisit", "抽查回访", ["revisit", "supervisor", "admin"]],
  ["/admin", "用户与令牌", ["admin"]], ["/audit", "监听审计", ["admin"]]];
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.getElementById("nav"), role = meta("role");
  if (!nav || !role) return;
  for (const [href, text, roles] of PAGES) {
    if (!roles.includes(role) || href === location.pathname) continue;
    const a = document.createElement("a"); a.href = href; a.textContent = text; nav.appendChild(a);
  }
});
// 退出: ends every session of this user (acd/web/pages.py logout), then the login page.
document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", () => fetch("/logout", { method: "POST",
    headers: { "X-CSRF-Token": meta("csrf") } }).finally(() => { location.href = "/login"; }));
});
