// A wealth product's page (what a product card's 了解详情 and a WeChat news message open):
// the public catalogue's facts for ?code=…, or a plain word that it is not on sale.
(function () {
  "use strict";
  const box = document.getElementById("product");
  const RISK = { R1: "低风险", R2: "中低风险", R3: "中风险", R4: "中高风险", R5: "高风险" };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function money(value) {
    const [whole, cents] = Number(value).toFixed(2).split(".");
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + cents + " 元";
  }

  function show(product) {
    box.textContent = "";
    document.title = product.name + " · 示例银行";
    box.appendChild(el("h1", "product__name", product.name));
    const badge = el("span", "product__risk product__risk--" + product.risk_level.toLowerCase(),
      product.risk_level + " " + (RISK[product.risk_level] || ""));
    box.appendChild(badge);
    const yieldBox = el("div", "product__yield");
    yieldBox.appendChild(el("div", "product__yield-value", product.expected_yield || "—"));
    yieldBox.appendChild(el("div", "product__yield-label", "业绩比较基准（年化）"));
    box.appendChild(yieldBox);
    const rows = el("dl", "product__rows");
    for (const [label, value] of [
      ["期限", product.term_days ? product.term_days + " 天" : "无固定期限"],
      ["起购金额", money(product.min_amount)],
      ["产品代码", product.code],
    ]) {
      const row = el("div", "product__row");
      row.appendChild(el("dt", null, label));
      row.appendChild(el("dd", null, value));
      rows.appendChild(row);
    }
    box.appendChild(rows);
  }

  function missing(words) {
    box.textContent = "";
    box.appendChild(el("p", "product__missing", words));
  }

  const code = new URLSearchParams(window.location.search).get("code");
  if (!code) { missing("没有指定产品。"); return; }
  fetch("/v1/products/wealth")
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((data) => {
      const product = (data.products || []).find((p) => p.code === code);
      if (product) show(product);
      else missing("该产品当前不在售，请在智能客服中查看在售产品。");
    })
    .catch(() => missing("产品信息暂时无法加载，请稍后再试。"));
})();
