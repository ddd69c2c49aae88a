// The leaders' screens: every number is read from /api/v1/insights/ and written into
// the element whose data-key names it; data-value keeps the raw value (the browser
// test compares it with the API's).
(function () {
  "use strict";
  const body = document.body;
  // The page's words, from the script tag's data-t-* attributes (no inline script:
  // the Content-Security-Policy runs none).
  const T = Object.fromEntries(
    Object.entries(document.getElementById("cockpit-js").dataset)
      .filter(([key]) => key.startsWith("t"))
      .map(([key, value]) => [key.slice(1).toLowerCase(), value]));
  const screen = body.dataset.screen;
  const isPublic = body.dataset.public === "1";
  const query = new URLSearchParams(location.search);
  const form = document.getElementById("period");
  for (const name of ["area", "since", "until"]) {
    if (query.get(name) && form.elements[name]) form.elements[name].value = query.get(name);
  }
  // What the period form must carry over when it reloads the page.
  for (const name of ["layout", "figure", "worker"]) {
    if (!query.get(name)) continue;
    const keep = document.createElement("input");
    keep.type = "hidden"; keep.name = name; keep.value = query.get(name);
    form.appendChild(keep);
  }

  function params(extra) {
    const p = new URLSearchParams();
    for (const name of ["area", "since", "until"]) {
      const v = form.elements[name] && form.elements[name].value;
      if (v && !(isPublic && name === "area")) p.set(name, v);
    }
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p;
  }
  async function api(path, extra) {
    const base = isPublic ? "/api/v1/public/" : "/api/v1/insights/";
    const response = await fetch(base + path + "?" + params(extra), { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error((data.error && data.error.message) || response.status);
    return data;
  }
  function get(obj, path) {
    return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  function fmt(v, format) {
    if (v === null || v === undefined) return "—";
    if (format === "pct") return (v * 100).toFixed(1) + "%";
    if (format === "delta") return (v > 0 ? "▲ +" : v < 0 ? "▼ " : "") + (v * 100).toFixed(1);
    if (format === "dur") return v >= 86400 ? (v / 86400).toFixed(1) + "d" : (v / 3600).toFixed(1) + "h";
    return String(v);
  }
  function put(el, v) {
    el.textContent = fmt(v, el.dataset.format);
    el.dataset.value = v === null || v === undefined ? "null" : String(v);
  }
  function fill(data) {
    document.querySelectorAll("[data-key]").forEach((el) => {
      const v = get(data, el.dataset.key);
      if (v !== undefined) put(el, v);
    });
    const asOf = document.getElementById("as-of");
    if (asOf && data.as_of) asOf.textContent = data.as_of.replace("T", " ").slice(0, 19);
    if (data.since && !form.elements.since.value) form.elements.since.value = data.since;
    if (data.until && !form.elements.until.value) form.elements.until.value = data.until;
  }
  function cell(tr, v, format, href) {
    const td = document.createElement("td");
    let target = td;
    if (href) { target = document.createElement("a"); target.href = href; td.appendChild(target); }
    put(target, v);
    if (format) { target.dataset.format = format; put(target, v); }
    tr.appendChild(td);
    return td;
  }
  function rows(id, list, columns) {
    const tbody = document.querySelector("#" + id + " tbody");
    if (!tbody) return;
    tbody.innerHTML = "";
    for (const item of list) {
      const tr = document.createElement("tr");
      for (const c of columns) {
        const v = typeof c.value === "function" ? c.value(item) : item[c.value];
        cell(tr, v, c.format, c.href ? c.href(item) : null);
      }
      tbody.appendChild(tr);
    }
  }
  function exportLinks(extra) {
    document.querySelectorAll("a.export").forEach((a) => {
      a.href = "/cockpit/export.xlsx?" + params({ table: a.dataset.table, ...(extra || {}) });
    });
  }
  function chart(id) {
    const el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    return echarts.getInstanceByDom(el) || echarts.init(el);
  }

  // 问题处置数据舱 (and the home page's tiles).
  let map = null, layer = null;
  async function disposal() {
    const data = await api("disposal");
    fill(data);
    if (screen !== "disposal") return;
    rows("overdue", data.overdue, [
      { value: "number" }, { value: "category" }, { value: "grid" }, { value: "state" },
      { value: "due" },
      { value: () => T.supervise, href: (c) => "/work/case/" + encodeURIComponent(c.number) + "/" },
    ]);
    const solved = chart("solved-chart");
    if (solved) {
      solved.setOption({ animation: false,
        series: [{ type: "pie", radius: ["40%", "70%"], data: ["grid", "village", "town", "department"]
          .map((k) => ({ name: T[k], value: data.solved_at[k] })) }],
      });
    }
    exportLinks();
    await drawMap();
  }
  async function drawMap() {
    const el = document.getElementById("map");
    if (!el || !window.L) return;
    const geo = await api("map");
    if (!map) {
      map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
      if (body.dataset.tiles) L.tileLayer(body.dataset.tiles, { maxZoom: 19 }).addTo(map);
    }
    if (layer) layer.remove();
    const most = Math.max(1, ...geo.features.map((f) => f.properties.open));
    layer = L.geoJSON(geo, {
      style: (f) => {
        const share = f.properties.open / most;
        const red = Math.round(80 + 175 * share), green = Math.round(200 - 150 * share);
        return { color: "#555", weight: 1, fillOpacity: 0.7, fillColor: `rgb(${red},${green},80)` };
      },
      onEachFeature: (f, l) => l.bindTooltip(`${f.properties.name}: ${T.open} ${f.properties.open}`),
    }).addTo(map);
    el.dataset.grids = String(geo.features.length);
    el.dataset.open = String(geo.features.reduce((s, f) => s + f.properties.open, 0));
    if (geo.features.length) map.fitBounds(layer.getBounds());
  }

  // 问题分析数据舱.
  async function analysis() {
    const grain = document.getElementById("grain").value;
    const data = await api("analysis", { grain });
    fill(data);
    const parents = {};
    for (const c of data.categories) {
      (parents[c.parent] = parents[c.parent] || { name: c.parent, children: [] })
        .children.push({ name: c.category, value: c.received });
    }
    const treemap = chart("treemap");
    if (treemap) treemap.setOption({ animation: false, series: [{ type: "treemap", data: Object.values(parents) }] });
    document.getElementById("treemap").dataset.total =
      String(data.categories.reduce((s, c) => s + c.received, 0));
    const trend = chart("trend");
    if (trend) {
      trend.setOption({
        animation: false, tooltip: { trigger: "axis" }, legend: { data: [T.received, T.closed] },
        xAxis: { type: "category", data: data.trend.map((t) => t.start) }, yAxis: { type: "value" },
        series: [{ name: T.received, type: "line", data: data.trend.map((t) => t.received) },
                 { name: T.closed, type: "line", data: data.trend.map((t) => t.closed) }],
      }, true);
    }
    document.getElementById("trend").dataset.total =
      String(data.trend.reduce((s, t) => s + t.received, 0));
    rows("hotspots", data.hotspots, [{ value: "name" }, { value: "received" },
      { value: "households" }, { value: "per_1000_households" }]);
    rows("repeated", data.repeated, [{ value: "grid" }, { value: "address" },
      { value: "category" }, { value: "cases" }]);
    document.getElementById("keywords").textContent =
      data.keywords.map((k) => k.word).join("　") || T.none;
    const sources = chart("sources");
    if (sources) {
      sources.setOption({ animation: false, xAxis: { type: "category", data: data.sources.map((s) => s.label) },
        yAxis: { type: "value" }, series: [{ type: "bar", data: data.sources.map((s) => s.cases) }] });
    }
    rows("sources-table", data.sources, [{ value: "label" }, { value: "cases" }]);
    rows("hot", data.hot, [{ value: "category" }, { value: "cases" },
      { value: (h) => h.keywords.join(" ") }, { value: (h) => h.first + "~" + h.last },
      { value: (h) => (h.deliberation ? h.deliberation.meeting_on + " " + h.deliberation.title +
        "：" + (h.deliberation.outcome || "") : T.none) }]);
    exportLinks();
  }

  // 网格治理晾晒台.
  let level = "town";
  async function board() {
    const data = await api("rankings", { level });
    fill(data);
    document.getElementById("formula-text").textContent = data.formula.text;
    rows("board", data.rows, [
      { value: (r) => (r.rank === null ? T.unranked : r.rank) }, { value: "name" },
      { value: "received" }, { value: "per_1000_households" },
      { value: (r) => r.rates.on_time, format: "pct" }, { value: (r) => r.rates.satisfaction, format: "pct" },
      { value: (r) => r.rates.in_grid, format: "pct" }, { value: (r) => r.rates.proactive, format: "pct" },
      { value: "score" },
    ]);
    document.getElementById("board").dataset.level = level;  // what the rows show now
    exportLinks({ level });
  }
  document.querySelectorAll("#levels a[data-level]").forEach((a) => {
    a.addEventListener("click", (event) => {
      event.preventDefault();
      level = a.dataset.level;
      document.querySelectorAll("#levels a[data-level]").forEach((b) => b.classList.toggle("on", b === a));
      refresh();
    });
  });

  // 三级数据.
  async function record() {
    const data = await api("record");
    fill(data);
    const since = form.elements.since.value, until = form.elements.until.value;
    // A number opens the exact cases it counts (/cockpit/cases/), in the same period.
    const behind = (r, figure) => "/cockpit/cases/?" + new URLSearchParams({ figure, area: r.code, since, until });
    const here = new URLSearchParams(location.search);
    rows("record", data.rows, [
      { value: "name", href: (r) => (r.level === "grid" ? behind(r, "received") :
        "?" + new URLSearchParams({ ...Object.fromEntries(here), area: r.code })) },
      { value: (r) => r.figures.received, href: (r) => behind(r, "received") },
      { value: (r) => r.figures.closed, href: (r) => behind(r, "closed") },
      { value: (r) => r.figures.closed_on_time, href: (r) => behind(r, "closed_on_time") },
      { value: (r) => r.figures.closure_rate, format: "pct" },
      { value: (r) => r.figures.on_time_rate, format: "pct" },
      { value: (r) => r.figures.satisfaction_rate, format: "pct" },
      { value: (r) => r.figures.in_grid_rate, format: "pct" },
      { value: (r) => r.figures.rework_rate, format: "pct" },
      { value: (r) => r.figures.proactive_rate, format: "pct" },
      { value: (r) => r.figures.per_1000_households },
      { value: (r) => r.figures.resolution_median_s, format: "dur" },
      { value: (r) => r.visits.rate, format: "pct" },
    ]);
    exportLinks();
  }

  // 数字背后的案件: one figure's cases, fifty a page, newest first.
  let cursor = null;
  async function cases() {
    const table = document.getElementById("cases");
    const which = { figure: table.dataset.figure };
    if (table.dataset.worker) which.worker = table.dataset.worker;
    const data = await api("cases", { ...which, limit: 50, ...(cursor ? { cursor } : {}) });
    fill(data);
    document.getElementById("withheld").hidden = !data.withheld;
    rows("cases", data.items, [
      { value: "number", href: (r) => r.link }, { value: "received_on" },
      { value: "category" }, { value: "town" }, { value: "grid" }, { value: "state_label" },
      { value: "count" },
    ]);
    const more = document.getElementById("more"), first = document.getElementById("first");
    more.hidden = !data.next;
    first.hidden = !cursor;
    more.onclick = (event) => { event.preventDefault(); cursor = data.next; refresh(); };
    first.onclick = (event) => { event.preventDefault(); cursor = null; refresh(); };
    exportLinks(which);
  }

  const run = { home: disposal, disposal, analysis, board, record, cases }[screen];
  async function refresh() {
    body.classList.remove("loaded");
    try {
      await run();
      body.classList.remove("failed");
    } catch (error) {
      body.classList.add("failed");
      body.dataset.error = String(error);
    }
    body.classList.add("loaded");
  }
  if (run) {
    refresh();
    if (screen === "disposal" || screen === "home") setInterval(refresh, 30000);
    const grain = document.getElementById("grain");
    if (grain) grain.addEventListener("change", refresh);
  }
})();
