// Every page: sign in and out, buttons and forms that call the REST API, grants, and the
// executions list's live states (GET /api/v1/events).
import { api, el, problemText } from "./http.js";

function errorSlot(node) {
  const scope = node.closest("form, .actions, td, main") || document;
  return scope.querySelector("[data-error]") || document.querySelector("[data-error]");
}

function showError(node, text) {
  const slot = errorSlot(node);
  if (slot) slot.textContent = text;
}

function formBody(form) {
  const body = {};
  for (const input of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (input.hasAttribute("data-skip") || input.closest("[hidden]")) continue;
    if (input.type === "checkbox" && input.hasAttribute("data-list")) {
      body[input.name] = body[input.name] || [];
      if (input.checked) body[input.name].push(input.value);
      continue;
    }
    if (input.type === "checkbox") { body[input.name] = input.checked; continue; }
    if (input.value === "") continue;
    body[input.name] = input.hasAttribute("data-number") ? Number(input.value) : input.value;
  }
  return body;
}

async function after(node, then, data) {
  if (then === "reload") window.location.reload();
  else if (then && then.startsWith("redirect:")) window.location.assign(then.slice(9).replace("{id}", data && data.id));
  else if (then === "show-token") {
    const box = document.getElementById("new-token");
    document.getElementById("new-token-value").textContent = data.token;
    box.hidden = false;
    box.focus();
    node.reset && node.reset();
  }
}

async function call(node, url, method, body) {
  if (node.dataset.confirm && !window.confirm(node.dataset.confirm)) return;
  showError(node, "");
  node.setAttribute("aria-busy", "true");
  try {
    const answer = await api(url, { method, body });
    if (!answer.ok) { showError(node, problemText(answer.data, answer.status)); return; }
    await after(node, node.dataset.then, answer.data);
    node.dispatchEvent(new CustomEvent("api-done", { bubbles: true, detail: answer.data }));
  } finally {
    node.removeAttribute("aria-busy");
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-api]");
  if (button) {
    event.preventDefault();
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    call(button, button.dataset.api, button.dataset.method || "POST", body);
    return;
  }
  if (event.target.closest("[data-signout]")) {
    api("/api/v1/session", { method: "DELETE" }).finally(() => window.location.assign("/signin"));
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.id === "signin") { event.preventDefault(); signIn(form); return; }
  if (!form.dataset.api) return;
  event.preventDefault();
  call(form, form.dataset.api, form.dataset.method || "POST", formBody(form));
});

document.addEventListener("change", async (event) => {
  const box = event.target.closest("input[data-grant]");
  if (!box) return;
  const answer = await api(box.dataset.grant, { method: box.checked ? "PUT" : "DELETE" });
  const slot = document.getElementById("grant-error");
  if (!answer.ok) { box.checked = !box.checked; slot.textContent = problemText(answer.data, answer.status); }
  else slot.textContent = "";
});

async function signIn(form) {
  const error = form.querySelector("[data-error]");
  error.textContent = "";
  const answer = await api("/api/v1/session", {
    method: "POST",
    body: { email: form.email.value, password: form.password.value },
  });
  if (answer.ok) window.location.assign(form.dataset.next || "/");
  else error.textContent = answer.status === 401 ? "Wrong e-mail or password." : problemText(answer.data, answer.status);
}

// The executions list: each state event updates its row, or adds a row for a new execution.
function liveList(table) {
  const only = table.dataset.state;
  const source = new EventSource(table.dataset.live);
  source.addEventListener("state", (message) => {
    const change = JSON.parse(message.data);
    let row = table.querySelector(`tr[data-id="${CSS.escape(change.id)}"]`);
    if (!row) {
      if (only && change.state !== only) return;
      row = el("tr", { "data-id": change.id },
        el("td", {}, el("a", { href: `/executions/${change.id}` }, el("code", { text: change.id.slice(0, 8) }))),
        el("td", {}, el("code", { text: change.instance_id })),
        el("td", {}, el("span", { class: "state", "data-state": "" })),
        el("td", { text: "" }), el("td", { text: "new" }), el("td", { class: "num", "data-rows": "" }));
      table.tBodies[0].prepend(row);
      const none = document.getElementById("none");
      if (none) none.hidden = true;
    }
    const badge = row.querySelector("[data-state]");
    badge.textContent = change.state;
    badge.className = `state s-${change.state}`;
    if (change.row_count !== null && change.row_count !== undefined) row.querySelector("[data-rows]").textContent = change.row_count;
  });
  window.addEventListener("pagehide", () => source.close());
}

const list = document.querySelector("table[data-live]");
if (list) liveList(list);

// `2026-12-07T06:00:00-05:00` as the zone's wall clock, `2026-12-07 06:00 (UTC-05:00)`.
function local(iso) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d)?(.*)$/.exec(iso);
  if (!m) return iso;
  const offset = m[3] === "Z" ? "+00:00" : m[3];
  return offset ? `${m[1]} ${m[2]} (UTC${offset})` : `${m[1]} ${m[2]}`;
}

// The new-schedule form: every or cron, and a live preview of the next slots and windows.
function scheduleForm(form) {
  const preview = document.getElementById("schedule-preview");
  let timer = null;
  const draw = async () => {
    const body = formBody(form);
    const query = new URLSearchParams({ window: body.window || "", time_zone: body.time_zone || "UTC", count: "5" });
    if (body.cron) query.set("cron", body.cron);
    if (body.every) query.set("every", body.every);
    if (body.at) query.set("at", body.at);
    const answer = await api(`/api/v1/schedules/preview?${query}`);
    if (!answer.ok) { preview.replaceChildren(el("p", { class: "error", text: problemText(answer.data, answer.status) })); return; }
    preview.replaceChildren(el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Next runs" }, el("table", { id: "preview-table" },
      el("thead", {}, el("tr", {}, ...["Fires at", "AMC window (end excluded)"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...answer.data.map((slot) => el("tr", {},
        el("td", { text: local(slot.fire_time) }), el("td", { text: `${slot.window_start} → ${slot.window_end}` })))))));
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(draw, 250); };
  for (const radio of form.querySelectorAll('input[name="cadence-mode"]')) {
    radio.addEventListener("change", () => {
      const cron = form.querySelector('input[name="cadence-mode"]:checked').value === "cron";
      document.getElementById("cadence-cron").hidden = !cron;
      document.getElementById("cadence-every").hidden = cron;
      later();
    });
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  draw();
}

const schedule = document.getElementById("schedule-form");
if (schedule) scheduleForm(schedule);

// A collection's page: the coverage grid fills in as cells move (the collection is read again
// every second while it runs, and at once after an action), without reloading the page.
function liveCollection(root) {
  const id = root.dataset.id;
  let timer = null;
  const shownState = (state) => (state === "complete" ? "succeeded" : state);
  const refresh = async () => {
    clearTimeout(timer);
    const answer = await api(`/api/v1/collections/${id}`);
    if (!answer.ok) return;
    const item = answer.data;
    root.dataset.state = item.state;
    const badge = document.getElementById("collection-state");
    badge.textContent = item.state;
    badge.className = `state c-${shownState(item.state)}`;
    const c = item.coverage;
    document.getElementById("collection-totals").textContent =
      `${c.windows_complete} of ${c.windows_total} windows complete, ${c.cells_succeeded} of ${c.cells_total} cells succeeded`;
    document.getElementById("collection-rows").textContent = item.row_count;
    const t = item.totals;
    const show = { retry: t.failed + t.cancelled + t.rejected > 0, pause: item.state === "running",
      resume: item.state === "paused", "cancel-collection": item.state === "running" || item.state === "paused" };
    for (const [button, visible] of Object.entries(show)) {
      const node = document.getElementById(button);
      if (node) node.hidden = !visible;
    }
    for (const cell of item.cells) {
      const link = root.querySelector(`a[data-cell="${CSS.escape(`${cell.window_start}|${cell.window_end}|${cell.instance_id}`)}"]`);
      if (!link) continue;
      link.dataset.state = cell.state;
      link.className = `cell c-${cell.state}`;
      link.href = `/executions/${cell.execution_id}`;
      const hidden = link.querySelectorAll(".sr-only");
      const where = hidden[hidden.length - 1];
      link.replaceChildren(cell.state, ...(cell.row_count !== null && cell.row_count !== undefined
        ? [` · ${cell.row_count}`, el("span", { class: "sr-only", text: " rows" })] : []), where);
    }
    if (item.state === "running" || item.state === "paused") timer = setTimeout(refresh, 1000);
  };
  root.addEventListener("api-done", refresh);
  if (root.dataset.state === "running" || root.dataset.state === "paused") timer = setTimeout(refresh, 1000);
}

const collection = document.getElementById("collection");
if (collection) liveCollection(collection);
