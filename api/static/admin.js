// Analysts' page (/admin): label what customers typed (queue of groups -> intent, new FAQ or
// ignore), the overlay of labels, and the understanding metrics with an inline SVG chart.
// Customer text is only ever set with textContent (it is what customers typed).
(function () {
  "use strict";
  const { api, auth, el } = window.Desk;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const ROLES = ["analyst", "admin"];
  const KIND = { not_understood: "未理解", clarify: "需澄清", faq_not_found: "FAQ 未找到", handoff: "转人工",
                 low_rating: "低评分", uncertain: "低置信" };
  const SOURCE = { page: "页面标注", import: "文件导入" };
  const CHANNEL = { web: "网页", wechat: "微信", terminal: "终端" };
  const CATEGORY = { understood: "已理解", clarified: "需澄清", not_found: "FAQ 未找到",
                     not_understood: "未理解", handed_off: "转人工" };
  const state = { me: null, labels: [], titles: {}, groups: [], index: 0, selected: new Set(),
                  options: [], highlight: 0, recent: [], tab: "queue", timers: {} };

  // --- login -------------------------------------------------------------------------------------
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const result = await api("/v1/auth/login", { method: "POST",
        body: { username: $("login-username").value.trim(), password: $("login-password").value } });
      if (!ROLES.includes(result.role)) {
        throw new Error("该账号（" + roleName(result.role) + "）无权使用分析工作台，请使用分析员或管理员账号登录");
      }
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

  function roleName(role) {
    return { agent: "客服", analyst: "分析员", admin: "管理员" }[role] || role;
  }

  function logout(message) {
    auth.token = null;
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function start() {
    try {
      state.me = await api("/v1/auth/me");
      if (!ROLES.includes(state.me.role)) return logout("该账号无权使用分析工作台");
      const vocabulary = await api("/v1/admin/annotations/labels");
      state.labels = vocabulary.labels;
      fillVocabulary(vocabulary);
    } catch (_) {
      return logout(auth.token ? "登录已失效，请重新登录" : "");
    }
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("me").textContent = state.me.display_name + "（" + state.me.username + "）";
    showTab("queue");
    loadOverlay();
  }

  function fillVocabulary(vocabulary) {
    for (const item of vocabulary.labels) state.titles[item.name] = item.title;
    for (const item of vocabulary.intents) state.titles[item.name] = item.title;  // faq: 业务知识问答
    state.titles.ignore = "忽略";
    fillSelect($("f-kind"), vocabulary.kinds.map((k) => [k, KIND[k] || k]));
    fillSelect($("f-intent"), vocabulary.intents.map((l) => [l.name, l.name + " · " + l.title]));
    fillSelect($("o-label"), vocabulary.labels.map((l) => [l.name, l.name + " · " + l.title]));
  }

  function fillSelect(select, pairs) {
    select.replaceChildren(select.firstElementChild);
    for (const [value, text] of pairs) {
      const option = el("option", "", text);
      option.value = value;
      select.appendChild(option);
    }
  }

  function handle(error) {
    if (error && error.status === 401) return logout("登录已过期，请重新登录");
    toast(error.message || "请求失败", true);
  }

  function toast(text, isError) {
    const node = $("toast");
    node.textContent = text;
    node.classList.toggle("toast--error", Boolean(isError));
    node.classList.add("toast--on");
    clearTimeout(state.timers.toast);
    state.timers.toast = setTimeout(() => node.classList.remove("toast--on"), 5000);
  }

  // --- tabs ----------------------------------------------------------------------------------------
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }

  function showTab(name) {
    state.tab = name;
    for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of ["queue", "done", "metrics"]) $("panel-" + panel).hidden = panel !== name;
    if (name === "queue") loadQueue();
    if (name === "done") loadOverlay();
    if (name === "metrics") loadMetrics();
  }

  // --- the queue -------------------------------------------------------------------------------------
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadQueue(); });

  async function loadQueue() {
    const query = new URLSearchParams({ limit: "100" });
    for (const [key, id] of [["since", "f-since"], ["until", "f-until"], ["kind", "f-kind"], ["intent", "f-intent"]]) {
      if ($(id).value) query.set(key, $(id).value);
    }
    $("queue-summary").textContent = "加载中…";
    let data;
    try { data = await api("/v1/admin/annotations/queue?" + query); } catch (error) {
      $("queue-summary").textContent = "";
      return handle(error);
    }
    state.groups = data.groups;
    const capped = data.capped ? "（仅分组了最近的 " + data.cap + " 条）" : "";
    $("queue-summary").textContent = "共 " + data.total_groups + " 组 · " + data.turns + " 条语句" + capped +
      (data.total_groups > data.groups.length ? "，显示最大的 " + data.groups.length + " 组" : "");
    renderGroups();
    selectGroup(0, false);
  }

  function renderGroups() {
    const list = $("group-list");
    list.replaceChildren();
    $("queue-total").textContent = state.groups.reduce((n, g) => n + g.count, 0);
    state.groups.forEach((group, index) => {
      const li = el("li", "group");
      li.tabIndex = -1;
      li.dataset.index = index;
      const top = el("div", "group__top");
      top.appendChild(el("span", "group__count", group.count + " 条"));
      if (group.suggested) top.appendChild(el("span", "chip chip--suggest", "建议 " + labelTitle(group.suggested)));
      li.appendChild(top);
      li.appendChild(el("div", "group__text", group.examples.length ? group.examples[0].text : ""));
      const kinds = el("div", "chips");
      for (const kind of Object.keys(group.kinds)) kinds.appendChild(el("span", "chip chip--" + kind, KIND[kind] || kind));
      li.appendChild(kinds);
      li.addEventListener("click", () => selectGroup(index, true));
      list.appendChild(li);
    });
  }

  function titleOf(name) {
    return state.titles[name] ? state.titles[name] : name;
  }

  // A label (not the model's intent): faq means a FAQ entry, not the knowledge-question intent.
  function labelTitle(name) {
    return { faq: "FAQ", ignore: "忽略" }[name] || titleOf(name);
  }

  function current() {
    return state.groups[state.index] || null;
  }

  function selectGroup(index, focus) {
    state.index = Math.max(0, Math.min(index, state.groups.length - 1));
    state.selected.clear();
    const cards = $("group-list").children;
    for (const card of cards) {
      const on = Number(card.dataset.index) === state.index;
      card.classList.toggle("group--current", on);
      card.tabIndex = on ? 0 : -1;
      card.setAttribute("aria-current", on ? "true" : "false");
    }
    const group = current();
    $("detail-empty").hidden = Boolean(group);
    $("detail-body").hidden = !group;
    closeFaq();
    if (!group) return;
    renderDetail(group);
    resetPicker(group);
    const card = cards[state.index];
    if (card) {
      if (focus) card.focus();
      card.scrollIntoView({ block: "nearest" });
    }
  }

  function renderDetail(group) {
    $("d-title").textContent = "第 " + (state.index + 1) + " 组 · " + group.count + " 条语句";
    const kinds = $("d-kinds");
    kinds.replaceChildren();
    for (const [kind, n] of Object.entries(group.kinds)) {
      kinds.appendChild(el("span", "chip chip--" + kind, (KIND[kind] || kind) + " " + n));
    }
    const intents = $("d-intents");
    intents.replaceChildren(el("span", "muted", "模型判断："));
    for (const [name, n] of Object.entries(group.intents)) intents.appendChild(el("span", "chip", titleOf(name) + " ×" + n));
    renderExamples(group);
  }

  function renderExamples(group) {
    const body = $("examples");
    body.replaceChildren();
    for (const turn of group.examples) body.appendChild(exampleRow(turn));
    $("check-all").checked = false;
    const more = group.count - group.examples.reduce((n, t) => n + t.turn_ids.length, 0);
    $("d-more").textContent = more > 0 ? "另有 " + more + " 条相似语句未列出，整组操作会一并标注。" : "";
    updateApplyLabel();
  }

  function exampleRow(turn) {
    const row = el("tr");
    const check = el("input");
    check.type = "checkbox";
    check.setAttribute("aria-label", "只标注这一句");
    check.checked = state.selected.has(turn.turn_id);
    check.addEventListener("change", () => {
      if (check.checked) state.selected.add(turn.turn_id); else state.selected.delete(turn.turn_id);
      row.classList.toggle("row--selected", check.checked);
      updateApplyLabel();
    });
    const cell = el("td", "col-check");
    cell.appendChild(check);
    row.appendChild(cell);
    const said = el("td", "example__text", turn.text);
    if (turn.turn_ids.length > 1) said.appendChild(el("span", "repeats", "×" + turn.turn_ids.length));
    row.appendChild(said);
    row.appendChild(cellWith(el("span", "chip chip--" + turn.kind, KIND[turn.kind] || turn.kind)));
    const understood = turn.intent ? titleOf(turn.intent) + (turn.confidence != null ? " " + pct(turn.confidence, 0) : "") : "—";
    row.appendChild(el("td", "example__intent", understood));
    const faq = turn.faq_candidates[0];
    const score = faq && faq.score >= 0 ? "（" + faq.score.toFixed(2) + "）" : "";
    row.appendChild(el("td", "example__faq", faq ? (faq.question || faq.id) + score : "—"));
    row.appendChild(el("td", "example__when", when(turn.at) + " · " + (CHANNEL[turn.channel] || turn.channel)));
    return row;
  }

  function cellWith(child) {
    const cell = el("td");
    cell.appendChild(child);
    return cell;
  }

  $("check-all").addEventListener("change", () => {
    const group = current();
    if (!group) return;
    state.selected.clear();
    if ($("check-all").checked) for (const turn of group.examples) state.selected.add(turn.turn_id);
    renderExamples(group);
    $("check-all").checked = state.selected.size > 0;
    for (const row of $("examples").children) row.classList.toggle("row--selected", $("check-all").checked);
  });

  function updateApplyLabel() {
    const n = state.selected.size;
    $("apply").firstChild.textContent = n ? "应用到所选 " + n + " 句 " : "应用到整组 ";
    $("label-title").textContent = n ? "标注所选 " + n + " 句为" : "标注整组为";
  }

  // --- the label picker (a searchable listbox) ------------------------------------------------------
  function resetPicker(group) {
    const input = $("label-input");
    input.value = "";
    const intents = state.labels.filter((l) => !l.special);
    const first = intents.filter((l) => l.name === group.suggested);
    state.base = first.concat(intents.filter((l) => l.name !== group.suggested));
    filterOptions("");
    state.touched = false;
    $("label-hint").textContent = group.suggested === "faq" ? "建议新建或归入 FAQ：按 Enter 或 f 打开 FAQ 表单"
      : group.suggested ? "建议：" + group.suggested + " " + titleOf(group.suggested) + "，按 Enter 直接应用"
        : "没有建议标签：按 l 搜索意图，↑↓ 选择，Enter 应用";
    if (document.activeElement !== input) $("label-options").hidden = true;
  }

  function filterOptions(query) {
    const q = query.trim().toLowerCase();
    state.options = (state.base || []).filter((l) => !q || l.name.toLowerCase().includes(q) || l.title.includes(q));
    state.highlight = 0;
    renderOptions();
  }

  function renderOptions() {
    const list = $("label-options");
    list.replaceChildren();
    const group = current();
    state.options.forEach((option, index) => {
      const li = el("li", "combo__option" + (index === state.highlight ? " combo__option--on" : ""));
      li.id = "label-option-" + index;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(index === state.highlight));
      li.appendChild(el("span", "combo__name", option.name));
      li.appendChild(el("span", "combo__title", option.title));
      if (group && option.name === group.suggested) li.appendChild(el("span", "chip chip--suggest", "建议"));
      li.addEventListener("mousedown", (event) => { event.preventDefault(); applyLabel(option.name); });
      list.appendChild(li);
    });
    if (!state.options.length) list.appendChild(el("li", "combo__empty", "没有匹配的意图"));
    $("label-input").setAttribute("aria-activedescendant", state.options.length ? "label-option-" + state.highlight : "");
    const on = list.children[state.highlight];
    if (on && on.scrollIntoView) on.scrollIntoView({ block: "nearest" });
  }

  const input = $("label-input");
  input.addEventListener("focus", () => { openOptions(true); });
  input.addEventListener("blur", () => { openOptions(false); });
  input.addEventListener("input", () => { filterOptions(input.value); state.touched = true; openOptions(true); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.highlight = (state.highlight + step + state.options.length) % Math.max(state.options.length, 1);
      state.touched = true;
      renderOptions();
    } else if (event.key === "Enter") {
      event.preventDefault();
      const option = state.options[state.highlight];
      if (option) applyLabel(option.name); else toast("没有匹配的意图", true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      backToList();
    }
  });

  function openOptions(open) {
    $("label-options").hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  }

  function backToList() {
    const card = $("group-list").children[state.index];
    if (card) card.focus(); else document.activeElement.blur();
  }

  // --- labelling ---------------------------------------------------------------------------------------
  // Without a suggestion, the first option is no choice of the analyst's: ask for one.
  $("apply").addEventListener("click", () => {
    const option = state.options[state.highlight];
    const suggested = (current() || {}).suggested;
    const chosen = option && (state.touched || option.name === suggested);
    if (chosen) applyLabel(option.name); else if (suggested === "faq") openFaq(); else input.focus();
  });
  $("ignore").addEventListener("click", () => applyLabel("ignore"));
  $("new-faq").addEventListener("click", () => openFaq());
  $("faq-cancel").addEventListener("click", () => { closeFaq(); backToList(); });
  $("faq-form").addEventListener("submit", (event) => {
    event.preventDefault();
    applyLabel("faq", { faq_question: $("faq-question").value.trim(), faq_answer: $("faq-answer").value.trim() });
  });
  $("faq-form").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); closeFaq(); backToList(); }
  });

  // The turns an action labels: those said like the checked rows, else the whole group.
  function targetTurns(group) {
    if (!state.selected.size) return group.turn_ids;
    return group.examples.filter((t) => state.selected.has(t.turn_id)).flatMap((t) => t.turn_ids);
  }

  function firstText(group, ids) {
    const row = group.examples.find((t) => t.turn_ids.some((id) => ids.includes(id))) || group.examples[0];
    return row ? row.text : "";
  }

  function openFaq() {
    const group = current();
    if (!group) return;
    const ids = targetTurns(group);
    $("faq-form").hidden = false;
    $("faq-question").value = firstText(group, ids);
    $("faq-answer").value = "";
    $("faq-similar").textContent = "本组的 " + ids.length + " 条语句将作为该 FAQ 的相似问法，创建后立即生效。";
    $("faq-answer").focus();
  }

  function closeFaq() {
    $("faq-form").hidden = true;
  }

  let busy = false;
  async function applyLabel(name, extra) {
    const group = current();
    if (!group || busy) return;
    const ids = targetTurns(group);
    busy = true;
    let result;
    try {
      result = await api("/v1/admin/annotations", { method: "POST",
        body: Object.assign({ turn_ids: ids, label: name }, extra || {}) });
    } catch (error) {
      return handle(error);
    } finally {
      busy = false;
    }
    labelled(group, ids, name, result, firstText(group, ids));
  }

  function labelled(group, ids, name, result, text) {
    const what = name === "ignore" ? "已忽略 " : "已标注为“" + labelTitle(name) + "”：";
    const faq = result.faq_id ? "，新 FAQ " + result.faq_id + " 已上线" : "";
    toast(what + ids.length + " 条（新增 " + result.added + "，更新 " + result.updated +
      "，已在训练集 " + result.in_training + "）" + faq);
    state.recent.unshift({ text, label: name, count: ids.length, faq: result.faq_id });
    renderRecent();
    $("done-total").textContent = Number($("done-total").textContent || 0) + result.added;
    const gone = new Set(ids);
    group.turn_ids = group.turn_ids.filter((id) => !gone.has(id));
    group.examples = group.examples.filter((t) => !t.turn_ids.every((id) => gone.has(id)));
    group.count -= ids.length;
    if (!group.turn_ids.length || group.count <= 0) state.groups.splice(state.index, 1);
    renderGroups();
    selectGroup(state.index, true);
  }

  function renderRecent() {
    const list = $("recent-list");
    list.replaceChildren();
    $("recent-count").textContent = state.recent.length;
    for (const item of state.recent.slice(0, 30)) {
      const li = el("li", "recent__item");
      li.appendChild(el("span", "chip " + (item.label === "ignore" ? "chip--ignore" : "chip--label"), labelTitle(item.label)));
      li.appendChild(el("span", "recent__text", item.text));
      li.appendChild(el("span", "muted", item.count + " 条" + (item.faq ? " · " + item.faq : "")));
      list.appendChild(li);
    }
  }

  // --- keyboard ------------------------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (state.tab !== "queue" || $("app-view").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = event.target.tagName;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) && event.target.type !== "checkbox") return;
    if (tag === "BUTTON" && event.key === "Enter") return;
    const actions = {
      j: () => selectGroup(state.index + 1, true), ArrowDown: () => selectGroup(state.index + 1, true),
      k: () => selectGroup(state.index - 1, true), ArrowUp: () => selectGroup(state.index - 1, true),
      l: () => input.focus(), "/": () => input.focus(),
      Enter: () => $("apply").click(), i: () => applyLabel("ignore"), f: () => openFaq(),
      Escape: () => { closeFaq(); backToList(); },
    };
    const action = actions[event.key];
    if (!action || !current()) return;
    event.preventDefault();
    action();
  });

  // --- the overlay ---------------------------------------------------------------------------------------
  $("o-refresh").addEventListener("click", () => loadOverlay());
  $("o-label").addEventListener("change", () => loadOverlay());

  async function loadOverlay() {
    const query = new URLSearchParams({ limit: "500" });
    if ($("o-label").value) query.set("label", $("o-label").value);
    let data;
    try { data = await api("/v1/admin/annotations?" + query); } catch (error) { return handle(error); }
    const body = $("overlay");
    body.replaceChildren();
    if (!$("o-label").value) $("done-total").textContent = data.annotations.length;
    $("overlay-summary").textContent = "最近 " + data.annotations.length + " 条标注";
    if (!data.annotations.length) {
      const row = el("tr");
      const cell = el("td", "empty-row", "还没有标注");
      cell.colSpan = 6;
      row.appendChild(cell);
      body.appendChild(row);
    }
    for (const item of data.annotations) body.appendChild(overlayRow(item));
  }

  function overlayRow(item) {
    const row = el("tr");
    row.appendChild(el("td", "example__text", item.text));
    const chip = el("span", "chip " + (item.label === "ignore" ? "chip--ignore" : "chip--label"),
                    item.label + " · " + labelTitle(item.label));
    row.appendChild(cellWith(chip));
    row.appendChild(el("td", "", item.faq_id || "—"));
    row.appendChild(el("td", "", item.annotated_by));
    row.appendChild(el("td", "", SOURCE[item.source] || item.source));
    row.appendChild(el("td", "nowrap", when(item.annotated_at)));
    return row;
  }

  // --- metrics ------------------------------------------------------------------------------------------------
  $("m-days").addEventListener("change", () => loadMetrics());

  async function loadMetrics() {
    let data;
    try { data = await api("/v1/admin/metrics/understanding?days=" + $("m-days").value); } catch (error) { return handle(error); }
    state.metrics = data;
    $("metrics-summary").textContent = "自 " + data.since + " 起（银行时间）";
    renderKpis(data.totals);
    renderLegend(data.categories);
    renderChart(data.daily, data.categories);
    renderIntents(data.intents);
    renderUnanswered(data.unanswered);
  }

  function renderKpis(totals) {
    const box = $("kpis");
    box.replaceChildren();
    const items = [["机器人处理", totals.bot_turns + " 轮", ""]];
    for (const name of Object.keys(CATEGORY)) items.push([CATEGORY[name], pct(totals.shares[name], 1), totals[name] + " 轮"]);
    items.push(["人工客服环节", totals.desk + " 轮", "排队、人工服务、评价"]);
    for (const [title, value, note] of items) {
      const card = el("div", "kpi");
      card.appendChild(el("div", "kpi__title", title));
      card.appendChild(el("div", "kpi__value", value));
      card.appendChild(el("div", "kpi__note", note));
      box.appendChild(card);
    }
  }

  function renderLegend(categories) {
    const legend = $("legend");
    legend.replaceChildren();
    for (const name of categories) {
      const item = el("span", "legend__item");
      item.appendChild(el("span", "swatch swatch--" + name));
      item.appendChild(document.createTextNode(CATEGORY[name] || name));
      legend.appendChild(item);
    }
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Drawn at the box's own pixel width (a scaled viewBox would scale the text too).
  window.addEventListener("resize", () => {
    clearTimeout(state.timers.chart);
    state.timers.chart = setTimeout(() => {
      if (state.metrics && !$("panel-metrics").hidden) renderChart(state.metrics.daily, state.metrics.categories);
    }, 150);
  });

  function renderChart(daily, categories) {
    const W = Math.max(280, $("chart").clientWidth || 880), H = W < 560 ? 220 : 260;
    const left = 40, right = 8, top = 22, bottom = 30;
    const plotW = W - left - right, plotH = H - top - bottom;
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "chart__svg", role: "img",
                               "aria-label": "每日机器人处理结果占比（堆叠柱状图）" });
    for (const share of [0, 0.25, 0.5, 0.75, 1]) {
      const y = top + plotH * (1 - share);
      chart.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
      chart.appendChild(svg("text", { x: left - 6, y: y + 4, class: "axis axis--y" }, Math.round(share * 100) + "%"));
    }
    const slot = plotW / daily.length, width = Math.max(4, Math.min(38, slot * 0.66));
    const every = Math.ceil(daily.length / Math.max(1, Math.floor(plotW / 52))), last = daily.length - 1;
    daily.forEach((day, i) => {
      const x = left + slot * i + (slot - width) / 2;
      let y = top + plotH;
      for (const name of categories) {
        const h = plotH * (day.shares[name] || 0);
        if (h <= 0) continue;
        y -= h;
        const rect = svg("rect", { x: x, y: y, width: width, height: h, class: "bar bar--" + name });
        const tip = day.day + " " + (CATEGORY[name] || name) + " " + pct(day.shares[name], 1) + "（" + day[name] + " 轮）";
        rect.appendChild(svg("title", {}, tip));
        chart.appendChild(rect);
      }
      const middle = x + width / 2;
      if (!day.bot_turns) chart.appendChild(svg("rect", { x, y: top + plotH - 2, width, height: 2, class: "bar bar--none" }));
      if (slot >= 22) chart.appendChild(svg("text", { x: middle, y: top - 7, class: "axis axis--n" }, String(day.bot_turns)));
      const labelled = i === last || (i % every === 0 && last - i >= every);  // the newest day always
      if (labelled) chart.appendChild(svg("text", { x: middle, y: H - 10, class: "axis axis--x" }, day.day.slice(5)));
    });
    $("chart").replaceChildren(chart);
  }

  function renderIntents(intents) {
    const list = $("intents");
    list.replaceChildren();
    if (!intents.length) list.appendChild(el("li", "muted", "这段时间没有对话"));
    const top = intents.length ? intents[0].share : 1;
    for (const item of intents.slice(0, 15)) {
      const li = el("li", "bars__item");
      const name = el("div", "bars__name");
      name.appendChild(el("span", "", titleOf(item.intent)));
      name.appendChild(el("span", "muted", item.intent));
      li.appendChild(name);
      const track = el("div", "bars__track");
      const fill = el("div", "bars__fill");
      fill.style.width = (100 * item.share / top).toFixed(1) + "%";
      track.appendChild(fill);
      li.appendChild(track);
      li.appendChild(el("span", "bars__value", item.turns + " · " + pct(item.share, 1)));
      list.appendChild(li);
    }
  }

  function renderUnanswered(unanswered) {
    const list = $("unanswered");
    list.replaceChildren();
    if (!unanswered.groups.length) list.appendChild(el("li", "muted", "没有未标注的未解答问题"));
    for (const group of unanswered.groups) {
      const li = el("li", "top-groups__item");
      const head = el("div", "group__top");
      head.appendChild(el("span", "group__count", group.count + " 条"));
      if (group.suggested) head.appendChild(el("span", "chip chip--suggest", "建议 " + labelTitle(group.suggested)));
      li.appendChild(head);
      for (const text of group.examples) li.appendChild(el("div", "top-groups__text", text));
      list.appendChild(li);
    }
    if (unanswered.capped) list.appendChild(el("li", "muted", "仅分组了最近的 " + unanswered.grouped_turns + " 条"));
  }

  // --- formatting ------------------------------------------------------------------------------------------------
  function pct(value, digits) {
    return ((value || 0) * 100).toFixed(digits) + "%";
  }

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai", month: "2-digit",
                                                  day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  if (auth.token) start();
})();
