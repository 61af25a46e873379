// Users and API tokens for admins (acd/web/admin.py): list, add, reset, revoke, remove.
// Removing or revoking asks first; text only into the DOM.
"use strict";
const $ = (id) => document.getElementById(id);
const ME = meta("user");
let resetting = "";
function say(text, ok) { $("msg").textContent = text; $("msg").className = ok ? "ok" : "bad"; }
function fill(select, entries) {
  for (const [v, t] of entries) { const o = document.createElement("option"); o.value = v; o.textContent = t; select.appendChild(o); }
}
function button(text, cls, label, onClick) {
  const b = document.createElement("button"); b.type = "button"; b.className = cls; b.textContent = text;
  b.setAttribute("aria-label", label); b.addEventListener("click", onClick); return b;
}
async function loadUsers() {
  const out = await getJSON("/web/admin/users");
  const tb = $("users").tBodies[0]; tb.replaceChildren();
  for (const u of out.users) {
    const tr = document.createElement("tr"); tr.dataset.user = u.name;
    cell(tr, u.name); cell(tr, title("roles", u.role)); cell(tr, u.seat); cell(tr, title("units", u.unit));
    cell(tr, u.created_at.replace("T", " "));
    const td = cell(tr, "");
    td.append(button("重置密码", "reset", `重置密码：${u.name}`, () => {
      resetting = u.name; $("reset-who").textContent = u.name; $("reset-form").hidden = false; $("reset-password").focus();
    }));
    if (u.name !== ME) {
      td.append(button("强制下线", "revoke", `强制下线：${u.name}`, () => userAct(u.name, "revoke",
        `确定让 ${u.name} 的所有登录立即失效吗？`, "强制下线", `${u.name} 已下线`)));
      td.append(button("删除", "remove", `删除：${u.name}`, () => userAct(u.name, "remove",
        `确定删除用户 ${u.name}（${title("roles", u.role)}）吗？其已打开的页面将立即退出。`, "删除", `已删除用户 ${u.name}`)));
    }
    tb.appendChild(tr);
  }
}
async function userAct(name, action, question, yes, done, body) {
  if (question && !await confirmDialog(question, yes)) return;
  try { await post(`/web/admin/users/${encodeURIComponent(name)}/${action}`, body || {}); say(done, true); await loadUsers(); }
  catch (e) { say(e.message, false); }
}
async function loadTokens() {
  const out = await getJSON("/web/admin/tokens");
  const tb = $("tokens").tBodies[0]; tb.replaceChildren();
  for (const t of out.tokens) {
    const tr = document.createElement("tr"); tr.dataset.token = t.name;
    cell(tr, t.name); cell(tr, title("roles", t.role)); cell(tr, t.seat); cell(tr, title("units", t.unit));
    cell(tr, t.created_at.replace("T", " "));
    cell(tr, "").append(button("删除", "remove", `删除：令牌 ${t.name}`, async () => {
      if (!await confirmDialog(`确定删除令牌 ${t.name} 吗？使用它的程序将立即无法访问。`, "删除")) return;
      try { await post(`/web/admin/tokens/${encodeURIComponent(t.name)}/remove`); say(`已删除令牌 ${t.name}`, true); await loadTokens(); }
      catch (e) { say(e.message, false); }
    }));
    tb.appendChild(tr);
  }
}
document.addEventListener("DOMContentLoaded", async () => {
  const seats = Object.entries(T.seats || {}).map(([id]) => [id, id]), units = Object.entries(T.units || {});
  fill($("u-seat"), seats); fill($("t-seat"), seats); fill($("u-unit"), units); fill($("t-unit"), units);
  try {
    const [u, t] = await Promise.all([getJSON("/web/admin/users"), getJSON("/web/admin/tokens")]);
    fill($("u-role"), u.roles.map(r => [r, title("roles", r)])); fill($("t-role"), t.roles.map(r => [r, title("roles", r)]));
    await Promise.all([loadUsers(), loadTokens()]);
    document.body.dataset.ready = "1";
  } catch (e) { say(e.message, false); }
  $("add-user").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {name: $("u-name").value, role: $("u-role").value, password: $("u-password").value,
                  seat: $("u-seat").value, unit: $("u-unit").value};
    try { await post("/web/admin/users", body); say(`已添加用户 ${body.name}`, true); $("add-user").reset(); await loadUsers(); }
    catch (e) { say(e.message, false); }
  });
  $("reset-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await userAct(resetting, "reset", "", "", `已重置 ${resetting} 的密码，其登录已失效`, {password: $("reset-password").value});
    $("reset-form").hidden = true; $("reset-password").value = "";
  });
  $("reset-cancel").addEventListener("click", () => { $("reset-form").hidden = true; });
  $("add-token").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {name: $("t-name").value, role: $("t-role").value, seat: $("t-seat").value, unit: $("t-unit").value};
    try {
      const out = await post("/web/admin/tokens", body);
      $("token-value").textContent = out.token; $("new-token").hidden = false;
      say(`已生成令牌 ${out.name}`, true); $("add-token").reset(); await loadTokens();
    } catch (e) { say(e.message, false); }
  });
});
