// Web chat page: sends with Enter and keeps the identity: a random user id and the user
// token its first message earned (sent as a Bearer header, never in a URL). A 401 means the
// identity is gone: the page starts a fresh one. 退出 unbinds the web identity on the server
// (POST /v1/chat/logout) and forgets it here: transcript, user id and token.
// The bot's answer to a message is drawn from POST /v1/chat's reply items (buttons, cards,
// tables, links: docs/rich_replies.md, chat-rich.js); /v1/chat/history stays the record:
// its lines confirm what was drawn (same text) and bring what arrives later (agents,
// notices). Live: /v1/chat/events (read with fetch, see sse.js) announces agent messages,
// queue place and mode changes; the history is polled when the stream is down.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const sendButton = $("send");
  const logoutButton = $("logout");
  const logoutSheet = $("logout-sheet");
  const view = window.ChatView.create(log, $("new-pill"));
  const desk = window.ChatDesk.create({
    status: $("status"), banner: $("banner"), bannerText: $("banner-text"), cancelWait: $("cancel-wait"),
    view: view, send: (text) => send(text),
  });
  const POLL_MS = 3000;          // without a live stream
  const LIVE_POLL_MS = 15000;    // with one: only a safety net
  const WELCOME = {
    type: "quick_replies", text: "您好！我是示例银行智能客服，请问有什么可以帮您？",
    options: ["查余额", "查明细", "转账", "挂失", "信用卡账单", "理财产品", "转人工"].map((w) => ({ label: w, send: w })),
  };
  // What the engine says when a web binding lapsed after inactivity (chatbot/engine.py).
  const LAPSED = /账户绑定已失效/;
  const REBIND = "验证身份";

  const IDENTITY_KEY = "chatbot.identity";
  let identity = loadIdentity();
  let stream = null;
  let lastId = 0;
  let lastSync = 0;
  let syncing = null;
  let sending = 0;
  let live = false;
  // Lines drawn before the transcript confirmed them: the customer's own (pending) and the
  // bot's reply items. A transcript line takes the first of its sender (bot: same text).
  let unconfirmed = [];
  const hooks = { send: (text) => send(text), feedback: postFeedback, numbered: true };

  function loadIdentity() {
    try {
      const saved = JSON.parse(localStorage.getItem(IDENTITY_KEY) || "null");
      if (saved && saved.userId) return saved;
    } catch (_) { /* unreadable: start afresh */ }
    return freshIdentity();
  }

  function freshIdentity() {
    localStorage.removeItem("chatbot.userId");  // the tokenless id of earlier versions
    const random = crypto.getRandomValues(new Uint32Array(4));
    const fresh = { userId: "web-" + Array.from(random, (n) => n.toString(36)).join(""), token: null };
    localStorage.setItem(IDENTITY_KEY, JSON.stringify(fresh));
    return fresh;
  }

  function keepToken(token) {
    identity.token = token;
    localStorage.setItem(IDENTITY_KEY, JSON.stringify(identity));
    logoutButton.hidden = false;
    listen();
  }

  function authHeaders() {
    return identity.token ? { "Authorization": "Bearer " + identity.token } : {};
  }

  // Forget the identity and everything shown of it; the next message claims a new one.
  // Used when the identity was refused (another service secret, a cleared database) and on 退出.
  function forgetIdentity() {
    if (stream) stream.stop();
    stream = null;
    localStorage.removeItem(IDENTITY_KEY);
    identity = freshIdentity();
    lastId = 0;
    unconfirmed = [];
    view.clear();
    desk.reset();
    logoutButton.hidden = true;
  }

  // --- drawing -------------------------------------------------------------------------------
  // Any later message makes the buttons and chips of earlier ones stale.
  function dropStale() {
    for (const old of log.querySelectorAll(".choices, .chips, .lapsed__again")) old.remove();
  }

  function main(item) { return item.querySelector(".msg__main"); }

  function userLine(text, at) {
    const item = view.message({ sender: "user", at: at });
    main(item).appendChild(document.createElement("div")).className = "msg__bubble";
    item.querySelector(".msg__bubble").textContent = text;
    return item;
  }

  function botLine(sender, reply, at, agent) {
    const item = view.message({ sender: sender, at: at, agent: agent });
    fillLine(item, reply);
    return item;
  }

  function fillLine(item, reply) {
    const box = main(item);
    for (const old of box.querySelectorAll(":scope > :not(.msg__meta)")) old.remove();
    window.ChatRich.fill(box, reply, hooks);
    if (LAPSED.test(reply.text || "")) markLapsed(item);
  }

  // The binding lapsed after inactivity: said plainly, with a way to verify again.
  function markLapsed(item) {
    item.classList.add("msg--lapsed");
    const bubble = item.querySelector(".msg__bubble");
    if (bubble && !bubble.querySelector(".lapsed__title")) {
      const title = document.createElement("strong");
      title.className = "lapsed__title";
      title.textContent = "身份验证已过期";
      bubble.prepend(title);
    }
  }

  function offerRebind(item) {
    const row = document.createElement("div");
    row.className = "lapsed__again";
    const again = document.createElement("button");
    again.type = "button";
    again.className = "choice";
    again.textContent = "重新验证身份（获取新验证码）";
    again.addEventListener("click", () => { row.remove(); send(REBIND); });
    row.appendChild(again);
    item.querySelector(".msg__bubble").appendChild(row);
  }

  function typingLine(agent) {
    const item = view.message({ sender: agent ? "agent" : "bot", agent: agent, time: false, className: "typing" });
    const bubble = main(item).appendChild(document.createElement("div"));
    bubble.className = "msg__bubble";
    bubble.textContent = "正在输入…";
    return view.append(item, { follow: true, counts: false });
  }

  // The serving agent is writing: "正在输入…" under their name until their line arrives, or for
  // a few seconds after the last sign (the console sends one every few seconds while typing).
  let agentTyping = null;
  let agentTypingTimer = 0;
  function showAgentTyping(agent) {
    if (!agentTyping) agentTyping = typingLine(agent);
    clearTimeout(agentTypingTimer);
    agentTypingTimer = setTimeout(hideAgentTyping, 6000);
  }
  function hideAgentTyping() {
    clearTimeout(agentTypingTimer);
    if (agentTyping) agentTyping.remove();
    agentTyping = null;
  }

  // The reply items of one answer. A transcript line a poll already drew (the answer came
  // slower than the poll) is redrawn in place; the others are drawn now and confirmed later.
  function placeReplies(items, sinceId) {
    let last = null;
    const placed = [];
    const drawn = Array.from(log.querySelectorAll(".msg--bot[data-id]"))
      .filter((item) => Number(item.dataset.id) > sinceId && !item.dataset.rich);
    for (const reply of items || []) {
      if (!reply || typeof reply !== "object") continue;
      const text = String(reply.text || "");
      if (reply.type === "feedback") {
        if (text) unconfirmed.push({ sender: "bot", text: text, item: null });
        const host = last || drawn[drawn.length - 1];
        if (host) window.ChatRich.fill(main(host), reply, hooks);
        continue;
      }
      const index = drawn.findIndex((item) => item.dataset.said === text);
      if (index >= 0) {
        last = drawn.splice(index, 1)[0];
        fillLine(last, reply);
      } else {
        last = botLine("bot", reply, new Date());
        unconfirmed.push({ sender: "bot", text: text, item: last });
        view.append(last, { follow: true });
      }
      last.dataset.rich = "1";
      last.dataset.said = text;
      placed.push(last);
    }
    return placed;
  }

  function takeUnconfirmed(test) {
    const index = unconfirmed.findIndex(test);
    return index < 0 ? null : unconfirmed.splice(index, 1)[0];
  }

  // A transcript line: confirms a line drawn already, or is drawn now.
  function place(message) {
    if (!message.text) return;
    const mine = message.sender === "user";
    const known = takeUnconfirmed((e) => e.sender === message.sender && (mine || e.text === message.text));
    if (known) {
      if (!known.item) return;
      if (mine) known.item.querySelector(".msg__bubble").textContent = message.text;  // as stored (masked)
      known.item.classList.remove("msg--pending");
      known.item.dataset.id = String(message.id);
      if (view.setTime(known.item, message.at)) view.days();
      return;
    }
    dropStale();
    // A bot line comes with the reply item it was (?rich=true): after a reload the cards,
    // tables and links are drawn again; its buttons stay only while it is the latest line.
    const drawn = message.item && typeof message.item === "object" && message.item.text === message.text
      ? message.item : { type: "text", text: message.text };
    const item = mine ? userLine(message.text, message.at)
      : botLine(message.sender, drawn, message.at, message.agent);
    item.dataset.id = String(message.id);
    item.dataset.said = message.text;
    view.append(item, { counts: !mine });
  }

  async function sync() {
    if (syncing) return syncing;
    if (!identity.token) return Promise.resolve();  // nothing to read before the first message
    const first = lastId === 0;
    syncing = (async () => {
      try {
        const response = await fetch("/v1/chat/history?rich=true&after=" + lastId, { headers: authHeaders() });
        if (response.status === 401) { forgetIdentity(); return; }
        if (!response.ok) return;
        const data = await response.json();
        for (const message of data.messages) {
          if (message.id <= lastId) continue;
          place(message);
          lastId = Math.max(lastId, message.id);
        }
        if (first) view.toEnd();
        lastSync = Date.now();
      } catch (_) {
        // Offline for a moment: the next poll catches up.
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  }

  async function loadStatus() {
    try {
      if (!identity.token) return;
      const response = await fetch("/v1/chat/status", { headers: authHeaders() });
      if (!response.ok) return;
      const status = await response.json();
      desk.setMode(status.mode, status);
      if (status.rating_pending) desk.showRating();
    } catch (_) { /* the stream or the next send tells us */ }
  }

  function listen() {
    if (stream || !identity.token || !window.ReadableStream) return;
    stream = window.SseStream.open("/v1/chat/events", () => identity.token, onEvent, (state) => {
      live = state === "live";
    });
  }

  function onEvent(type, data) {
    if (type === "ready") { sync(); loadStatus(); }
    else if (type === "message") { hideAgentTyping(); sync(); }
    else if (type === "typing") showAgentTyping(data.agent);
    else if (type === "position") desk.setMode("queued", data);
    else if (type === "mode") {
      desk.setMode(data.mode, data);
      sync().then(() => { if (data.rating_requested) desk.showRating(); });
    } else if (type === "unauthorized") { stream = null; forgetIdentity(); }
  }

  // --- sending -----------------------------------------------------------------------------
  async function send(text) {
    desk.hideRating();  // the server asks once: any message answers or ends the question
    dropStale();
    const sinceId = lastId;
    let mine = pendingLine(text);
    const typing = typingLine();
    sendButton.disabled = true;
    sending += 1;
    try {
      let response = await post(text);
      if (response.status === 401 && identity.token) {
        forgetIdentity();  // then send it again as a new visitor
        mine = pendingLine(text);
        view.append(typing, { follow: true, counts: false });
        response = await post(text);
      }
      const data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : "发送失败");
      if (data.user_token) keepToken(data.user_token);
      mine.classList.remove("msg--pending");
      typing.remove();
      const placed = placeReplies(data.replies, sinceId);
      const state = data.state || {};
      const lapsed = placed.find((item) => item.classList.contains("msg--lapsed"));
      if (lapsed && !state.active_flow) offerRebind(lapsed);  // else the answer already asks
      if (state.mode && state.mode !== desk.mode()) desk.setMode(state.mode);
      if (state.mode === "queued") loadStatus();  // place and wait for the banner
    } catch (error) {
      takeUnconfirmed((e) => e.item === mine);
      mine.remove();
      const failed = botLine("bot", { type: "text", text: "消息未发送：" + error.message }, new Date());
      failed.classList.add("msg--error");
      view.append(failed, { follow: true });
      if (!composer.value() && text !== "取消") composer.restore(text);  // to shorten and resend
    } finally {
      typing.remove();
      sendButton.disabled = false;
      sending -= 1;
      await sync();
    }
  }

  function pendingLine(text) {
    const item = userLine(text, new Date());
    item.classList.add("msg--pending");
    unconfirmed.push({ sender: "user", text: text, item: item });
    return view.append(item, { follow: true });
  }

  function post(text) {
    return fetch("/v1/chat", {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, authHeaders()),
      body: JSON.stringify({ user_id: identity.userId, text: text, channel: "web", message_id: newMessageId(), rich: true }),
    });
  }

  function newMessageId() {
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  }

  // body: {feedback: key, helpful} (or {turn, helpful} for a `feedback` item).
  async function postFeedback(body) {
    const response = await fetch("/v1/chat/feedback", {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, authHeaders()),
      body: JSON.stringify(Object.assign({ user_id: identity.userId }, body)),
    });
    return response.ok;
  }

  // --- 退出 ------------------------------------------------------------------------------------
  function openLogout() { logoutSheet.hidden = false; $("logout-confirm").focus(); }

  async function logout() {
    logoutSheet.hidden = true;
    if (identity.token) {
      try {
        await fetch("/v1/chat/logout", { method: "POST", headers: authHeaders() });
      } catch (_) { /* offline: forgetting here still ends it on this device */ }
    }
    forgetIdentity();
    const notice = botLine("bot", { type: "text", text: "您已安全退出，本页的聊天记录已清除。如需办理账户业务，请重新验证身份。" }, new Date());
    notice.classList.add("msg--notice");
    view.append(notice, { follow: true });
    welcome();
  }

  function welcome() {
    view.append(botLine("bot", WELCOME, new Date()), { follow: true });
  }

  // --- composer ------------------------------------------------------------------------------
  const composer = window.ChatComposer.attach({
    form: $("composer"), input: $("input"), counter: $("counter"),
    onSend: (text) => send(text),
  });

  logoutButton.addEventListener("click", openLogout);
  $("logout-cancel").addEventListener("click", () => { logoutSheet.hidden = true; });
  $("logout-confirm").addEventListener("click", logout);
  logoutButton.hidden = !identity.token;

  sync().then(() => { if (lastId === 0) welcome(); });
  loadStatus();
  listen();
  setInterval(() => {
    if (sending) return;  // the answer's own sync follows it
    if (!live || Date.now() - lastSync >= LIVE_POLL_MS) sync();
  }, POLL_MS);
  composer.focus();
})();
