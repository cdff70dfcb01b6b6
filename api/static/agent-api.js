// Agent console plumbing: the token, JSON calls with Bearer auth, the live event stream
// (server-sent events read with fetch, because EventSource cannot send a header), labels.
(function () {
  "use strict";
  const TOKEN_KEY = "chatbot.staffToken";

  const labels = {
    reason: { human_request: "主动转人工", call_back: "要求回电", complaint: "投诉", not_understood: "连续未理解",
              flow_failed: "业务办理失败", fraud_risk: "风险核实" },
    sender: { user: "客户", bot: "机器人", agent: "客服" },
    status: { queued: "排队中", active: "服务中", released: "已转回机器人", closed: "已结束", cancelled: "已取消" },
    channel: { web: "网页", wechat: "微信", terminal: "终端" },
    flow: { "transfer.create": "转账", "account.report_loss": "挂失", "account.cancel_loss": "解挂",
            "account.bind": "绑定身份", "account.balance": "查余额", "account.transactions": "查明细",
            "card.activate": "激活信用卡", "card.apply": "申请信用卡", "loan.apply": "申请贷款",
            "wealth.buy": "购买理财", "card.repay": "信用卡还款" },
  };

  function label(kind, value) {
    return (labels[kind] && labels[kind][value]) || value || "";
  }

  function time(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });  // bank time
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + " 秒";
    return Math.floor(seconds / 60) + " 分 " + (seconds % 60) + " 秒";
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

  window.Desk = { api, auth, openStream, ApiError, label, time, duration, el };
})();
