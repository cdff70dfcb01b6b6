// The right-hand panels of the console: what the bot understood, the (masked) customer,
// a stalled flow with the form to mark a step done, recent flows, earlier sessions.
(function () {
  "use strict";
  const { label, dateTime, el } = window.Desk;

  function clear(id) {
    const node = document.getElementById(id);
    node.replaceChildren();
    return node;
  }

  function none(node, text) {
    node.appendChild(el("p", "muted", text));
  }

  function kv(node, pairs) {
    const dl = el("dl", "kv");
    for (const [key, value] of pairs) {
      dl.appendChild(el("dt", "", key));
      dl.appendChild(el("dd", "", value === null || value === undefined || value === "" ? "—" : String(value)));
    }
    node.appendChild(dl);
  }

  function understanding(turns) {
    const node = clear("ctx-understanding");
    if (!turns.length) return none(node, "暂无记录");
    for (const turn of turns.slice(0, 6)) {
      const row = el("div", "turn");
      row.appendChild(el("div", "turn__text", turn.text));
      const meta = el("div", "turn__meta");
      meta.appendChild(el("span", "tag", turn.intent ? label("intent", turn.intent) : "未识别"));
      const confidence = turn.confidence === null ? "—" : Math.round(turn.confidence * 100) + "%";
      meta.appendChild(el("span", "turn__conf", "置信度 " + confidence));
      if (turn.outcome) meta.appendChild(el("span", "tag tag--outcome", label("outcome", turn.outcome)));
      for (const entity of turn.entities || []) {
        meta.appendChild(el("span", "tag tag--entity", entity.label + "：" + entity.text));
      }
      row.appendChild(meta);
      node.appendChild(row);
    }
  }

  function customer(info) {
    const node = clear("ctx-customer");
    if (!info) return none(node, "客户未绑定身份：不显示账户信息。");
    kv(node, [["姓名", info.name], ["证件号", info.id_number], ["手机号", info.phone]]);
    const table = el("table", "accounts");
    for (const a of info.accounts) {
      const tr = el("tr");
      tr.appendChild(el("td", "", a.name + (a.card ? " " + a.card : "")));
      tr.appendChild(el("td", "num", a.balance));
      tr.appendChild(el("td", a.status === "active" ? "" : "warn", a.card_status === "lost" ? "已挂失" :
        (a.status === "frozen" ? "冻结" : "正常")));
      table.appendChild(tr);
    }
    node.appendChild(table);
  }

  function flow(stalled, canWrite, onSetSlot) {
    // A live refresh must not wipe what the agent is typing into the form.
    const typed = ["slot-name", "slot-value"].map((id) => document.getElementById(id)).map((e) => e && e.value);
    const node = clear("ctx-flow");
    if (!stalled) return none(node, "没有进行中的业务流程");
    kv(node, [["业务", label("flow", stalled.active_flow)], ["当前步骤", stalled.step_label],
              ["失败步骤", stalled.failed_step_label],
              ["缺少信息", stalled.missing.map((m) => m.label).join("、")]]);
    node.appendChild(slotRows(stalled.slot_rows));
    if (stalled.risk_flags && stalled.risk_flags.length) {
      node.appendChild(el("p", "warn", "风险提示词：" + stalled.risk_flags.join("、")));
    }
    if (stalled.stalled) node.appendChild(el("p", "warn", "流程在“" + stalled.failed_step_label + "”一步停住了。"));
    if (!canWrite || !stalled.editable.length) return;
    node.appendChild(slotForm(stalled, onSetSlot));
    if (typed[0]) document.getElementById("slot-name").value = typed[0];
    if (typed[1]) document.getElementById("slot-value").value = typed[1];
  }

  // What the flow has collected, in words: 收款人 李娜（账号 **** 8888）, 金额 100.00 元.
  function slotRows(rows) {
    const box = el("div", "slots");
    box.appendChild(el("div", "slots__title", "已填信息"));
    if (!rows.length) box.appendChild(el("p", "muted", "暂无"));
    const dl = el("dl", "kv");
    for (const row of rows) {
      dl.appendChild(el("dt", "", row.label));
      dl.appendChild(el("dd", "", row.text));
    }
    box.appendChild(dl);
    return box;
  }

  function slotForm(stalled, onSetSlot) {
    const form = el("form", "slot-form");
    form.id = "slot-form";
    const name = el("select");
    name.id = "slot-name";
    name.setAttribute("aria-label", "要修改的信息");
    for (const slot of stalled.editable) {
      const option = el("option", "", slot.label);
      option.value = slot.name;
      name.appendChild(option);
    }
    name.value = (stalled.missing[0] || stalled.editable[0]).name;
    const value = el("input");
    value.id = "slot-value";
    value.placeholder = "新的值，如 2000";
    const button = el("button", "", "修改");
    button.type = "submit";
    form.append(name, value, button);
    form.appendChild(el("p", "muted", "修改会按客户输入同样校验；转回机器人后，客户需重新核对全部信息并确认。"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (name.value && value.value.trim()) onSetSlot(name.value, value.value.trim());
    });
    return form;
  }

  function flows(items) {
    const node = clear("ctx-flows");
    if (!items.length) return none(node, "暂无");
    for (const f of items) {
      const line = el("div", "ctx-line");
      line.append(label("flow", f.flow) + " · ");
      line.appendChild(el("span", "flow-status flow-status--" + f.status, label("flow_status", f.status)));
      line.append(" · " + dateTime(f.last_at));
      node.appendChild(line);
    }
  }

  function sessions(items) {
    const node = clear("ctx-sessions");
    if (!items.length) return none(node, "暂无");
    for (const s of items) {
      const handoffs = s.handoffs.map((h) => label("status", h.status) + (h.rating ? " " + h.rating + "分" : ""));
      const text = dateTime(s.created_at) + " · " + s.messages + " 条消息" +
        (handoffs.length ? " · 人工：" + handoffs.join("，") : "");
      node.appendChild(el("div", "ctx-line", text));
    }
  }

  function render(view, onSetSlot) {
    understanding(view.understanding);
    customer(view.customer);
    flow(view.stalled_flow, view.can_write, onSetSlot);
    flows(view.recent_flows);
    sessions(view.earlier_sessions);
  }

  function reset() {
    for (const id of ["ctx-understanding", "ctx-customer", "ctx-flow", "ctx-flows", "ctx-sessions"]) {
      none(clear(id), "选择会话后显示");
    }
  }

  window.DeskContext = { render, reset };
})();
