// Agent console: login, the live queue, one session (transcript, actions, composer), the
// context panels; quick replies live in agent-canned.js.
(function () {
  "use strict";
  const { api, auth, openStream, loadLabels, label, time, duration, el } = window.Desk;
  const $ = (id) => document.getElementById(id);
  const state = { me: null, current: null, view: null, stream: null, timers: {}, queue: null, queueAt: 0 };

  // --- login -------------------------------------------------------------------------------
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const result = await api("/v1/auth/login", { method: "POST",
        body: { username: $("login-username").value.trim(), password: $("login-password").value } });
      if (result.role === "analyst") throw new Error("分析员账号不能使用客服工作台");
      auth.token = result.token;
      start();
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });

  $("logout").addEventListener("click", () => signOut());

  // 退出 ends the token on the server too (POST /v1/auth/logout), not only in this page.
  async function signOut() {
    if (auth.token) await api("/v1/auth/logout", { method: "POST" }).catch(() => null);
    logout();
  }
  $("sound").addEventListener("click", () => window.DeskAlerts.toggleSound());

  function logout(message) {
    if (state.stream) state.stream.stop();
    auth.token = null;
    state.current = null;
    $("desk-view").hidden = true;
    window.DeskAlerts.reset();
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function start() {
    try {
      state.me = await api("/v1/auth/me");
    } catch (_) {
      return logout(auth.token ? "登录已失效，请重新登录" : "");
    }
    $("login-view").hidden = true;
    $("desk-view").hidden = false;
    $("me").textContent = state.me.display_name + "（" + state.me.username + "）";
    window.DeskAlerts.init(state.me.username);
    window.DeskContext.reset();
    try { await loadLabels(); } catch (error) { return handle(error); }
    state.stream = openStream("/v1/agent/events", onEvent, onLive);
    await Promise.all([loadQueue(), loadCanned()]);
  }

  // --- live events -----------------------------------------------------------------------------
  function onLive(status) {
    $("live").dataset.state = status;
    $("live").textContent = { live: "实时连接", retrying: "连接中断，重连中…", off: "未连接" }[status];
  }

  function later(name, fn, ms) {
    clearTimeout(state.timers[name]);
    state.timers[name] = setTimeout(fn, ms || 120);
  }

  function onEvent(type, data) {
    if (type === "unauthorized") return logout("登录已过期，请重新登录");
    if (type === "canned") return later("canned", loadCanned);
    if (type === "ready") { later("queue", loadQueue); if (state.current) later("view", loadView); return; }
    later("queue", loadQueue);
    if (type === "note" && data.kind === "transfer" && data.session_id !== state.current) {
      notice("客服" + data.agent + "转给您一个会话，请查看“我的会话”");
    }
    if (data.session_id && data.session_id === state.current) {
      if (type === "message") window.DeskTranscript.addLine(data);
      else if (type === "note") window.DeskTranscript.addNote(data);
      else later("view", loadView);
    }
  }

  // --- queue and my sessions ------------------------------------------------------------------
  async function loadQueue() {
    let data;
    try { data = await api("/v1/agent/queue"); } catch (error) { return handle(error); }
    state.queue = data;
    state.queueAt = performance.now();  // waits tick from here (tick)
    $("queue-count").textContent = data.queue.length;
    $("mine-count").textContent = data.mine.length + "/" + data.capacity;
    fillList($("queue-list"), data.queue, true);
    fillList($("mine-list"), data.mine, false);
    window.DeskAlerts.update(data.queue, data.mine, state.current);
    fillTransferTargets(data.agents);
    fillTeam(data.agents);
    showPresence(data.me.status);
  }

  // --- presence: my status, and my colleagues' -------------------------------------------------
  function showPresence(status) {
    $("presence").value = status;
    $("presence-box").dataset.status = status;
  }

  $("presence").addEventListener("change", async () => {
    const status = $("presence").value;
    try { await api("/v1/agent/presence", { method: "PUT", body: { status } }); } catch (error) { return handle(error); }
    showPresence(status);
    notice(status === "online" ? "您已在线：接待新客户" : "您已设为“" + label("presence", status) +
      "”：不接待新客户，客户的预计等待时间不计入您");
    loadQueue();
  });

  function fillTeam(agents) {
    const list = $("team-list");
    list.replaceChildren();
    $("team-count").textContent = agents.filter((a) => a.online).length + "/" + agents.length;
    for (const a of agents) {
      const li = el("li");
      li.dataset.status = a.status;
      li.append(el("span", "dot"), el("span", "team__name", a.display_name + (a.username === state.me.username ? "（我）" : "")),
                el("span", "", label("presence", a.status)), el("span", "team__load", a.load + "/" + a.capacity));
      list.appendChild(li);
    }
  }

  function fillTransferTargets(agents) {
    const select = $("transfer-to");
    const chosen = select.value;  // a live refresh keeps the agent's choice
    select.replaceChildren(el("option", "", "转接给…"));
    select.firstChild.value = "";
    for (const a of agents) {
      if (a.username === state.me.username) continue;
      const option = el("option", "", a.display_name + "（" + label("presence", a.status) + " · " + a.load + "/" +
        a.capacity + "）");
      option.value = a.username;
      option.dataset.name = a.display_name;
      option.disabled = a.status === "away";  // nobody is there to take it
      select.appendChild(option);
    }
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  }

  function fillList(list, items, queued) {
    list.replaceChildren();
    if (!items.length) list.appendChild(el("li", "list__empty", queued ? "暂无排队客户" : "暂无会话"));
    for (const item of items) list.appendChild(card(item, queued));
  }

  // Who (masked name), how long they have waited or been served (ticking), why, unread lines.
  function card(item, queued) {
    const li = el("li", "card" + (item.session_id === state.current ? " card--current" : "") +
      (item.message ? " card--message" : ""));
    li.dataset.session = item.session_id;
    const top = el("div", "card__top");
    top.appendChild(el("span", "card__name", item.customer || label("channel", item.channel) + "访客"));
    const wait = el("span", "card__wait", "");
    Object.assign(wait.dataset, waitClock(item, queued));
    top.appendChild(wait);
    const mid = el("div", "card__mid");
    mid.appendChild(el("span", "badge badge--" + item.reason, label("reason", item.reason)));
    const unread = window.DeskAlerts.unread(item, state.current);
    if (unread) mid.appendChild(el("span", "unread", unread > 99 ? "99+" : String(unread)));
    li.append(top, mid, el("div", "card__text", item.last_message || "（暂无消息）"));
    li.appendChild(el("div", "card__meta", label("channel", item.channel) + " · " + (item.bound ? "已绑定客户" : "未绑定")));
    li.addEventListener("click", () => openSession(item.session_id));
    showWait(wait, 0);
    return li;
  }

  // A live wait shows its place and how long so far; a served one how long it has been served;
  // a message left outside service hours says so (after the live waits).
  function waitClock(item, queued) {
    if (!queued) return { kind: "serve", base: item.serving_seconds || 0 };
    if (item.message) {
      return { kind: "fixed", text: item.message.status === "left" ? "留言 · " + time(item.message.left_at) :
        "留言 · 客户尚未留言" };
    }
    return { kind: "wait", base: item.waiting_seconds, position: item.position };
  }

  function showWait(node, elapsed) {
    const d = node.dataset;
    if (d.kind === "fixed") node.textContent = d.text;
    else if (d.kind === "serve") node.textContent = "已服务 " + duration(Number(d.base) + elapsed);
    else node.textContent = "第 " + d.position + " 位 · 已等 " + duration(Number(d.base) + elapsed);
  }

  // --- one session -----------------------------------------------------------------------------
  async function openSession(id) {
    if (id !== state.current) setMode("reply");  // each conversation starts with a reply to the customer
    window.DeskTranscript.reset(id);
    state.current = id;
    $("canned-admin").hidden = true;
    $("history").hidden = true;
    $("history-back").hidden = true;  // agent-history.js shows it when the session came from a search
    for (const card of document.querySelectorAll(".card")) {
      card.classList.toggle("card--current", Number(card.dataset.session) === id);
      if (Number(card.dataset.session) === id) card.querySelector(".unread")?.remove();
    }
    await loadView();
  }

  async function loadView() {
    if (!state.current) return;
    const id = state.current;
    let view;
    try { view = await api("/v1/agent/sessions/" + id); } catch (error) {
      // Transferred away, or taken by someone else while we looked: leave it, without alarm.
      if (error.status === 403 || error.status === 404) return leaveSession("该会话已不由您负责，已从工作区移出");
      return handle(error);
    }
    if (id !== state.current) return;  // the agent moved on meanwhile
    state.view = view;
    renderView(view);
  }

  // Back to the empty work area (after a transfer, or when the session is no longer ours).
  function leaveSession(message) {
    state.current = null;
    state.view = null;
    $("session-body").hidden = true;
    $("session-empty").hidden = false;
    window.DeskTranscript.reset(null);
    $("transfer-panel").hidden = true;
    window.DeskContext.reset();
    for (const card of document.querySelectorAll(".card--current")) card.classList.remove("card--current");
    if (message) notice(message);
  }

  function renderView(view) {
    $("session-empty").hidden = true;
    $("session-body").hidden = false;
    const ticket = view.handoff || {};
    $("session-title").textContent = "会话 #" + view.session.id + " · " + label("channel", view.session.channel) +
      (view.customer ? " · " + view.customer.name : " · 未绑定客户");
    $("session-meta").textContent = [label("reason", ticket.reason), label("status", ticket.status),
      ticket.agent ? "负责客服：" + ticket.agent.display_name : ""].filter(Boolean).join(" · ");
    const queued = ticket.status === "queued";
    $("accept").hidden = !queued;
    for (const id of ["transfer", "release", "close"]) $(id).hidden = !view.can_write;
    if (!view.can_write) $("transfer-panel").hidden = true;
    $("composer").hidden = !view.can_write;
    window.DeskTranscript.render(view);
    window.DeskContext.render(view, setSlot);
  }

  async function act(path, body, done) {
    try {
      const result = await api("/v1/agent/sessions/" + state.current + path, { method: "POST", body });
      notice(done);
      await Promise.all([loadQueue(), loadView()]);
      return result;
    } catch (error) { handle(error); }
  }

  $("accept").addEventListener("click", () => act("/accept", undefined, "已接入"));
  $("release").addEventListener("click", () => act("/release", undefined, "已转回机器人"));
  $("close").addEventListener("click", () => act("/close", undefined, "会话已结束，已邀请客户评分"));
  // 转接: pick a colleague, say what it is about (a note only agents read), confirm.
  $("transfer").addEventListener("click", () => {
    const panel = $("transfer-panel");
    panel.hidden = !panel.hidden;
    $("transfer").setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) $("transfer-to").focus();
  });
  $("transfer-cancel").addEventListener("click", () => { $("transfer-panel").hidden = true; });
  $("transfer-panel").addEventListener("submit", async (event) => {
    event.preventDefault();
    const to = $("transfer-to").value;
    if (!to) return notice("请选择接手的客服", true);
    const name = $("transfer-to").selectedOptions[0].dataset.name;
    const note = $("transfer-note").value.trim();
    try {
      await api("/v1/agent/sessions/" + state.current + "/transfer", { method: "POST", body: { to, note: note || null } });
    } catch (error) { return handle(error); }
    $("transfer-note").value = "";
    leaveSession("已转接给客服" + name + "，该会话已移交");  // it is theirs now: nothing left to do here
    loadQueue();
  });

  async function setSlot(name, value) {
    const done = await act("/slots", { slots: { [name]: value }, resolve_failed_step: true },
      "已修改：转回机器人后，客户将重新核对并确认");
    if (!done) return;
    for (const id of ["slot-name", "slot-value"]) if ($(id)) $(id).value = "";
    window.DeskContext.render(state.view, setSlot);  // fresh form: the next missing slot
  }

  // The composer writes to the customer, or (内部备注) a note only agents read.
  function setMode(mode) {
    $("composer").dataset.mode = mode;
    $("mode-reply").setAttribute("aria-selected", String(mode === "reply"));
    $("mode-note").setAttribute("aria-selected", String(mode === "note"));
    $("reply").placeholder = mode === "note" ? "内部备注：仅客服可见，客户看不到" : "输入回复";
    $("send").textContent = mode === "note" ? "添加备注" : "发送";
  }

  $("mode-reply").addEventListener("click", () => { setMode("reply"); $("reply").focus(); });
  $("mode-note").addEventListener("click", () => { setMode("note"); $("reply").focus(); });

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply").value.trim();
    if (!text) return;
    const note = $("composer").dataset.mode === "note";
    try {
      const result = await api("/v1/agent/sessions/" + state.current + (note ? "/notes" : "/messages"),
        { method: "POST", body: { text } });
      $("reply").value = "";
      if (note) window.DeskTranscript.addNote(result.note); else window.DeskTranscript.addLine(result.message);
    } catch (error) { handle(error); }
  });

  // While the agent writes to the customer, their page shows 客服…正在输入 (one sign every 3 s at most).
  let typingSignAt = 0;
  $("reply").addEventListener("input", () => {
    if ($("composer").dataset.mode === "note" || !state.current || !$("reply").value.trim()) return;
    if (Date.now() - typingSignAt < 3000) return;
    typingSignAt = Date.now();
    api("/v1/agent/sessions/" + state.current + "/typing", { method: "POST" }).catch(() => {});
  });

  $("reply").addEventListener("keydown", (event) => {
    if (window.DeskCanned.handleKey(event)) return;  // the quick-reply list is open and took the key
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });

  // --- quick replies (agent-canned.js) ---------------------------------------------------------
  async function loadCanned() {
    try { await window.DeskCanned.load(); } catch (error) { handle(error); }
  }

  $("manage-canned").addEventListener("click", () => {
    $("history").hidden = true;
    $("session-body").hidden = true;
    $("session-empty").hidden = true;
    $("canned-admin").hidden = false;
  });
  // --- 历史会话: search past conversations (agent-history.js) -----------------------------------------
  window.DeskHistory.init({ openSession, handle, me: () => state.me, leave: () => leaveSession(),
    close: () => { $("history").hidden = true; $("session-empty").hidden = false; } });
  $("open-history").addEventListener("click", () => { leaveSession(); window.DeskHistory.show(); });

  $("canned-done").addEventListener("click", () => {
    $("canned-admin").hidden = true;
    if (state.view) $("session-body").hidden = false; else $("session-empty").hidden = false;
  });
  // --- messages to the agent ---------------------------------------------------------------------
  function notice(text, isError) {
    const node = $("notice");
    node.textContent = text || "";
    node.classList.toggle("notice--error", Boolean(isError));
    later("notice", () => { node.textContent = ""; }, 4000);
  }

  function handle(error) {
    if (error.status === 401) return logout("登录已过期，请重新登录");
    notice(error.message, true);
  }

  // Once a second: the bank-time clock in the top bar and the waits on the cards.
  function tick() {
    $("clock").textContent = "北京时间 " + time(new Date().toISOString());
    const elapsed = state.queueAt ? Math.floor((performance.now() - state.queueAt) / 1000) : 0;
    for (const node of document.querySelectorAll(".card__wait")) showWait(node, elapsed);
  }

  tick();
  setInterval(tick, 1000);
  window.DeskCanned.init(handle);
  setInterval(() => { if (auth.token && state.me) loadQueue(); }, 20000);  // safety net for a lost stream
  if (auth.token) start();
})();
