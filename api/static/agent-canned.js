// Quick replies (快捷回复) on the console. Typing "/" in the composer opens a list searched by
// what follows (title or text; ↑↓ choose, Enter or Tab inserts, Esc closes); the 快捷回复
// button does the same. Every agent adds, edits and deletes them for everyone (快捷回复管理),
// and every open console reloads the list when one changes (the live `canned` event).
(function () {
  "use strict";
  const { api, el } = window.Desk;
  const $ = (id) => document.getElementById(id);
  const MAX_SHOWN = 8;
  const state = { replies: [], matches: [], index: 0, open: false, editing: null, onError: () => {} };

  async function load() {
    state.replies = (await api("/v1/agent/canned-replies")).replies;
    renderManager();
    if (state.open) refresh();
  }

  // The "/word" typed just before the cursor (at the start or after a space), if any.
  function slashAt(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = /(?:^|\s)\/([^\s/]*)$/.exec(before);
    return match ? { start: before.length - match[1].length - 1, query: match[1] } : null;
  }

  function refresh() {
    const slash = slashAt($("reply"));
    if (!slash) return close();
    const query = slash.query.toLowerCase();
    state.matches = state.replies.filter((r) => !query || r.title.toLowerCase().includes(query) ||
      r.text.toLowerCase().includes(query)).slice(0, MAX_SHOWN);
    state.index = Math.min(state.index, Math.max(0, state.matches.length - 1));
    render(slash.query);
  }

  function render(query) {
    const list = $("canned-popup");
    list.replaceChildren();
    list.hidden = false;
    state.open = true;
    if (!state.matches.length) {
      list.appendChild(el("li", "canned-popup__empty", query ? "没有与“" + query + "”匹配的快捷回复" : "还没有快捷回复"));
      return;
    }
    state.matches.forEach((reply, i) => {
      const item = el("li", "canned-popup__item" + (i === state.index ? " is-active" : ""));
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(i === state.index));
      item.append(el("strong", "", reply.title), el("span", "", reply.text));
      item.addEventListener("mousedown", (event) => { event.preventDefault(); insert(reply); });
      list.appendChild(item);
    });
    list.querySelector(".is-active").scrollIntoView({ block: "nearest" });
  }

  function close() {
    state.open = false;
    state.index = 0;
    $("canned-popup").hidden = true;
  }

  // The chosen reply replaces the "/word" (or goes in at the cursor).
  function insert(reply) {
    const box = $("reply");
    const slash = slashAt(box);
    const end = box.selectionStart;
    const start = slash ? slash.start : end;
    box.value = box.value.slice(0, start) + reply.text + box.value.slice(end);
    box.setSelectionRange(start + reply.text.length, start + reply.text.length);
    close();
    box.focus();
  }

  // The composer's keys while the list is open; true when the key was the list's.
  function handleKey(event) {
    if (!state.open || event.isComposing) return false;
    const n = state.matches.length;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && n) {
      state.index = (state.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      render(slashAt($("reply")).query);
    } else if ((event.key === "Enter" || event.key === "Tab") && n) {
      insert(state.matches[state.index]);
    } else if (event.key === "Escape") {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  function openFromButton() {
    const box = $("reply");
    const at = box.selectionStart;
    const gap = at > 0 && !/\s/.test(box.value[at - 1]) ? " " : "";
    box.value = box.value.slice(0, at) + gap + "/" + box.value.slice(at);
    box.focus();
    box.setSelectionRange(at + gap.length + 1, at + gap.length + 1);
    refresh();
  }

  // --- 快捷回复管理 ---------------------------------------------------------------------------
  function renderManager() {
    const list = $("canned-admin-list");
    list.replaceChildren();
    if (!state.replies.length) list.appendChild(el("li", "muted", "还没有快捷回复"));
    for (const reply of state.replies) {
      const li = el("li");
      li.dataset.id = reply.id;
      li.append(el("strong", "", reply.title), el("span", "", reply.text));
      li.append(button("编辑", () => edit(reply)), button("删除", () => remove(reply)));
      list.appendChild(li);
    }
  }

  function button(text, onClick) {
    const node = el("button", "link", text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function edit(reply) {
    state.editing = reply.id;
    $("canned-title").value = reply.title;
    $("canned-text").value = reply.text;
    $("canned-save").textContent = "保存修改";
    $("canned-title").focus();
  }

  function resetForm() {
    state.editing = null;
    $("canned-title").value = "";
    $("canned-text").value = "";
    $("canned-save").textContent = "添加";
  }

  async function remove(reply) {
    try { await api("/v1/agent/canned-replies/" + reply.id, { method: "DELETE" }); } catch (error) {
      return state.onError(error);
    }
    if (state.editing === reply.id) resetForm();
    await load();
  }

  async function save(event) {
    event.preventDefault();
    const body = { title: $("canned-title").value.trim(), text: $("canned-text").value.trim() };
    const path = "/v1/agent/canned-replies" + (state.editing ? "/" + state.editing : "");
    try { await api(path, { method: state.editing ? "PUT" : "POST", body }); } catch (error) {
      return state.onError(error);
    }
    resetForm();
    await load();
  }

  function init(onError) {
    state.onError = onError;
    $("reply").addEventListener("input", refresh);
    $("reply").addEventListener("click", refresh);
    $("reply").addEventListener("blur", () => setTimeout(close, 150));
    $("canned-open").addEventListener("click", openFromButton);
    $("canned-form").addEventListener("submit", save);
    $("canned-cancel").addEventListener("click", resetForm);
  }

  window.DeskCanned = { init, load, handleKey, close };
})();
