// 历史会话: search past conversations (GET /v1/agent/conversations) by words, customer, Beijing
// days, channel, how it ended, reason, rating and agent; the chosen filters show as chips (× removes
// one), results name every code in Chinese and mark the words found; a result opens the transcript
// as the session view does, with a way back to the results.
(function () {
  "use strict";
  const { api, label, dateTime, el } = window.Desk;
  const $ = (id) => document.getElementById(id);
  const CODES = {
    channel: ["web", "wechat"],
    status: ["closed", "released", "cancelled"],
    reason: ["human_request", "call_back", "complaint", "not_understood", "flow_failed", "fraud_risk"],
  };
  const FIELDS = [  // [query name, element id, chip title]
    ["q", "history-q", "内容"], ["customer", "history-customer", "客户"], ["from", "history-from", "从"],
    ["to", "history-to", "至"], ["channel", "history-channel", "渠道"], ["status", "history-status", "结束方式"],
    ["reason", "history-reason", "原因"], ["rating", "history-rating", "评分"], ["agent", "history-agent", "客服"],
  ];
  const state = { deps: null, offset: 0, words: [], filled: false };

  function init(deps) {
    state.deps = deps;
    $("history-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
    for (const id of ["history-channel", "history-status", "history-reason", "history-rating", "history-agent",
      "history-from", "history-to"]) $(id).addEventListener("change", () => search());
    $("history-more").addEventListener("click", () => search(state.offset));
    $("history-done").addEventListener("click", () => deps.close());
    $("history-back").addEventListener("click", () => { deps.leave(); show(); });
  }

  function options(id, first, pairs) {
    const select = $(id);
    select.replaceChildren();
    for (const [value, text] of [["", first], ...pairs]) {
      const option = el("option", "", text);
      option.value = value;
      select.appendChild(option);
    }
  }

  // The selects are filled once labels are loaded; the agent list (admins only) each time.
  async function fill() {
    if (!state.filled) {
      options("history-channel", "全部渠道", CODES.channel.map((c) => [c, label("channel", c)]));
      options("history-status", "全部结束方式", CODES.status.map((c) => [c, label("status", c)]));
      options("history-reason", "全部原因", CODES.reason.map((c) => [c, label("reason", c)]));
      options("history-rating", "全部评分", [5, 4, 3, 2, 1].map((n) => [String(n), n + " 分"]));
      state.filled = true;
    }
    const admin = state.deps.me().role === "admin";
    $("history-agent").hidden = !admin;
    $("history-scope").textContent = admin ? "全部客服的会话" : "您服务过的会话";
    if (admin && $("history-agent").options.length <= 1) {
      try {
        const data = await api("/v1/agent/agents");
        options("history-agent", "全部客服", data.agents.map((a) => [a.username, a.display_name]));
      } catch (error) { state.deps.handle(error); }
    }
  }

  async function show() {
    for (const id of ["session-body", "session-empty", "canned-admin"]) $(id).hidden = true;
    $("history").hidden = false;
    await fill();
    if (!$("history-results").children.length) await search();
  }

  function params() {
    const query = new URLSearchParams();
    for (const [name, id] of FIELDS) {
      const value = $(id).value.trim();
      if (value && !$(id).hidden) query.set(name, value);
    }
    return query;
  }

  async function search(offset) {
    const query = params();
    query.set("limit", "20");
    if (offset) query.set("offset", String(offset));
    let data;
    try { data = await api("/v1/agent/conversations?" + query.toString()); } catch (error) {
      if (error.status === 401) return state.deps.handle(error);
      $("history-summary").textContent = "筛选条件有误：" + (/[\u4e00-\u9fff]/.test(error.message) ? error.message :
        "日期请写成 2026-11-01（北京时间，最多 92 天），每个搜索词最多 20 个字");
      $("history-summary").classList.add("warn");
      return;
    }
    $("history-summary").classList.remove("warn");
    state.words = data.words;
    state.offset = data.next_offset || 0;
    const list = $("history-results");
    if (!offset) list.replaceChildren();
    for (const item of data.results) list.appendChild(result(item));
    const count = list.querySelectorAll(".hit").length;
    $("history-summary").textContent = "北京时间 " + data.from + " 至 " + data.to + " · " +
      (count ? "已显示 " + count + " 条" + (data.next_offset ? "，还有更多" : "") : "没有找到符合条件的会话");
    $("history-more").hidden = !data.next_offset;
    chips();
  }

  // One chip per chosen filter; × clears it and searches again.
  function chips() {
    const box = $("history-chips");
    box.replaceChildren();
    for (const [, id, title] of FIELDS) {
      const input = $(id);
      if (!input.value.trim() || input.hidden) continue;
      const text = input.tagName === "SELECT" ? input.selectedOptions[0].textContent : input.value.trim();
      const chip = el("button", "chip", title + "：" + text + " ×");
      chip.type = "button";
      chip.setAttribute("aria-label", "去掉条件 " + title + "：" + text);
      chip.addEventListener("click", () => { input.value = ""; search(); });
      box.appendChild(chip);
    }
  }

  function result(item) {
    const li = el("li", "hit");
    li.dataset.session = item.session_id;
    const top = el("div", "hit__top");
    top.append(el("span", "card__name", item.customer || label("channel", item.channel) + "访客"),
      el("span", "hit__when", dateTime(item.ended_at)));
    const mid = el("div", "hit__mid");
    mid.append(el("span", "badge badge--" + item.reason, label("reason", item.reason)),
      el("span", "tag", label("status", item.status)));
    if (item.rating) mid.appendChild(el("span", "tag tag--rating", "评分 " + item.rating + " 分"));
    if (item.agent) mid.appendChild(el("span", "hit__agent", "客服" + item.agent));
    mid.appendChild(el("span", "hit__agent", label("channel", item.channel) + " · " + item.messages + " 条消息"));
    li.append(top, mid);
    if (item.match) {
      const line = el("div", "hit__text");
      line.append(el("span", "hit__who", label("sender", item.match.sender) + "："));
      marked(line, item.match.text);
      li.appendChild(line);
    }
    li.addEventListener("click", () => open(item.session_id));
    return li;
  }

  // The text with each searched word wrapped in <mark> (text nodes only: nothing is parsed as HTML).
  function marked(node, text) {
    const words = state.words.filter(Boolean);
    if (!words.length) return node.append(text);
    const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const pattern = new RegExp("(" + escaped.join("|") + ")", "gi");
    for (const [i, part] of text.split(pattern).entries()) {
      if (!part) continue;
      node.append(i % 2 ? el("mark", "", part) : part);
    }
  }

  async function open(sessionId) {
    $("history").hidden = true;
    await state.deps.openSession(sessionId);
    $("history-back").hidden = false;
  }

  window.DeskHistory = { init, show };
})();
