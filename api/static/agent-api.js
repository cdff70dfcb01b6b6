// Agent console plumbing: the token, JSON calls with Bearer auth, the live event stream
// (server-sent events read with fetch, because EventSource cannot send a header), labels.
(function () {
  "use strict";
  const TOKEN_KEY = "chatbot.staffToken";

  // Chinese names of every code (GET /v1/agent/labels, chatbot/handoff/labels.py): loaded once
  // after login; an unknown code shows as its kind's fallback (其他业务), never as the code.
  let table = {};
  let fallback = {};

  async function loadLabels() {
    const data = await api("/v1/agent/labels");
    table = data.labels;
    fallback = data.fallback;
  }

  function label(kind, value) {
    if (value === null || value === undefined || value === "") return "";
    return (table[kind] && table[kind][value]) || fallback[kind] || "其他";
  }

  // Every time on the console is bank time (Beijing), whatever the agent's computer says.
  const BANK_TIME = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

  function parts(iso) {
    const out = {};
    for (const p of BANK_TIME.formatToParts(new Date(iso))) out[p.type] = p.value;
    return out;
  }

  function time(iso) {  // 10:05:09
    if (!iso) return "";
    const p = parts(iso);
    return p.hour + ":" + p.minute + ":" + p.second;
  }

  function dateTime(iso) {  // 2026-11-24 10:05
    if (!iso) return "";
    const p = parts(iso);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  function stamp(iso) {  // today: 10:05:09; another day: 11-24 10:05:09
    if (!iso) return "";
    const p = parts(iso);
    const today = parts(new Date().toISOString());
    const day = p.year + p.month + p.day === today.year + today.month + today.day ? "" : p.month + "-" + p.day + " ";
    return day + time(iso);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " 秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + " 分 " + (seconds % 60) + " 秒";
    return Math.floor(seconds / 3600) + " 小时 " + Math.floor((seconds % 3600) / 60) + " 分";
  }

  const auth = {
    get token() { return sessionStorage.getItem(TOKEN_KEY); },
    set token(value) {
      if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
    },
  };

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function api(path, options) {
    const opts = Object.assign({ method: "GET" }, options || {});
    const headers = { "Accept": "application/json" };
    if (auth.token) headers["Authorization"] = "Bearer " + auth.token;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.body);
    }
    const response = await fetch(path, Object.assign(opts, { headers }));
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      throw new ApiError(response.status, error.code || "http_" + response.status, error.message || "请求失败");
    }
    return data;
  }

  // The live stream (api/static/sse.js) with this console's staff token.
  function openStream(path, onEvent, onState) {
    return window.SseStream.open(path, () => auth.token, onEvent, onState);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  window.Desk = { api, auth, openStream, ApiError, loadLabels, label, time, dateTime, stamp, duration, el };
})();
