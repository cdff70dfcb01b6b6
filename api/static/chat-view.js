// The chat page's transcript view: one <li> per message with the sender's avatar and name,
// its time (Beijing time, as the bot's own "今天" means) and a date line where the day
// changes; a scroll that follows new messages only while the customer is at the bottom
// (reading earlier ones, they get a "新消息" pill instead of being yanked down).
// ChatView.create(log, pill) -> view; what goes inside a bubble is chat-rich.js's job.
(function () {
  "use strict";
  const TZ = "Asia/Shanghai";
  const NEAR_BOTTOM_PX = 80;
  const BOT = { name: "智能客服", avatar: "银" };
  const WEEKDAYS = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
  const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });
  const clock = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false });

  function toDate(at) {
    const date = at instanceof Date ? at : new Date(at || Date.now());
    return isNaN(date.getTime()) ? new Date() : date;
  }

  // "2026-11-24" in Beijing time: what separates days.
  function dayOf(date) { return dayKey.format(date); }

  function timeOf(date) { return clock.format(date); }

  // 今天 / 昨天 / 11月23日 周一 / 2025年11月23日 (the day key read back, relative to now).
  function dayLabel(key, now) {
    const today = dayOf(now);
    if (key === today) return "今天";
    if (key === dayOf(new Date(now.getTime() - 864e5))) return "昨天";
    const [year, month, day] = key.split("-").map(Number);
    const weekday = WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()];
    const sameYear = today.slice(0, 4) === key.slice(0, 4);
    return (sameYear ? "" : year + "年") + month + "月" + day + "日 " + weekday;
  }

  // The agent's avatar: the last character of their name (小王 -> 王), else 客.
  function agentAvatar(name) {
    const chars = Array.from(name || "");
    return chars.length ? chars[chars.length - 1] : "客";
  }

  function create(log, pill) {
    let unread = 0;

    function atBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    }

    function toEnd() {
      log.scrollTop = log.scrollHeight;
      unread = 0;
      pill.hidden = true;
    }

    // Run `change` (which adds to the log) and keep the reader where they are: at the end if
    // they were there (or `follow`: their own message), else count it on the pill.
    function keepingPlace(change, follow, counts) {
      const wasAtBottom = atBottom();
      const result = change();
      if (follow || wasAtBottom) toEnd();
      else if (counts) {
        unread += 1;
        pill.textContent = unread > 1 ? unread + " 条新消息 ↓" : "新消息 ↓";
        pill.hidden = false;
      }
      return result;
    }

    log.addEventListener("scroll", () => { if (!pill.hidden && atBottom()) toEnd(); }, { passive: true });
    pill.addEventListener("click", () => {
      log.scrollTo({ top: log.scrollHeight, behavior: "smooth" });
      unread = 0;
      pill.hidden = true;
    });

    function separator(key) {
      const line = document.createElement("li");
      line.className = "day";
      line.dataset.dayLine = key;
      const label = document.createElement("span");
      label.textContent = dayLabel(key, new Date());
      line.appendChild(label);
      return line;
    }

    // entry: {sender: user|bot|agent|notice, at, agent (name), className, time: false}
    function message(entry) {
      const item = document.createElement("li");
      item.className = "msg msg--" + entry.sender + (entry.className ? " " + entry.className : "");
      const main = document.createElement("div");
      main.className = "msg__main";
      if (entry.sender === "bot" || entry.sender === "agent") {
        // An agent line names its writer when the transcript says who (else 人工客服).
        const name = entry.sender === "bot" ? BOT.name : entry.agent ? "客服" + entry.agent : "人工客服";
        const avatar = document.createElement("span");
        avatar.className = "msg__avatar";
        avatar.setAttribute("aria-hidden", "true");
        avatar.textContent = entry.sender === "bot" ? BOT.avatar : agentAvatar(entry.agent);
        item.appendChild(avatar);
        const meta = document.createElement("div");
        meta.className = "msg__meta";
        const who = document.createElement("span");
        who.className = "msg__who";
        who.textContent = name;
        meta.appendChild(who);
        main.appendChild(meta);
      }
      item.appendChild(main);
      if (entry.time !== false) setTime(item, entry.at);
      return item;
    }

    // The time sits in the meta line of bot and agent messages; on the customer's own it is
    // drawn by CSS from data-time, so the message's text stays the only text of its <li>.
    // True when the message moved to another day.
    function setTime(item, at) {
      const date = toDate(at);
      const before = item.dataset.day;
      item.dataset.day = dayOf(date);
      item.dataset.time = timeOf(date);
      const meta = item.querySelector(".msg__meta");
      if (!meta) return before !== undefined && before !== item.dataset.day;
      let stamp = meta.querySelector(".msg__time");
      if (!stamp) {
        stamp = document.createElement("time");
        stamp.className = "msg__time";
        meta.appendChild(stamp);
      }
      stamp.dateTime = date.toISOString();
      stamp.textContent = timeOf(date);
      return before !== undefined && before !== item.dataset.day;
    }

    // A date line right before the first message of each day. Checked whole after a change
    // (a line drawn with the device's time may move to another day when the server's time
    // confirms it), touching only the lines that are wrong: the log is a live region.
    function days() {
      let previous = null;
      for (const item of log.querySelectorAll(":scope > li[data-day]")) {
        const key = item.dataset.day;
        const before = item.previousElementSibling;
        const line = before && before.classList.contains("day") ? before : null;
        if (key === previous) {
          if (line) line.remove();
        } else if (!line) {
          item.before(separator(key));
        } else if (line.dataset.dayLine !== key) {
          line.replaceWith(separator(key));
        }
        previous = key;
      }
      for (const line of log.querySelectorAll(":scope > .day")) {  // left without its message
        const next = line.nextElementSibling;
        if (!next || next.dataset.day !== line.dataset.dayLine) line.remove();
      }
    }

    // Add a built message at the end (with its date line).
    function append(item, options) {
      const opts = options || {};
      return keepingPlace(() => {
        log.appendChild(item);
        days();
        return item;
      }, opts.follow, opts.counts !== false);
    }

    function clear() {
      log.textContent = "";
      unread = 0;
      pill.hidden = true;
    }

    return { message, setTime, append, days, clear, toEnd, keepingPlace, atBottom };
  }

  window.ChatView = { create, dayLabel, dayOf, timeOf, BOT };
})();
