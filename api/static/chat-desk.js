// Where the customer stands with the service desk, shown on the chat page: the header's state
// (在线 / 正在排队… / 客服小王服务中), the queue banner with its place and wait, and the rating
// question after an agent's service. Fed by /v1/chat/status, the event stream and answers.
// ChatDesk.create({status, banner, bannerText, cancelWait, view, send}) ->
//   {setMode(mode, detail), mode(), showRating(), hideRating(), reset()}.
(function () {
  "use strict";
  const MODE_LABEL = { bot: "在线", queued: "正在排队…", agent: "人工客服服务中" };

  function create(parts) {
    const { status, banner, bannerText, cancelWait, view, send } = parts;
    let mode = "bot";
    let ratingItem = null;

    function setMode(next, detail) {
      mode = next || "bot";
      const agent = detail && detail.agent;
      status.textContent = mode === "agent" && agent ? "客服" + agent + "服务中" : (MODE_LABEL[mode] || "在线");
      document.body.dataset.mode = mode;
      if (mode !== "queued") banner.hidden = true;
      if (mode === "queued") showQueue(detail || {});
    }

    // Queued is said as queued ("已接入" comes from the agent's acceptance); no made-up wait
    // when nobody is online; outside service hours the customer is asked for a message.
    function showQueue(spot) {
      banner.hidden = false;
      cancelWait.textContent = spot.message ? "不留言" : "取消排队";
      if (spot.message) {
        bannerText.textContent = "非人工服务时间 · 请直接留言，客服上班后回复您";
      } else if (!spot.position) {
        bannerText.textContent = "正在排队，等候人工客服…";
      } else {
        bannerText.textContent = "正在排队 · 第 " + spot.position + " 位 · " + (spot.estimated_wait_minutes
          ? "预计等待约 " + spot.estimated_wait_minutes + " 分钟" : "暂无客服在线");
      }
    }

    function showRating() {
      if (ratingItem) return;
      ratingItem = view.message({ sender: "rating", time: false });
      const body = ratingItem.querySelector(".msg__main").appendChild(document.createElement("div"));
      body.className = "msg__bubble rating";
      const label = body.appendChild(document.createElement("span"));
      label.className = "rating__label";
      label.textContent = "请为本次人工服务打分";
      const stars = body.appendChild(document.createElement("div"));
      stars.className = "rating__stars";
      for (let n = 1; n <= 5; n++) {
        const button = stars.appendChild(document.createElement("button"));
        button.type = "button";
        button.className = "rating__star";
        button.dataset.score = String(n);
        button.textContent = n + " 分";
        button.addEventListener("click", () => { hideRating(); send(String(n)); });
      }
      view.append(ratingItem, { counts: true });
    }

    function hideRating() {
      if (ratingItem) ratingItem.remove();
      ratingItem = null;
    }

    cancelWait.addEventListener("click", () => send("取消"));

    return {
      setMode, showRating, hideRating,
      mode: () => mode,
      reset() { ratingItem = null; setMode("bot"); },
    };
  }

  window.ChatDesk = { create };
})();
