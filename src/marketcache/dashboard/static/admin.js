"use strict";
/* Admin actions (warm, clear) through the API, under its admin rules: the page sends what
   the API asks (a JSON body, `Authorization: Bearer <token>` when a token is typed) and
   shows the API's answer; it never keeps the token beyond the page. */
(function () {
  const $ = (id) => document.getElementById(id);

  function headers() {
    const out = { "Content-Type": "application/json" };
    const token = $("token").value.trim();
    if (token) out.Authorization = "Bearer " + token;
    return out;
  }

  function list(text) {
    return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  }

  function show(text, failed) {
    const box = $("admin-result");
    box.textContent = text;
    box.classList.toggle("failed", failed);
    box.dataset.outcome = failed ? "failed" : "ok";
  }

  async function post(path, body, describe) {
    show(`POST /${path} …`, false);
    let response, document;
    try {
      response = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body) });
      document = await response.json();
    } catch (err) {
      show(`POST /${path}: no answer (${err})`, true);
      return;
    }
    if (!response.ok || !document.success) {
      const error = document.error || {};
      show(`POST /${path}: ${response.status} ${error.code || ""}\n${error.message || ""}`, true);
      return;
    }
    show(`POST /${path}: ${response.status}\n${describe(document.data)}`, false);
    window.MarketcacheDashboard?.refresh();
  }

  function warmed(data) {
    const lines = Object.entries(data.results).map(
      ([symbol, r]) => `${symbol}: ${r.status}${r.error ? " — " + (r.error.message || r.error) : ""}`
    );
    return `${data.warmed} warmed, ${data.failed} failed, +${data.entries_added} entries ` +
      `in ${data.duration_ms} ms\n${lines.join("\n")}`;
  }

  function describeRule(limits) {
    $("admin-rule").textContent = limits.admin.token_required
      ? "This service has ADMIN_TOKEN set: warm and clear need that token (sent as " +
        "'Authorization: Bearer <token>'); a missing token is refused with 401, a wrong one with 403."
      : "This service has no ADMIN_TOKEN: warm and clear are accepted only from the service's " +
        "own machine (loopback); from elsewhere they are refused with 403.";
  }

  function install() {
    $("warm-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const body = { symbols: list($("warm-symbols").value) };
      const timeframes = list($("warm-timeframes").value);
      if (timeframes.length) body.timeframes = timeframes;
      post("cache/warm", body, warmed);
    });
    $("clear").addEventListener("click", () => {
      if (!window.confirm("Drop every entry of the cache? Clients will miss until it refills.")) return;
      post("cache/clear", {}, (data) => `${data.removed} entries removed`);
    });
  }

  window.DashboardAdmin = { install, describeRule };
})();
