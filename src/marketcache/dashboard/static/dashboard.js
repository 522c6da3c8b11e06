"use strict";
/* The live dashboard: polls the service's JSON endpoints (relative URLs: the page's own
   origin, and any path prefix it is served under) and shows them. Every figure taken from
   an endpoint sits in an element with data-field="<source>:<path>" and shows that value
   as the endpoint gave it; thresholds and limits come from /dashboard/limits. */
(function () {
  const $ = (id) => document.getElementById(id);
  const MB = 1024 * 1024;
  // Hours of per-minute buckets cost the service CPU on its event loop to build (about
  // 0.2 ms a bucket: a day is ~0.3 s), so the trends are fetched seldom and on demand.
  const TREND_EVERY_MS = 300000;
  const COLOR = {
    main: "#2f5bd3", second: "#7b3fc4", third: "#0f8b8d",
    warning: "#e09b00", critical: "#c62828", limit: "#555",
  };
  const SOURCES = {
    health: { path: "health", envelope: false },
    cache_health: { path: "cache/health", envelope: false },
    stats: { path: "cache/stats", envelope: true },
    performance: { path: "cache/performance?hours=1", envelope: true },
    recommendations: { path: "cache/recommendations", envelope: true },
    markets: { path: "dashboard/markets", envelope: true },
  };
  const data = {};
  const state = { paused: false, timer: null, refreshes: 0, running: null, trendAt: 0 };
  let charts = null;

  // -- fetching ---------------------------------------------------------------------

  async function load(path, envelope) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    const body = await response.json();
    if (envelope) {
      if (!body.success) throw new Error(`/${path}: ${response.status} ${body.error?.code}: ${body.error?.message}`);
      return body.data;
    }
    return body; // /health answers 503 with its document when unhealthy: still shown
  }

  async function poll() {
    const names = Object.keys(SOURCES);
    const results = await Promise.allSettled(names.map((n) => load(SOURCES[n].path, SOURCES[n].envelope)));
    const failures = [];
    results.forEach((result, i) => {
      if (result.status === "fulfilled") data[names[i]] = result.value;
      else failures.push(String(result.reason?.message || result.reason));
    });
    if (!data.limits || Date.now() - state.trendAt > TREND_EVERY_MS) {
      try {
        data.limits = await load("dashboard/limits", true);
        await loadTrends();
      } catch (err) {
        failures.push(String(err.message || err));
      }
    }
    showFailures(failures);
    render();
  }

  async function loadTrends() {
    const hours = $("trend-hours").value;
    data.trends = await load(`cache/performance?hours=${hours}`, true);
    state.trendAt = Date.now();
  }

  function refresh() {
    if (!state.running) {
      state.running = poll().finally(() => {
        state.running = null;
        state.refreshes += 1;
        document.body.dataset.refreshes = String(state.refreshes);
      });
    }
    return state.running;
  }

  function schedule() {
    clearTimeout(state.timer);
    if (state.paused) return;
    state.timer = setTimeout(async () => {
      if (document.visibilityState !== "hidden") await refresh(); // no polling in a background tab
      schedule();
    }, Number($("interval").value));
  }

  // -- formatting -------------------------------------------------------------------

  function get(object, path) {
    return path.split(".").reduce((o, key) => (o == null ? undefined : o[key]), object);
  }

  function number(v, digits = 3) {
    return v == null || Number.isNaN(v) ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: digits });
  }

  function format(value, kind) {
    if (value === undefined || value === null) return "–";
    if (kind === "bool") return value ? "yes" : "no";
    if (kind === "text" || typeof value !== "number") return String(value);
    return number(value);
  }

  function ago(iso) {
    if (!iso) return "–";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 120) return `${seconds} s ago`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }

  function age(ms) {
    if (ms == null) return "–";
    return ms < 1000 ? `${ms} ms` : `${number(ms / 1000, 1)} s`;
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function badge(text) {
    const span = document.createElement("span");
    span.className = `badge ${text}`;
    span.textContent = text;
    return span;
  }

  function emptyRow(body, columns, text) {
    const td = body.insertRow().insertCell();
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = text;
  }

  // -- rendering --------------------------------------------------------------------

  function render() {
    document.querySelectorAll("[data-field]").forEach((el) => {
      const [source, path] = el.dataset.field.split(":");
      if (data[source] !== undefined) el.textContent = format(get(data[source], path), el.dataset.format);
    });
    const status = data.cache_health?.status;
    if (status) $("status").className = `badge ${status}`;
    document.querySelectorAll("[data-field^='trends:trend.']").forEach((el) => {
      el.className = `badge ${el.textContent}`;
    });
    $("updated").textContent = new Date().toLocaleTimeString("en-GB");
    renderReasons();
    renderAlerts();
    renderDerived();
    renderMarkets();
    renderAdvice();
    renderTasks();
    renderCharts();
    if (data.limits) window.DashboardAdmin.describeRule(data.limits);
  }

  function showFailures(failures) {
    const box = $("fetch-error");
    box.hidden = failures.length === 0;
    box.textContent = failures.length ? `Could not update everything: ${failures.join("; ")}` : "";
  }

  function renderReasons() {
    const health = data.cache_health;
    if (!health) return;
    const list = $("reasons");
    list.replaceChildren();
    const add = (text, className) => {
      const li = document.createElement("li");
      li.textContent = text;
      if (className) li.className = className;
      list.append(li);
    };
    health.alerts.forEach((alert) => add(`${alert.severity}: ${alert.message}`, alert.severity));
    if (!health.alerts.length) {
      const m = health.metrics;
      add(`healthy: no alert firing (${m.requests} requests, ${m.lookups} lookups in the last ${number(m.window_s / 60, 1)} min)`);
    }
    if (data.health && !data.health.exchange.reachable) {
      add(`the exchange does not answer: /health says ${data.health.status}`, "critical");
    }
  }

  function renderAlerts() {
    const health = data.cache_health;
    if (!health) return;
    const body = $("alerts");
    body.replaceChildren();
    if (!health.alerts.length) emptyRow(body, 6, "no alert firing");
    const unit = (a) => (a.unit === "percent" ? " %" : a.unit === "count" ? "" : ` ${a.unit}`);
    health.alerts.forEach((alert) => {
      const row = body.insertRow();
      row.dataset.alert = alert.name;
      row.insertCell().append(badge(alert.severity));
      cell(row, alert.name);
      const since = cell(row, `${alert.since} (${ago(alert.since)})`);
      since.dataset.col = "since";
      cell(row, `${number(alert.value)}${unit(alert)}`, "num").dataset.col = "value";
      cell(row, `${number(alert.threshold)}${unit(alert)}`, "num").dataset.col = "threshold";
      cell(row, alert.message);
    });
    const resolved = health.recently_resolved || [];
    $("resolved").textContent = resolved.length
      ? "Recently resolved: " + resolved.map((a) => `${a.name} (${ago(a.resolved_at)})`).join(", ")
      : "";
  }

  function renderDerived() {
    const buckets = data.performance?.buckets || [];
    const recent = buckets.slice(-2);
    const seconds = recent.reduce((s, b) => s + b.seconds, 0);
    const requests = recent.reduce((s, b) => s + b.requests, 0);
    $("rps").textContent = seconds > 0 ? number(requests / seconds, 2) : "–";
    const last = buckets[buckets.length - 1];
    $("weight-minute").textContent = last ? number(last.upstream_weight) : "–";
    if (data.limits) $("weight-limit").textContent = number(data.limits.exchange.weight_limit_per_minute);
    const stats = data.stats?.cache_stats;
    if (stats) $("max-mb").textContent = number(stats.max_bytes / MB, 1);
    const l2 = data.stats?.cache_levels?.l2;
    if (l2) {
      const budget = l2.rate_budget;
      $("l2-extra").textContent = l2.enabled
        ? `hits ${number(l2.hits)} · errors ${number(l2.errors)} · get p99 ${number(l2.get_latency_ms?.p99)} ms` +
          (budget ? ` · shared weight budget ${number(budget.used)} / ${number(budget.limit)} (${number(budget.fill_percent)} %)` +
            (budget.paused ? ", background loads paused" : "") : "") +
          (l2.last_error ? ` · last error: ${l2.last_error}` : "")
        : "L1 only (no REDIS_URL)";
      const state = document.querySelector("[data-field='stats:cache_levels.l2.state']");
      state.className = `badge ${l2.state}`;
    }
  }

  function renderMarkets() {
    if (!data.markets) return;
    const body = $("markets");
    body.replaceChildren();
    if (!data.markets.markets.length) emptyRow(body, 6, "no market asked yet");
    data.markets.markets.forEach((m) => {
      const row = body.insertRow();
      row.dataset.market = m.symbol;
      cell(row, m.symbol);
      cell(row, m.price == null ? "–" : number(m.price, 8), "num");
      cell(row, age(m.data_age_ms), "num");
      row.insertCell().append(badge(m.cache));
      cell(row, number(m.answers), "num");
      cell(row, m.cold_share == null ? "–" : `${number(m.cold_share, 1)} %`, "num");
    });
  }

  function renderAdvice() {
    if (!data.recommendations) return;
    const list = $("advice");
    list.replaceChildren();
    const advice = data.recommendations.recommendations;
    if (!advice.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = `nothing worth changing (looked at ${number(data.recommendations.window_minutes, 1)} min)`;
      list.append(li);
    }
    advice.forEach((r) => {
      const li = document.createElement("li");
      li.dataset.recommendation = r.id;
      li.append(badge(r.severity), " ", r.message);
      if (r.setting) li.append(` — ${r.setting}${r.suggested != null ? " → " + JSON.stringify(r.suggested) : ""}`);
      const evidence = document.createElement("div");
      evidence.className = "evidence";
      evidence.textContent = Object.entries(r.evidence || {})
        .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
        .join(" · ");
      li.append(evidence);
      list.append(li);
    });
  }

  function renderTasks() {
    const tasks = data.cache_health?.tasks;
    if (!tasks) return;
    const body = $("tasks");
    body.replaceChildren();
    Object.entries(tasks).forEach(([name, t]) => {
      const row = body.insertRow();
      cell(row, name);
      cell(row, t.running ? "yes" : "no");
      cell(row, number(t.runs), "num");
      cell(row, number(t.errors), "num");
      cell(row, t.last_run ? ago(t.last_run) : "–");
      cell(row, t.last_error || "");
    });
  }

  // -- charts -----------------------------------------------------------------------

  function line(label, color) {
    return { label, color, threshold: false };
  }

  function limit(label, color, value) {
    return { label, color, threshold: true, value };
  }

  const share = (part, whole) => (whole ? Math.round((part / whole) * 10000) / 100 : null);

  function specs(limits) {
    const t = limits.thresholds;
    const ex = limits.exchange;
    const hit = { key: "hit_rate", title: "Client hit rate", unit: "%", max: 100,
      lines: [line("hit rate %", COLOR.main),
        limit(`warning < ${t.hit_rate_percent.warning} %`, COLOR.warning, t.hit_rate_percent.warning),
        limit(`critical < ${t.hit_rate_percent.critical} %`, COLOR.critical, t.hit_rate_percent.critical)],
      columns: (b) => [b.map((x) => x.hit_rate)] };
    const latency = { key: "latency", title: "Response time", unit: "ms",
      lines: [line("p50 ms", COLOR.third), line("p95 ms", COLOR.main), line("p99 ms", COLOR.second),
        limit(`p95 target ${t.p95_ms.target} ms`, COLOR.critical, t.p95_ms.target)],
      columns: (b) => [b.map((x) => x.p50_ms), b.map((x) => x.p95_ms), b.map((x) => x.p99_ms)] };
    const errors = { key: "error_rate", title: "Error rate (5xx, 429)", unit: "%",
      lines: [line("error rate %", COLOR.main),
        limit(`critical > ${t.error_rate_percent.critical} %`, COLOR.critical, t.error_rate_percent.critical)],
      columns: (b) => [b.map((x) => share(x.errors, x.requests))] };
    // the alerts are about the process's memory against its limit; a full cache is not one
    const memory = { key: "memory", title: "Memory: the process of its limit, the cache of its bound", unit: "%", max: 100,
      lines: [line("process memory %", COLOR.main), line("cache fill %", COLOR.third),
        limit(`warning > ${t.memory_percent.warning} %`, COLOR.warning, t.memory_percent.warning),
        limit(`critical > ${t.memory_percent.critical} %`, COLOR.critical, t.memory_percent.critical)],
      columns: (b) => [b.map((x) => share(x.rss_mb, limits.memory.limit_mb)),
        b.map((x) => share(x.cache_bytes, limits.cache.max_bytes))] };
    const traffic = { key: "traffic", title: "Requests, stale answers, exchange calls (per minute; the last minute is running)", unit: "count",
      lines: [line("requests", COLOR.main), line("stale answers", COLOR.warning), line("exchange calls", COLOR.third)],
      columns: (b) => [b.map((x) => x.requests), b.map((x) => x.stale), b.map((x) => x.upstream_calls)] };
    const weight = { key: "weight", title: "Exchange request weight per minute", unit: "weight",
      lines: [line("weight", COLOR.main),
        limit(`limit ${ex.weight_limit_per_minute}`, COLOR.critical, ex.weight_limit_per_minute),
        limit(`background pauses at ${ex.budget_pause_at_percent} %`, COLOR.warning,
          (ex.weight_limit_per_minute * ex.budget_pause_at_percent) / 100)],
      columns: (b) => [b.map((x) => x.upstream_weight)] };
    return { hour: [hit, latency, errors, memory, traffic, weight], trend: [hit, latency, weight] };
  }

  function build(parentId, list, prefix) {
    const parent = $(parentId);
    return list.map((spec) => ({ spec, chart: new window.DashboardCharts.Chart(parent, { ...spec, key: prefix + spec.key }) }));
  }

  function fill(group, performance) {
    if (!performance) return;
    const buckets = performance.buckets;
    const xs = buckets.map((b) => Date.parse(b.minute) / 1000);
    const to = Date.parse(performance.to) / 1000;
    const span = [Math.min(xs[0] ?? to, to - performance.hours * 3600), to];
    group.forEach(({ spec, chart }) => chart.set(xs, spec.columns(buckets), span));
  }

  function renderCharts() {
    if (!data.limits || typeof uPlot === "undefined") return;
    if (!charts) {
      const all = specs(data.limits);
      charts = { hour: build("charts-hour", all.hour, "hour."), trend: build("charts-trend", all.trend, "trend.") };
    }
    fill(charts.hour, data.performance);
    fill(charts.trend, data.trends);
  }

  // -- start ------------------------------------------------------------------------

  function start() {
    $("pause").addEventListener("click", () => {
      state.paused = !state.paused;
      $("pause").setAttribute("aria-pressed", String(state.paused));
      $("pause").textContent = state.paused ? "Resume" : "Pause";
      document.body.dataset.paused = String(state.paused);
      schedule();
    });
    $("refresh").addEventListener("click", () => refresh());
    $("interval").addEventListener("change", schedule);
    $("trend-hours").addEventListener("change", async () => {
      await loadTrends().catch((err) => showFailures([String(err.message || err)]));
      render();
    });
    window.DashboardAdmin.install();
    window.MarketcacheDashboard = {
      refresh, data, state,
      charts: () => (charts ? [...charts.hour, ...charts.trend].map(({ chart }) => chart) : []),
    };
    refresh().then(schedule);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
