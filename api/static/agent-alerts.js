// What calls an agent's attention: unread counts per conversation (customer lines the agent
// has not looked at), the page title ("(3) …" while anything is unread), and a short sound when
// a new customer joins the queue (the 提示音 switch in the top bar, remembered per browser).
// Seen counts live in sessionStorage per agent, so a reload does not mark everything unread.
(function () {
  "use strict";
  const TITLE = "示例银行 · 人工客服工作台";
  const SOUND_KEY = "chatbot.deskSound";
  const state = { key: null, seen: {}, known: null, audio: null };

  function init(username) {
    state.key = "chatbot.deskSeen." + username;
    state.known = null;  // the first queue load announces nobody
    try { state.seen = JSON.parse(sessionStorage.getItem(state.key) || "{}"); } catch (_) { state.seen = {}; }
    showSound();
  }

  function save() {
    sessionStorage.setItem(state.key, JSON.stringify(state.seen));
  }

  // The customer lines of a conversation the agent has not seen (the open one is seen).
  function unread(item, current) {
    if (item.session_id === current) markSeen(item.session_id, item.customer_messages);
    return Math.max(0, item.customer_messages - (state.seen[item.session_id] || 0));
  }

  function markSeen(sessionId, count) {
    if ((state.seen[sessionId] || 0) >= count) return;
    state.seen[sessionId] = count;
    save();
  }

  // After each queue load: the title, and the sound for customers who were not there before.
  function update(queue, mine, current) {
    const total = [...queue, ...mine].reduce((sum, item) => sum + unread(item, current), 0);
    document.title = total ? "(" + total + ") " + TITLE : TITLE;
    const ids = new Set(queue.map((item) => item.session_id));
    const arrived = state.known ? [...ids].filter((id) => !state.known.has(id)) : [];
    state.known = ids;
    if (arrived.length) alert();
  }

  function alert() {
    document.body.dataset.alerts = String(Number(document.body.dataset.alerts || 0) + 1);
    if (soundOn()) beep();
  }

  function beep() {
    try {
      state.audio = state.audio || new AudioContext();
      const ctx = state.audio;
      if (ctx.state === "suspended") ctx.resume();
      [[880, 0], [1175, 0.16]].forEach(([hz, at]) => {
        const tone = ctx.createOscillator();
        const gain = ctx.createGain();
        tone.frequency.value = hz;
        gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.14);
        tone.connect(gain).connect(ctx.destination);
        tone.start(ctx.currentTime + at);
        tone.stop(ctx.currentTime + at + 0.15);
      });
    } catch (_) { /* no audio device: the title and the badge still say it */ }
  }

  function soundOn() {
    return localStorage.getItem(SOUND_KEY) !== "off";
  }

  function toggleSound() {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    showSound();
  }

  function showSound() {
    const button = document.getElementById("sound");
    button.textContent = soundOn() ? "提示音：开" : "提示音：关";
    button.setAttribute("aria-pressed", String(soundOn()));
  }

  function reset() {
    document.title = TITLE;
  }

  window.DeskAlerts = { init, unread, markSeen, update, toggleSound, reset };
})();
