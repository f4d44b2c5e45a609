// The query editor: CodeMirror 6 with SQL highlighting, line numbers, table and column
// completion, lint as you type (POST /api/v1/validate, debounced), the parameter form from
// the SQL's declarations, the window picker showing AMC's window, and Run.
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { sql, StandardSQL } from "@codemirror/lang-sql";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { syntaxHighlighting, HighlightStyle, bracketMatching } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";
import { api, el, problemText } from "./http.js";

const boot = JSON.parse(document.getElementById("editor-boot").textContent);
const $ = (id) => document.getElementById(id);

// Colours from CSS variables, so light and dark mode both keep AA contrast.
const highlight = HighlightStyle.define([
  { tag: t.keyword, color: "var(--syn-keyword)", fontWeight: "600" },
  { tag: [t.string, t.special(t.string)], color: "var(--syn-string)" },
  { tag: [t.number, t.bool, t.null], color: "var(--syn-number)" },
  { tag: [t.lineComment, t.blockComment, t.comment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [t.typeName, t.standard(t.name)], color: "var(--syn-type)" },
  { tag: [t.operator, t.punctuation], color: "var(--fg)" },
]);

// --- lint -----------------------------------------------------------------------------------

let lastWindow = null;

function windowRequest() {
  const body = { time_zone: $("timezone").value };
  if (document.querySelector('input[name="window-mode"]:checked').value === "relative") {
    body.window = $("relative").value;
  } else {
    if ($("start").value) body.start = $("start").value;
    if ($("end").value) body.end = $("end").value;
  }
  return body;
}

function checkBody(text) {
  const body = { sql: text, ...windowRequest(), parameters: parameterValues() };
  const instance = $("instance").value;
  if (instance) body.instance_id = instance;
  return body;
}

function tokenEnd(line, from) {
  const rest = line.text.slice(from - line.from);
  const word = /^[\w.$"`{}]+/.exec(rest);
  return from + Math.max(1, word ? word[0].length : 1);
}

function diagnosticsOf(doc, problems) {
  const found = [];
  for (const p of problems) {
    if (!p.line || p.line > doc.lines) continue;
    const line = doc.line(p.line);
    const from = Math.min(line.to, line.from + Math.max(0, (p.column || 1) - 1));
    found.push({
      from,
      to: Math.min(line.to, tokenEnd(line, from)),
      severity: p.severity === "error" ? "error" : "warning",
      message: p.hint ? `${p.message}\nHint: ${p.hint}` : p.message,
      renderMessage: () => el("div", { class: "lint-message" },
        el("strong", { text: p.message }), p.hint ? el("div", { class: "lint-hint", text: `Hint: ${p.hint}` }) : null),
    });
  }
  return found;
}

function listProblems(problems) {
  const list = $("problems");
  list.replaceChildren(...problems.map((p) => el("li", { class: `problem ${p.severity}` },
    el("span", { class: "where", text: p.line ? `Line ${p.line}, column ${p.column || 1}` : "Query" }), " ",
    el("span", { class: `sev ${p.severity}`, text: p.severity }), " ",
    el("span", { text: p.message }), p.hint ? el("div", { class: "muted small", text: `Hint: ${p.hint}` }) : null)));
  const errors = problems.filter((p) => p.severity === "error").length;
  $("problem-count").textContent = problems.length ? `${errors} errors, ${problems.length - errors} warnings` : "none";
}

function showWindow(win) {
  lastWindow = win;
  const out = $("amc-window");
  if (!win) { out.textContent = "not valid yet (see the problems)"; return; }
  // AMC takes local times without an offset, in the window's zone.
  if (win.start) out.textContent = `EXPLICIT ${win.start.slice(0, 19)} to ${win.end.slice(0, 19)} (end excluded), ${win.time_zone}`;
  else out.textContent = `${win.type}, ${win.time_zone}`;
}

async function check(view) {
  const answer = await api("/api/v1/validate", { method: "POST", body: checkBody(view.state.doc.toString()) });
  if (!answer.ok) {
    listProblems([{ severity: "error", message: problemText(answer.data, answer.status) }]);
    return [];
  }
  listProblems(answer.data.problems);
  showWindow(answer.data.window);
  document.body.dataset.linted = String(Number(document.body.dataset.linted || 0) + 1);
  return diagnosticsOf(view.state.doc, answer.data.problems);
}

// --- parameters -----------------------------------------------------------------------------

const NUMERIC = /^(INTEGER|INT|LONG|BIGINT|SMALLINT|DECIMAL|DOUBLE|FLOAT|NUMBER)/i;

function declaredParameters(text) {
  const found = new Map();
  for (const line of text.split("\n")) {
    const m = /^\s*--\s*@param\s+(\w+)\s+(\S+)(?:\s+(.+?))?\s*$/.exec(line);
    if (m) found.set(m[1], { name: m[1], type: m[2].toUpperCase(), default: m[3], kind: "custom" });
  }
  const placeholder = /(\bIN\s*)?\{\{\s*(\w+)\s*\}\}/gi;
  let m;
  while ((m = placeholder.exec(text)) !== null) {
    const name = m[2];
    const list = Boolean(m[1]);
    const known = found.get(name);
    if (!known) found.set(name, { name, kind: "placeholder", list });
    else if (list) known.list = true;
  }
  return [...found.values()];
}

function isList(p) { return p.list || /^ARRAY</i.test(p.type || ""); }
function itemType(p) { return ((p.type || "").match(/^ARRAY<(.+)>$/i) || [])[1] || p.type || ""; }

function defaultText(p) {
  if (p.default === undefined) return "";
  try {
    const v = JSON.parse(p.default);
    return Array.isArray(v) ? v.join("\n") : String(v);
  } catch { return p.default; }
}

let paramSignature = "";

function renderParameters(text) {
  const params = declaredParameters(text);
  const signature = JSON.stringify(params);
  if (signature === paramSignature) return;
  paramSignature = signature;
  const box = $("params");
  const kept = {};
  for (const input of box.querySelectorAll("[data-param]")) kept[input.dataset.param] = input.type === "checkbox" ? input.checked : input.value;
  if (!params.length) { box.replaceChildren(el("p", { class: "muted", text: "This query declares no parameters." })); return; }
  box.replaceChildren(...params.map((p) => {
    const id = `param-${p.name}`;
    const list = isList(p);
    const type = itemType(p);
    const label = `${p.name}${p.type ? ` (${p.type})` : ""}${list ? ": a list, one value per line" : ""}`;
    let input;
    if (list) input = el("textarea", { id, rows: "3", "data-param": p.name, "data-list": "1", "data-type": type });
    else if (/^BOOLEAN/i.test(type)) input = el("input", { id, type: "checkbox", "data-param": p.name, "data-type": type });
    else input = el("input", { id, type: NUMERIC.test(type) ? "number" : "text", step: "any", "data-param": p.name, "data-type": type });
    if (input.type === "checkbox") input.checked = kept[p.name] ?? defaultText(p) === "true";
    else input.value = kept[p.name] ?? (initialParameters[p.name] !== undefined ? asText(initialParameters[p.name]) : defaultText(p));
    const kindNote = p.kind === "placeholder" ? "{{placeholder}}" : "CUSTOM_PARAMETER";
    return el("div", { class: "field" }, el("label", { for: id, text: label }), input, el("span", { class: "muted small", text: kindNote }));
  }));
}

const initialParameters = boot.parameters || {};
function asText(v) { return Array.isArray(v) ? v.join("\n") : String(v); }

function typed(text, type) {
  if (NUMERIC.test(type) && text.trim() !== "" && !Number.isNaN(Number(text))) {
    return Number.isSafeInteger(Number(text)) || !/^-?\d+$/.test(text.trim()) ? Number(text) : text.trim();
  }
  return text;
}

function parameterValues() {
  const values = {};
  for (const input of $("params").querySelectorAll("[data-param]")) {
    const type = input.dataset.type || "";
    if (input.type === "checkbox") values[input.dataset.param] = input.checked;
    else if (input.dataset.list) {
      const items = input.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (items.length) values[input.dataset.param] = items.map((s) => typed(s, type));
    } else if (input.value !== "") values[input.dataset.param] = typed(input.value, type);
  }
  return values;
}

// --- the editor -----------------------------------------------------------------------------

const schema = {};
for (const table of boot.tables) schema[table.name] = table.columns.map((c) => c.name);

let relint = () => {};
const view = new EditorView({
  parent: $("sql-editor"),
  state: EditorState.create({
    doc: boot.sql,
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), bracketMatching(),
      closeBrackets(), highlightActiveLine(), autocompletion(), lintGutter(),
      sql({ dialect: StandardSQL, schema, upperCaseKeywords: true }),
      syntaxHighlighting(highlight),
      linter(check, { delay: 500 }),
      keymap.of([
        { key: "Mod-Enter", run: () => { run(); return true; } },
        ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap,
      ]),
      EditorView.updateListener.of((u) => { if (u.docChanged) renderParameters(u.state.doc.toString()); }),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-labelledby": "sql-label", "aria-multiline": "true", role: "textbox", tabindex: "0" }),
    ],
  }),
});
window.amcEditor = view; // tests and power users: the CodeMirror view

// Changing the window, the parameters or the instance re-checks: the lint covers them too.
relint = debounce(() => forceLinting(view), 300);

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

for (const id of ["start", "end", "relative", "timezone", "instance"]) $(id).addEventListener("change", relint);
$("params").addEventListener("input", relint);
for (const radio of document.querySelectorAll('input[name="window-mode"]')) {
  radio.addEventListener("change", () => {
    const relative = radio.value === "relative" && radio.checked;
    $("window-relative").hidden = !relative;
    $("window-dates").hidden = relative;
    relint();
  });
}

// --- window defaults ------------------------------------------------------------------------

function daysBefore(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

function startWindow() {
  const w = boot.window || {};
  if (w.time_zone) $("timezone").value = w.time_zone;
  if (w.start && w.type === "EXPLICIT") {
    $("start").value = w.start.slice(0, 10);
    $("end").value = daysBefore(w.end.slice(0, 10), w.end.slice(11) === "00:00:00" ? 1 : 0);
  } else if (w.type && w.type !== "EXPLICIT") {
    document.querySelector('input[name="window-mode"][value="relative"]').click();
    $("relative").value = w.type;
  } else {
    $("start").value = daysBefore(boot.today, 16);
    $("end").value = daysBefore(boot.today, 3);
  }
}

// --- the library ----------------------------------------------------------------------------

function startLibrary() {
  const select = $("library");
  for (const entry of boot.library) select.append(el("option", { value: entry.name, text: `${entry.title} (${entry.name})` }));
  select.addEventListener("change", async () => {
    if (!select.value) return;
    const answer = await api(`/api/v1/library/${encodeURIComponent(select.value)}`);
    if (!answer.ok) { $("run-error").textContent = problemText(answer.data, answer.status); return; }
    $("library-question").textContent = answer.data.question;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: answer.data.sql } });
  });
}

// --- run ------------------------------------------------------------------------------------

let running = false;
async function run() {
  if (running) return;
  const button = $("run");
  const error = $("run-error");
  error.textContent = "";
  if (!$("instance").value) { error.textContent = "Choose an instance you may run on."; return; }
  running = true;
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    const answer = await api("/api/v1/executions", {
      method: "POST", body: checkBody(view.state.doc.toString()), headers: { "Idempotency-Key": key },
    });
    if (answer.ok) {
      sessionStorage.setItem("amc-run-clicked", String(window.__runClickedAt || performance.timeOrigin + performance.now()));
      window.location.assign(`/executions/${answer.data.id}`);
      return;
    }
    const problems = answer.data && Array.isArray(answer.data.errors) ? answer.data.errors.filter((e) => e.severity) : [];
    if (problems.length) listProblems(problems);
    error.textContent = problemText(answer.data, answer.status);
  } finally {
    running = false;
    button.disabled = false;
    button.textContent = "Run";
  }
}

$("run").addEventListener("click", () => { window.__runClickedAt = performance.timeOrigin + performance.now(); run(); });

startWindow();
startLibrary();
renderParameters(boot.sql);
schemaPanel();

// --- schema panel ---------------------------------------------------------------------------

function schemaPanel() {
  const list = $("schema-list");
  const search = $("schema-search");
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = [];
    for (const table of boot.tables) {
      const tableHit = !q || table.name.includes(q);
      const columns = tableHit ? table.columns : table.columns.filter((c) => c.name.includes(q));
      if (!tableHit && !columns.length) continue;
      shown.push({ table, columns, open: Boolean(q) && !tableHit });
      if (shown.length >= 80) break;
    }
    list.replaceChildren(...shown.map(({ table, columns, open }) => {
      const details = el("details", { open: open || undefined }, el("summary", {}, el("span", { text: table.name }), el("span", { class: "muted small", text: ` ${table.columns.length} columns` })));
      details.addEventListener("toggle", () => {
        if (!details.open || details.querySelector("table")) return;
        details.append(el("table", { class: "columns" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Column" }), el("th", { scope: "col", text: "Type" }), el("th", { scope: "col", text: "Threshold" }))),
          el("tbody", {}, ...columns.map((c) => el("tr", {}, el("td", {}, el("code", { text: c.name })), el("td", { text: c.type }), el("td", { text: c.threshold }))))));
      }, { once: false });
      if (open) details.dispatchEvent(new Event("toggle"));
      return details;
    }));
    if (!shown.length) list.replaceChildren(el("p", { class: "muted", text: "No table or column matches." }));
  };
  search.addEventListener("input", debounce(draw, 150));
  draw();
}
