// The chat page's message box: Enter sends (Shift+Enter and an IME's Enter do not), the box
// grows with its text up to a few lines, and a counter shows the characters used against
// the server's limit (CHATBOT_MAX_TEXT_LENGTH). The box does not cut a longer paste: the
// counter turns red, and a message sent anyway gets the server's own error, text kept.
// ChatComposer.attach({form, input, counter, onSend}) -> {value(), restore(text), focus()}.
(function () {
  "use strict";
  const MAX_LINES = 5;

  function attach(parts) {
    const { form, input, counter, onSend } = parts;
    const maxLength = Number(input.dataset.maxLength) || 500;
    const nearLimit = Math.floor(maxLength * 0.9);

    // Characters as the server counts them (code points: an emoji is one).
    function count() {
      const used = Array.from(input.value.trim()).length;
      counter.textContent = used + "/" + maxLength + (used > maxLength ? "（超出 " + (used - maxLength) + " 字）" : "");
      counter.classList.toggle("chat__counter--near", used >= nearLimit && used <= maxLength);
      counter.classList.toggle("chat__counter--over", used > maxLength);
      input.classList.toggle("is-over", used > maxLength);
      grow();
    }

    // As tall as its text, up to MAX_LINES lines; then it scrolls.
    function grow() {
      const style = getComputedStyle(input);
      const line = parseFloat(style.lineHeight) || 24;
      const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
      const border = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
      input.style.height = "auto";  // scrollHeight: the text's own height (with padding)
      const wanted = Math.min(input.scrollHeight, line * MAX_LINES + padding) + border;  // border-box
      input.style.height = Math.ceil(wanted) + "px";
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      count();
      onSend(text);
    });

    input.addEventListener("input", count);

    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    count();
    return {
      value: () => input.value,
      restore(text) { input.value = text; count(); },
      focus: () => input.focus(),
    };
  }

  window.ChatComposer = { attach };
})();
