// The execution page: live state (the execution's event stream), then the result as a paged,
// sortable table (numbers right-aligned, exact as the API gives them) and a uPlot chart.
import uPlot from "uplot";
import { api, el, problemText, when } from "./http.js";

const root = document.getElementById("execution");
const id = root.dataset.id;
const $ = (x) => document.getElementById(x);
const FINAL = new Set(["succeeded", "failed", "cancelled", "rejected"]);

function setState(state) {
  const badge = $("state");
  badge.textContent = state;
  badge.className = `state s-${state}`;
  root.dataset.state = state;
}

async function refresh() {
  const answer = await api(`/api/v1/executions/${id}`);
  if (!answer.ok) return;
  const item = answer.data;
  setState(item.state);
  $("amc-status").textContent = item.amc_status || "—";
  $("amc-id").textContent = item.amc_execution_id || "—";
  $("row-count").textContent = item.row_count ?? "—";
  $("timeline").replaceChildren(...(item.timeline || []).map((t) => el("li", {},
    el("span", { class: `state s-${t.state}`, text: t.state }), " ",
    el("time", { datetime: t.at, text: when(t.at) }),
    t.amc_status ? el("span", { class: "muted", text: ` AMC ${t.amc_status}` }) : null,
    t.note ? el("br") : null, t.note ? el("span", { class: "muted small", text: t.note }) : null)));
  if (item.error) {
    $("problem").hidden = false;
    $("error-text").textContent = item.error;
    $("advice-text").textContent = item.advice ? `Advice: ${item.advice}` : "";
  }
  if (FINAL.has(item.state)) {
    const cancel = $("cancel");
    if (cancel) cancel.hidden = true;
    if (item.state === "succeeded") loadResults();
  }
}

function follow() {
  if (FINAL.has(root.dataset.state)) {
    if (root.dataset.state === "succeeded") loadResults();
    return;
  }
  const source = new EventSource(`/api/v1/executions/${id}/events`);
  source.addEventListener("state", (message) => {
    const change = JSON.parse(message.data);
    setState(change.state);
    const clicked = Number(sessionStorage.getItem("amc-run-clicked") || 0);
    // For bench/web_bench.py: when each state arrived, counted from the click on Run.
    if (clicked) (window.__liveEvents ||= []).push([change.state, performance.timeOrigin + performance.now() - clicked]);
    if (clicked && change.state !== "queued" && !window.__firstLiveUpdate) {
      window.__firstLiveUpdate = performance.timeOrigin + performance.now() - clicked;
      sessionStorage.removeItem("amc-run-clicked");
    }
    refresh();
    if (FINAL.has(change.state)) source.close();
  });
  source.addEventListener("error", () => { if (FINAL.has(root.dataset.state)) source.close(); });
  window.addEventListener("pagehide", () => source.close());
}

// --- results --------------------------------------------------------------------------------

const PAGE = 50;
const MAX_ROWS = 100000;
let loaded = false;
const result = { columns: [], rows: [], page: 0, sortBy: -1, ascending: true };

function numeric(type) { return /int|float|double|decimal/i.test(type); }

async function loadResults() {
  if (loaded) return;
  loaded = true;
  $("results").hidden = false;
  const box = $("result-table");
  box.replaceChildren(el("p", { class: "muted", text: "Loading rows…" }));
  let offset = 0;
  while (offset !== null && result.rows.length < MAX_ROWS) {
    const answer = await api(`/api/v1/executions/${id}/results?format=json&limit=10000&offset=${offset}`);
    if (!answer.ok) { box.replaceChildren(el("p", { class: "error", text: problemText(answer.data, answer.status) })); return; }
    result.columns = answer.data.columns;
    result.rows.push(...answer.data.rows);
    offset = answer.data.next_offset;
  }
  drawTable();
  chartControls();
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const big = /^-?\d+$/;
  if (big.test(String(a)) && big.test(String(b))) { const x = BigInt(a), y = BigInt(b); return x < y ? -1 : x > y ? 1 : 0; }
  const x = Number(a), y = Number(b);
  if (!Number.isNaN(x) && !Number.isNaN(y) && typeof a !== "boolean") return x - y;
  return String(a).localeCompare(String(b));
}

function sortBy(index) {
  result.ascending = result.sortBy === index ? !result.ascending : true;
  result.sortBy = index;
  const sign = result.ascending ? 1 : -1;
  result.rows.sort((r, s) => sign * compare(r[index], s[index]));
  result.page = 0;
  drawTable(index);
}

function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function drawTable(focusColumn) {
  const { columns, rows } = result;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const first = result.page * PAGE;
  const shown = rows.slice(first, first + PAGE);
  const head = el("tr", {}, ...columns.map((c, i) => {
    const sorted = result.sortBy === i ? (result.ascending ? "ascending" : "descending") : null;
    return el("th", { scope: "col", class: numeric(c.type) ? "num" : "", "aria-sort": sorted },
      el("button", { type: "button", class: "sort", "data-column": String(i), onclick: () => sortBy(i) },
        c.name, el("span", { class: "muted small", text: ` ${c.type}` }),
        el("span", { "aria-hidden": "true", text: sorted ? (sorted === "ascending" ? " ▲" : " ▼") : "" })));
  }));
  const body = shown.map((r) => el("tr", {}, ...r.map((v, i) => el("td", { class: numeric(columns[i].type) ? "num" : "", text: cell(v) }))));
  const table = el("table", { class: "results", id: "rows" },
    el("caption", { class: "sr-only", text: `Result rows ${first + 1} to ${first + shown.length} of ${rows.length}; column headers sort` }),
    el("thead", {}, head), el("tbody", {}, ...body));
  const pager = el("nav", { class: "pager", "aria-label": "Result pages" },
    el("button", { type: "button", class: "secondary small", disabled: result.page === 0 || undefined, onclick: () => { result.page -= 1; drawTable(); } }, "Previous"),
    el("span", { "aria-live": "polite", text: ` Rows ${rows.length ? first + 1 : 0}–${first + shown.length} of ${rows.length} (page ${result.page + 1} of ${pages}) ` }),
    el("button", { type: "button", class: "secondary small", disabled: result.page >= pages - 1 || undefined, onclick: () => { result.page += 1; drawTable(); } }, "Next"));
  $("result-table").replaceChildren(el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Result rows" }, table), pager);
  if (focusColumn !== undefined) $("result-table").querySelector(`button[data-column="${focusColumn}"]`).focus();
}

// --- chart ----------------------------------------------------------------------------------

function chartControls() {
  const { columns } = result;
  if (!columns.length) return;
  $("chart-controls").hidden = false;
  const x = $("chart-x");
  x.replaceChildren(...columns.map((c, i) => el("option", { value: String(i), text: c.name })));
  const firstText = columns.findIndex((c) => !numeric(c.type));
  x.value = String(firstText >= 0 ? firstText : 0);
  const numbers = columns.map((c, i) => [c, i]).filter(([c]) => numeric(c.type));
  $("chart-y").replaceChildren(...numbers.map(([c, i], n) => el("label", { class: "inline" },
    el("input", { type: "checkbox", value: String(i), checked: n === 0 || undefined }), ` ${c.name}`)));
  $("chart-draw").addEventListener("click", drawChart);
}

const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2"];

function drawChart() {
  const xi = Number($("chart-x").value);
  const ys = [...$("chart-y").querySelectorAll("input:checked")].map((b) => Number(b.value));
  const kind = $("chart-kind").value;
  const area = $("chart-area");
  if (!ys.length) { $("chart-caption").textContent = "Choose at least one value column."; $("chart").hidden = false; return; }
  const rows = result.rows.slice(0, 2000);
  const xNumeric = numeric(result.columns[xi].type) && kind === "line";
  const labels = rows.map((r) => cell(r[xi]));
  const xs = rows.map((r, i) => (xNumeric ? Number(r[xi]) : i));
  const data = [xs, ...ys.map((yi) => rows.map((r) => (r[yi] === null ? null : Number(r[yi]))))];
  if (xNumeric) {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    for (let s = 0; s < data.length; s++) data[s] = order.map((i) => data[s][i]);
  }
  $("chart").hidden = false; // measured while shown: a hidden figure is 0 px wide
  const width = Math.max(280, Math.min($("results").clientWidth || 800, 1100));
  const short = (s) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);
  const bars = kind === "bar" ? uPlot.paths.bars({ size: [0.8 / ys.length, 60], align: 0 }) : undefined;
  const series = [{ label: result.columns[xi].name }, ...ys.map((yi, n) => ({
    label: result.columns[yi].name, stroke: PALETTE[n % PALETTE.length],
    fill: kind === "bar" ? PALETTE[n % PALETTE.length] + "cc" : undefined, width: kind === "bar" ? 0 : 2,
    paths: bars, points: { show: kind === "line" && rows.length < 60 },
  }))];
  const axisColour = getComputedStyle(document.body).getPropertyValue("--fg").trim() || "#222";
  const opts = {
    width, height: 320, series,
    scales: {
      x: { time: false, ...(kind === "bar" ? { range: (u, min, max) => [min - 0.5, max + 0.5] } : {}) },
      // Bars start at zero, so their lengths compare honestly.
      ...(kind === "bar" ? { y: { range: (u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.05 || 1] } } : {}),
    },
    axes: [
      xNumeric ? { stroke: axisColour, grid: { show: false } } : {
        stroke: axisColour, grid: { show: false }, rotate: labels.length > 3 ? -35 : 0, size: labels.length > 3 ? 110 : 40,
        splits: () => xs.filter((_, i) => i % Math.ceil(xs.length / 30) === 0), values: (u, splits) => splits.map((v) => short(labels[v] ?? "")),
      },
      { stroke: axisColour, grid: { stroke: "#8884" }, size: 80, values: (u, splits) => splits.map((v) => v.toLocaleString("en-US")) },
    ],
    legend: { show: true },
  };
  area.replaceChildren();
  new uPlot(opts, data, area);
  $("chart").hidden = false;
  $("chart").dataset.kind = kind;
  $("chart-caption").textContent = `${kind === "bar" ? "Bar" : "Line"} chart of ${ys.map((i) => result.columns[i].name).join(", ")} by ${result.columns[xi].name}` +
    (result.rows.length > rows.length ? ` (first ${rows.length} rows)` : ` (${rows.length} rows)`) + ". The table above holds the same values.";
}

follow();
