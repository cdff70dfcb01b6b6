// Server-sent events read with fetch, so the request can carry an Authorization header
// (EventSource cannot, and a credential in its URL would land in access logs).
// SseStream.open(path, token, onEvent, onState) calls onEvent(type, data) per event and
// reconnects with a back-off until stop(); onState("live" | "retrying" | "off"). A 401
// ends it with onEvent("unauthorized", {}). `token` is a function returning the current token.
(function () {
  "use strict";

  function open(path, token, onEvent, onState) {
    let stopped = false;
    let controller = null;
    let delay = 1000;

    async function once() {
      controller = new AbortController();
      const response = await fetch(path, {
        headers: { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" },
        signal: controller.signal,
      });
      if (response.status === 401) throw Object.assign(new Error("unauthorized"), { status: 401 });
      if (!response.ok || !response.body) throw new Error("stream " + response.status);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    }

    function dispatch(block) {
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (!data.length) return;  // a comment (keep-alive) or a retry hint
      if (type === "ready") { delay = 1000; onState("live"); }
      onEvent(type, JSON.parse(data.join("\n")));
    }

    async function loop() {
      while (!stopped) {
        try {
          await once();
        } catch (error) {
          if (error.status === 401) { onState("off"); onEvent("unauthorized", {}); return; }
        }
        if (stopped) break;
        onState("retrying");
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 15000);
      }
    }

    loop();
    return { stop() { stopped = true; if (controller) controller.abort(); onState("off"); } };
  }

  window.SseStream = { open };
})();
