// What goes inside a chat message: the reply items of docs/rich_replies.md drawn for a
// phone (text, buttons, quick_replies, link, card, table, feedback; an unknown type is its
// text; any item's `related` questions and `feedback` key are drawn under it), and plain text as older servers and the transcript send it: links become labelled
// buttons (never a bare URL) and a numbered question the bot asks to answer by number gets
// a button per option. Taps call hooks.send(text) with the item's `send`, as if typed.
// ChatRich.fill(main, item, hooks); hooks = {send(text), feedback({feedback | turn, helpful}) -> Promise<bool>}.
(function () {
  "use strict";
  const URL_IN_TEXT = /https?:\/\/[^\s<>"'，。；！？、）)】]+/g;
  const LABEL_BEFORE = /^(.{1,24}?)\s*[：:]\s*$/;  // "Excel：" right before a link names it
  const OPTION_LINE = /^(\d{1,2})\. (.+)$/;
  const LINK_LINE = /^.{0,24}[：:]\s*https?:\/\/\S+\s*$/;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function list(value) { return Array.isArray(value) ? value : []; }

  // Only web addresses open; anything else (javascript:, data:) is not a link at all.
  function safeUrl(url) {
    try {
      const parsed = new URL(String(url), window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function linkButton(label, url) {
    const href = safeUrl(url);
    if (!href) return el("span", "rich-link rich-link--dead", label);
    const link = el("a", "rich-link", label);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  // Plain text with every URL turned into a labelled button: "Excel：https://…" shows a
  // button "Excel"; a URL without such a label shows "打开链接".
  function appendText(container, raw) {
    const text = raw === undefined || raw === null ? "" : String(raw);
    let from = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      let before = text.slice(from, match.index);
      const lineStart = before.lastIndexOf("\n") + 1;
      const named = LABEL_BEFORE.exec(before.slice(lineStart));
      if (named) before = before.slice(0, lineStart);
      container.appendChild(document.createTextNode(before));
      container.appendChild(linkButton(named ? named[1] : "打开链接", match[0]));
      from = match.index + match[0].length;
    }
    container.appendChild(document.createTextNode(text.slice(from)));
  }

  // The text with its links taken out: a "label：URL" line goes whole, a URL inside a
  // sentence goes alone (with the colon that introduced it).
  function withoutLinks(raw) {
    return String(raw || "").split("\n").map((line) => {
      if (LINK_LINE.test(line)) return "";
      return line.replace(URL_IN_TEXT, "").replace(/[\s：:]+$/, "");
    }).filter(Boolean).join("\n");
  }

  function choiceRow(choices, className, buttonClass, hooks) {
    const row = el("div", className);
    for (const choice of list(choices).slice(0, 12)) {
      if (!choice || !choice.label) continue;
      const button = el("button", buttonClass, choice.label);
      button.type = "button";
      const said = choice.send || choice.label;
      button.addEventListener("click", () => { row.remove(); hooks.send(said); });
      row.appendChild(button);
    }
    return row.childElementCount ? row : null;
  }

  function bubble(main, className) {
    const body = el("div", "msg__bubble" + (className ? " " + className : ""));
    main.appendChild(body);
    return body;
  }

  // A numbered list the bot asks to answer by number gets one button per option. A question
  // ("您是想…，还是…？", "您是想问：") is answered with the option's words, which no open form can
  // take for an amount; a flow's own list ("请问分期哪一项？") with its number, as typing would.
  function numberedChoices(text) {
    if (!/回复序号/.test(text)) return null;
    const options = text.split("\n").map((line) => OPTION_LINE.exec(line)).filter(Boolean);
    if (options.length < 2) return null;
    const inWords = /^您是想/.test(text);
    return options.map(([, number, label]) => ({ label: label, send: inWords ? label : number }));
  }

  const DRAW = {
    text(main, item, hooks) {
      const body = bubble(main);
      appendText(body, item.text);
      const legacy = hooks.numbered ? numberedChoices(String(item.text || "")) : null;
      const row = legacy && choiceRow(legacy, "choices", "choice", hooks);
      if (row) body.appendChild(row);
    },
    buttons(main, item, hooks) {
      const body = bubble(main);
      appendText(body, item.text);
      const row = choiceRow(item.buttons, "choices", "choice", hooks);
      if (row) body.appendChild(row);
    },
    quick_replies(main, item, hooks) {
      if (String(item.text || "").trim()) appendText(bubble(main), item.text);
      const row = choiceRow(item.options, "chips", "chip", hooks);
      if (row) main.appendChild(row);
    },
    link(main, item) {
      // {caption, links: [{label, url}]} or {label, url}: the caption (or the text without
      // its URLs, which the buttons stand for), then a labelled button per link.
      const targets = Array.isArray(item.links) ? item.links : [{ label: item.label, url: item.url }];
      const labels = targets.map((t) => t && t.label);
      const said = (item.caption !== undefined ? String(item.caption || "")
        : Array.isArray(item.links) ? withoutLinks(item.text)
          : String(item.text || "").replace(URL_IN_TEXT, "")).replace(/[\s：:]+$/, "").trim();
      const body = bubble(main, "msg__bubble--link");
      if (said && !labels.includes(said)) body.appendChild(el("div", "rich-link__text", said));
      for (const target of targets) {
        if (target && target.url) body.appendChild(linkButton(target.label || "打开链接", target.url));
      }
    },
    card(main, item, hooks) {
      const body = bubble(main, "msg__bubble--card");
      const card = el("div", "card");
      if (item.title) card.appendChild(el("div", "card__title", item.title));
      const rows = el("dl", "card__rows");
      for (const row of list(item.rows).slice(0, 12)) {
        const line = el("div", "card__row");
        line.appendChild(el("dt", "card__label", row && row.label));
        line.appendChild(el("dd", "card__value", row && row.value));
        rows.appendChild(line);
      }
      card.appendChild(rows);
      // A button with `url` (a product's 了解详情) opens a page and stays meaningful later: it
      // is a link, kept when newer messages make the answer buttons (`send`) stale.
      const all = list(item.buttons).filter((b) => b && b.label);
      const opens = all.filter((b) => b.url && !b.send);
      const answers = choiceRow(all.filter((b) => !opens.includes(b)), "choices card__buttons", "choice", hooks);
      if (opens.length || answers) {
        const foot = el("div", "card__foot");
        for (const b of opens) foot.appendChild(linkButton(b.label, b.url)).classList.add("card__link");
        if (answers) foot.appendChild(answers);
        card.appendChild(foot);
      }
      body.appendChild(card);
    },
    table(main, item) {
      const body = bubble(main, "msg__bubble--table");
      if (item.title) body.appendChild(el("div", "rich-table__title", item.title));
      const scroller = el("div", "rich-table");
      scroller.tabIndex = 0;  // scrollable sideways by keyboard too
      const table = el("table");
      const head = el("tr");
      list(item.columns).forEach((name) => head.appendChild(el("th", null, name)));
      table.appendChild(el("thead")).appendChild(head);
      const rows = el("tbody");
      for (const row of list(item.rows)) {
        const line = el("tr");
        list(row).forEach((cell, index) => {
          const box = line.appendChild(el(index === 0 ? "th" : "td", null, cell));
          if (String(cell).length <= 12) box.classList.add("rich-table__short");  // 2.40%–3.20% stays on one line
        });
        rows.appendChild(line);
      }
      table.appendChild(rows);
      scroller.appendChild(table);
      body.appendChild(scroller);
      // Wider than the phone: say so (once drawn, when its width is known).
      requestAnimationFrame(() => {
        if (scroller.scrollWidth > scroller.clientWidth + 2) body.appendChild(el("div", "rich-table__hint", "左右滑动查看更多 ›"));
      });
    },
    feedback(main, item, hooks) {
      if (item.turn) main.appendChild(feedbackRow({ turn: item.turn }, hooks));
    },
  };

  // What any item may carry besides its drawing: a knowledge answer's "相关问题" (tapping one
  // asks it) and its 有帮助吗 key.
  function extras(main, item, hooks) {
    const related = list(item.related).filter((q) => q && q.label);
    if (related.length) {
      const box = el("div", "related");
      box.appendChild(el("div", "related__title", "相关问题"));
      for (const question of related.slice(0, 6)) {
        const ask = el("button", "related__question", question.label);
        ask.type = "button";
        ask.addEventListener("click", () => hooks.send(question.send || question.label));
        box.appendChild(ask);
      }
      main.appendChild(box);
    }
    if (typeof item.feedback === "string" && item.feedback) main.appendChild(feedbackRow({ feedback: item.feedback }, hooks));
  }

  // 👍 / 👎 drawn, not typed: a phone without an emoji font would show empty boxes.
  const THUMB_UP = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06" +
    "L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05" +
    "c.09-.23.14-.47.14-.73v-2z";
  function thumb(up) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "feedback__icon" + (up ? "" : " feedback__icon--down"));
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", THUMB_UP);
    svg.appendChild(path);
    return svg;
  }

  // "有帮助吗？" 👍 / 👎 under a knowledge answer; one tap, then thanks.
  function feedbackRow(key, hooks) {
    const row = el("div", "feedback");
    row.appendChild(el("span", "feedback__ask", "有帮助吗？"));
    for (const [helpful, words] of [[true, "有帮助"], [false, "没帮助"]]) {
      const button = el("button", "feedback__button");
      button.appendChild(thumb(helpful));
      button.appendChild(document.createTextNode(words));
      button.type = "button";
      button.dataset.helpful = String(helpful);
      button.addEventListener("click", async () => {
        row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        const ok = await hooks.feedback(Object.assign({ helpful: helpful }, key)).catch(() => false);
        row.textContent = "";
        row.appendChild(el("span", "feedback__done", ok ? "感谢您的反馈" : "反馈暂未提交成功，请稍后再试"));
      });
      row.appendChild(button);
    }
    return row;
  }

  function fill(main, item, hooks) {
    const shaped = item && typeof item === "object" ? item : { type: "text", text: String(item) };
    const known = Object.prototype.hasOwnProperty.call(DRAW, shaped.type);
    (known ? DRAW[shaped.type] : DRAW.text)(main, shaped, hooks);
    if (shaped.type !== "feedback") extras(main, shaped, hooks);
  }

  window.ChatRich = { fill, appendText, safeUrl };
})();
