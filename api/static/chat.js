// Web chat page: sends with Enter, renders the transcript from /v1/chat/history so bot and
// agent replies (which can arrive later) appear the same way, and keeps the identity: a
// random user id and the user token its first message earned (sent as a Bearer header,
// never in a URL). A 401 means the identity is gone: the page starts a fresh one.
// Live: /v1/chat/events (read with fetch, see sse.js) announces agent messages, queue place
// and mode changes; the history endpoint stays the record (polled when the stream is down).
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const statusLine = document.getElementById("status");
  const banner = document.getElementById("banner");
  const bannerText = document.getElementById("banner-text");
  const cancelWait = document.getElementById("cancel-wait");
  const counter = document.getElementById("counter");
  // The server's limit (CHATBOT_MAX_TEXT_LENGTH). The box does not cut a longer paste: the
  // counter turns red, and a message sent anyway gets the server's own error, text kept.
  const MAX_LENGTH = Number(input.dataset.maxLength) || 500;
  const NEAR_LIMIT = Math.floor(MAX_LENGTH * 0.9);
  const POLL_MS = 3000;          // without a live stream
  const LIVE_POLL_MS = 15000;    // with one: only a safety net
  const MODE_LABEL = { bot: "在线", queued: "排队等待人工客服", agent: "人工客服服务中" };

  const IDENTITY_KEY = "chatbot.identity";
  let identity = loadIdentity();
  let stream = null;
  let lastId = 0;
  let lastSync = 0;
  let syncing = null;
  let live = false;
  let mode = "bot";
  let ratingItem = null;
  const pending = [];  // user bubbles shown before the server confirmed them

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
    listen();
  }

  function authHeaders() {
    return identity.token ? { "Authorization": "Bearer " + identity.token } : {};
  }

  // The identity was refused (a token of another service secret, a cleared database):
  // forget it and the transcript shown; the next message claims a new one.
  function identityLost() {
    if (stream) stream.stop();
    stream = null;
    identity = freshIdentity();
    lastId = 0;
    log.textContent = "";
    pending.length = 0;
  }

  function bubble(sender, text, extraClass) {
    if (extraClass !== "typing") dropChoices();  // any later message makes an old list stale
    const item = document.createElement("li");
    item.className = "msg msg--" + sender + (extraClass ? " " + extraClass : "");
    const body = document.createElement("div");
    body.className = "msg__bubble";
    if (sender === "agent") {
      const who = document.createElement("span");
      who.className = "msg__who";
      who.textContent = "人工客服";
      body.appendChild(who);
    }
    body.appendChild(document.createTextNode(text));
    if (sender === "bot") addChoices(body, text);
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // A numbered list the bot asks to answer by number gets one button per option. A question
  // ("您是想…，还是…？", "您是想问：") is answered with the option's words, which no open form can
  // take for an amount; a flow's own list ("请问分期哪一项？") with its number, as typing would.
  // Only a list with nothing after it stays tappable.
  const OPTION_LINE = /^(\d{1,2})\. (.+)$/;
  function dropChoices() {
    for (const old of log.querySelectorAll(".choices")) old.remove();
  }

  function addChoices(body, text) {
    if (!/回复序号/.test(text)) return;
    const options = text.split("\n").map((line) => OPTION_LINE.exec(line)).filter(Boolean);
    if (options.length < 2) return;
    const inWords = /^您是想/.test(text);
    const row = document.createElement("div");
    row.className = "choices";
    for (const [, number, label] of options) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = label;
      button.addEventListener("click", () => { row.remove(); send(inWords ? label : number); });
      row.appendChild(button);
    }
    body.appendChild(row);
  }

  function render(message) {
    if (message.sender === "user" && pending.length) {
      const item = pending.shift();
      item.classList.remove("msg--pending");
      item.querySelector(".msg__bubble").textContent = message.text;  // the stored (masked) text
      return;
    }
    bubble(message.sender, message.text);
  }

  async function sync() {
    if (syncing) return syncing;
    if (!identity.token) return Promise.resolve();  // nothing to read before the first message
    syncing = (async () => {
      try {
        const response = await fetch("/v1/chat/history?after=" + lastId, { headers: authHeaders() });
        if (response.status === 401) { identityLost(); return; }
        if (!response.ok) return;
        const data = await response.json();
        for (const message of data.messages) {
          if (message.id <= lastId) continue;
          render(message);
          lastId = Math.max(lastId, message.id);
        }
        lastSync = Date.now();
      } catch (_) {
        // Offline for a moment: the next poll catches up.
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  }

  // --- queue, agent and rating state -------------------------------------------------------
  function setMode(next, detail) {
    mode = next || "bot";
    const agent = detail && detail.agent;
    statusLine.textContent = mode === "agent" && agent ? "客服" + agent + "服务中" : (MODE_LABEL[mode] || "在线");
    document.body.dataset.mode = mode;
    if (mode !== "queued") banner.hidden = true;
    if (mode === "queued") showQueue(detail || {});
  }

  // Queued is said as queued ("已接入" comes from the agent's acceptance); no made-up wait
  // when nobody is online; outside service hours the customer is asked for a message.
  function showQueue(spot) {
    banner.hidden = false;
    cancelWait.textContent = spot.message ? "不留言" : "取消排队";
    if (spot.message) {
      bannerText.textContent = "非人工服务时间 · 请直接留言，客服上班后回复您";
    } else if (!spot.position) {
      bannerText.textContent = "正在为您排队等候人工客服…";
    } else {
      bannerText.textContent = "排队等候人工客服 · 第 " + spot.position + " 位 · " + (spot.estimated_wait_minutes
        ? "预计等待约 " + spot.estimated_wait_minutes + " 分钟" : "暂无客服在线");
    }
  }

  function showRating() {
    if (ratingItem) return;
    ratingItem = document.createElement("li");
    ratingItem.className = "msg msg--rating";
    const body = document.createElement("div");
    body.className = "msg__bubble rating";
    const label = document.createElement("span");
    label.className = "rating__label";
    label.textContent = "请为本次人工服务打分";
    body.appendChild(label);
    const stars = document.createElement("div");
    stars.className = "rating__stars";
    for (let n = 1; n <= 5; n++) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "rating__star";
      button.dataset.score = String(n);
      button.textContent = n + " 分";
      button.addEventListener("click", () => { hideRating(); send(String(n)); });
      stars.appendChild(button);
    }
    body.appendChild(stars);
    ratingItem.appendChild(body);
    log.appendChild(ratingItem);
    log.scrollTop = log.scrollHeight;
  }

  function hideRating() {
    if (ratingItem) ratingItem.remove();
    ratingItem = null;
  }

  async function loadStatus() {
    try {
      if (!identity.token) return;
      const response = await fetch("/v1/chat/status", { headers: authHeaders() });
      if (!response.ok) return;
      const status = await response.json();
      setMode(status.mode, status);
      if (status.rating_pending) showRating();
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
    else if (type === "message") sync();
    else if (type === "position") setMode("queued", data);
    else if (type === "mode") {
      setMode(data.mode, data);
      sync().then(() => { if (data.rating_requested) showRating(); });
    } else if (type === "unauthorized") { stream = null; identityLost(); }
  }

  // --- sending -----------------------------------------------------------------------------
  async function send(text) {
    hideRating();  // the server asks once: any message answers or ends the question
    pending.push(bubble("user", text, "msg--pending"));
    const typing = bubble("bot", "正在输入…", "typing");
    sendButton.disabled = true;
    try {
      let response = await post(text);
      if (response.status === 401 && identity.token) {
        identityLost();  // then send it again as a new visitor
        pending.push(bubble("user", text, "msg--pending"));
        response = await post(text);
      }
      const data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : "发送失败");
      if (data.user_token) keepToken(data.user_token);
      if (data.state.mode !== mode) setMode(data.state.mode);
      if (data.state.mode === "queued") loadStatus();  // place and wait for the banner
    } catch (error) {
      const item = pending.pop();
      if (item) item.remove();
      bubble("bot", "消息未发送：" + error.message, "msg--error");
      if (!input.value && text !== "取消") { input.value = text; countInput(); }  // to shorten and resend
    } finally {
      typing.remove();
      sendButton.disabled = false;
      await sync();
    }
  }

  function post(text) {
    return fetch("/v1/chat", {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, authHeaders()),
      body: JSON.stringify({ user_id: identity.userId, text: text, channel: "web", message_id: newMessageId() }),
    });
  }

  function newMessageId() {
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  }

  // Characters as the server counts them (code points: an emoji is one).
  function countInput() {
    const used = Array.from(input.value.trim()).length;
    counter.textContent = used + "/" + MAX_LENGTH + (used > MAX_LENGTH ? "（超出 " + (used - MAX_LENGTH) + " 字）" : "");
    counter.classList.toggle("chat__counter--near", used >= NEAR_LIMIT && used <= MAX_LENGTH);
    counter.classList.toggle("chat__counter--over", used > MAX_LENGTH);
    input.classList.toggle("is-over", used > MAX_LENGTH);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    countInput();
    send(text);
  });

  input.addEventListener("input", countInput);

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  cancelWait.addEventListener("click", () => send("取消"));

  sync().then(() => {
    if (lastId === 0) bubble("bot", "您好！我是示例银行智能客服，请问有什么可以帮您？");
  });
  loadStatus();
  listen();
  setInterval(() => {
    if (!live || Date.now() - lastSync >= LIVE_POLL_MS) sync();
  }, POLL_MS);
  input.focus();
})();
