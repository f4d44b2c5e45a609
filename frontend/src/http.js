// What every bundle shares: calls of the REST API with the session's CSRF token, exact JSON
// (integers a double cannot hold stay text), and readable problem+json errors.

export function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// JSON.parse keeping integers beyond 2^53 exact, as text (the reviver sees the source).
export function parseExact(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context &&
        /^-?\d+$/.test(context.source)) {
      return context.source;
    }
    return value;
  });
}

export async function api(url, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf();
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = parseExact(text); } catch { data = { detail: text }; }
  }
  if (response.status === 401 && !url.endsWith("/session")) {
    window.location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search));
  }
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

export function problemText(data, status) {
  if (!data) return `The server answered ${status}.`;
  const parts = [data.detail || data.title || `The server answered ${status}.`];
  if (Array.isArray(data.errors)) {
    for (const e of data.errors.slice(0, 5)) {
      const where = e.line ? `line ${e.line}: ` : (e.loc ? `${[].concat(e.loc).join(".")}: ` : "");
      parts.push(where + (e.message || e.msg || ""));
    }
  }
  if (data.hint) parts.push(data.hint);
  return parts.join(" ");
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace("Z", " UTC");
}
