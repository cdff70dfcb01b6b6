// Web chat page: sends with Enter, renders the transcript from /v1/chat/history so bot and
// agent replies (which can arrive later) appear the same way, and keeps the user id.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const statusLine = document.getElementById("status");
  const POLL_MS = 3000;
  const MODE_LABEL = { bot: "在线", queued: "排队等待人工客服", agent: "人工客服服务中" };

  const userId = loadUserId();
  let lastId = 0;
  let syncing = null;
  const pending = [];  // user bubbles shown before the server confirmed them

  function loadUserId() {
    let id = localStorage.getItem("chatbot.userId");
    if (!id) {
      const random = crypto.getRandomValues(new Uint32Array(2));
      id = "web-" + Array.from(random, (n) => n.toString(36)).join("");
      localStorage.setItem("chatbot.userId", id);
    }
    return id;
  }

  function bubble(sender, text, extraClass) {
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
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
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
    syncing = (async () => {
      try {
        const url = "/v1/chat/history?user_id=" + encodeURIComponent(userId) + "&after=" + lastId;
        const response = await fetch(url);
        if (!response.ok) return;
        const data = await response.json();
        for (const message of data.messages) {
          render(message);
          lastId = Math.max(lastId, message.id);
        }
      } catch (_) {
        // Offline for a moment: the next poll catches up.
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  }

  async function send(text) {
    pending.push(bubble("user", text, "msg--pending"));
    const typing = bubble("bot", "正在输入…", "typing");
    sendButton.disabled = true;
    try {
      const response = await fetch("/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: userId, text: text, channel: "web", message_id: newMessageId() }),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : "发送失败");
      statusLine.textContent = MODE_LABEL[data.state.mode] || "在线";
    } catch (error) {
      const item = pending.pop();
      if (item) item.remove();
      bubble("bot", "消息未发送：" + error.message, "msg--error");
    } finally {
      typing.remove();
      sendButton.disabled = false;
      await sync();
    }
  }

  function newMessageId() {
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  sync().then(() => {
    if (lastId === 0) bubble("bot", "您好！我是示例银行智能客服，请问有什么可以帮您？");
  });
  setInterval(sync, POLL_MS);
  input.focus();
})();
