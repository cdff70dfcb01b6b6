// One session's transcript on the console: the customer's, the bot's and agents' lines (an
// agent line names its writer, 客服小王) with agents' notes in between (内部备注 / 转接备注:
// agents only, never the customer's). Lines and notes that arrive after a view was read (a
// reply just sent, a live event) stay on screen when that view is drawn.
(function () {
  "use strict";
  const { label, stamp, el } = window.Desk;
  const state = { session: null, live: new Map(), owner: null };

  function node() {
    return document.getElementById("transcript");
  }

  // A new session forgets the live lines of the last one.
  function reset(sessionId) {
    if (sessionId === state.session) return;
    state.session = sessionId;
    state.live = new Map();
    node().replaceChildren();
  }

  function render(view) {
    state.owner = view.handoff && view.handoff.agent ? view.handoff.agent.display_name : null;
    node().replaceChildren();
    const notes = view.notes || [];
    const items = [...view.transcript.map(lineItem), ...notes.map(noteItem)];
    items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));  // stable: a line before a note of the same second
    for (const item of items) draw(item);
    const lastLine = Math.max(0, ...view.transcript.map((line) => line.id));
    const lastNote = Math.max(0, ...notes.map((note) => note.id));
    for (const item of state.live.values()) {
      if (item.line ? item.line.id > lastLine : item.note.id > lastNote) draw(item);
    }
  }

  function lineItem(line) {
    return { key: "m" + line.id, at: line.at, line };
  }

  function noteItem(note) {
    return { key: "n" + note.id, at: note.at, note };
  }

  function addLine(line) {
    remember(lineItem(line));
  }

  function addNote(note) {
    remember(noteItem(note));
  }

  function remember(item) {
    state.live.set(item.key, item);
    draw(item);
  }

  function draw(item) {
    const list = node();
    if (list.querySelector('[data-key="' + item.key + '"]')) return;
    const li = item.line ? lineNode(item.line) : noteNode(item.note);
    li.dataset.key = item.key;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function lineNode(line) {
    const li = el("li", "line line--" + line.sender);
    li.append(el("span", "line__who", who(line) + " · " + stamp(line.at)), el("div", "line__text", line.text));
    return li;
  }

  // 内部备注 · 客服小王 · 10:05:09, or 转接备注 · 客服小王 → 客服小李 · 10:05:09
  function noteNode(note) {
    const li = el("li", "line line--note");
    const by = "客服" + (note.agent || "") + (note.to ? " → 客服" + note.to : "");
    li.append(el("span", "line__who", label("note_kind", note.kind) + " · " + by + " · 仅客服可见 · " + stamp(note.at)),
              el("div", "line__text", note.text));
    return li;
  }

  // 客户 / 机器人 / the agent's own name (客服小王; older lines: the session's agent).
  function who(line) {
    if (line.sender !== "agent") return label("sender", line.sender);
    const name = line.agent || state.owner;
    return name ? "客服" + name : label("sender", "agent");
  }

  window.DeskTranscript = { reset, render, addLine, addNote };
})();
