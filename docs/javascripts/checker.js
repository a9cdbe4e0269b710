// The "is my setup supported?" page: fills the form from the query string,
// keeps the URL a permalink of the answers, and shows the verdict the Python
// checker computes in a Web Worker. Everything the user typed or the URL held
// reaches the page as text nodes only, never as markup.
const root = document.getElementById("sss-checker");
const data = JSON.parse(document.getElementById("sss-data").textContent);
const S = data.strings;
const FIELDS = data.fields;
const BY_ID = Object.fromEntries(FIELDS.map((f) => [f.id, f]));
const form = document.getElementById("sss-form");
const runtime = document.getElementById("sss-runtime");
const result = document.getElementById("sss-result");
const verdictBox = document.getElementById("sss-verdict");
const announce = document.getElementById("sss-announce");
const permalink = document.getElementById("sss-permalink");
const permalinkLink = document.getElementById("sss-permalink-link");
// Verdicts the build computed for the first configurations readers reach
// (sitegen/published.py), shown while the engine loads.
const PUBLISHED = JSON.parse(document.getElementById("sss-published")?.textContent || "null");
const ICON = { supported: "✔", limited: "!", unsupported: "✘", unknown: "?", info: "i" };

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child); // strings become text nodes
  return node;
};

// ---- the query string (the URL contract) ------------------------------------
function configFromQuery(search) {
  const config = {};
  for (const [name, raw] of new URLSearchParams(search)) {
    const field = BY_ID[name];
    let value = raw;
    if (field && field.type === "multi") value = raw === "" ? [] : raw.split(",");
    else if (field && field.type === "boolean" && (raw === "true" || raw === "false")) value = raw === "true";
    config[name] = value;
  }
  return config;
}

function queryFromConfig(config) {
  const parts = [];
  for (const field of FIELDS) {
    if (!(field.id in config)) continue;
    const value = config[field.id];
    const text = Array.isArray(value) ? value.join(",") : String(value);
    parts.push(field.id + "=" + encodeURIComponent(text).replace(/%2C/g, ","));
  }
  return parts.length ? "?" + parts.join("&") : "";
}

// ---- the form -------------------------------------------------------------------
// Same meaning as the engine's conditions: a field not stated never matches.
function holds(cond, config) {
  if (cond.all) return cond.all.every((c) => holds(c, config));
  if (cond.any) return cond.any.some((c) => holds(c, config));
  const value = config[cond.field];
  if (cond.absent) return value === undefined;
  if (value === undefined) return false;
  const items = Array.isArray(value) ? value : [value];
  if (cond.in) return items.some((i) => cond.in.includes(i));
  return items.some((i) => !cond.not_in.includes(i));
}

function readField(field) {
  if (field.type === "multi") {
    const ticked = [...form.querySelectorAll(`input[name="${field.id}"]:checked`)].map((i) => i.value);
    return ticked.length ? ticked : undefined;
  }
  const raw = form.elements[field.id].value;
  if (raw === "") return undefined;
  if (field.type === "boolean") return raw === "true";
  return raw;
}

function writeField(field, value) {
  if (field.type === "multi") {
    const list = Array.isArray(value) ? value : [];
    form.querySelectorAll(`input[name="${field.id}"]`).forEach((i) => (i.checked = list.includes(i.value)));
    return;
  }
  const select = form.elements[field.id];
  const text = value === undefined ? "" : String(value);
  select.value = [...select.options].some((o) => o.value === text) ? text : "";
}

// The answers the form holds, showing only the questions that matter for them.
function configFromForm() {
  const config = {};
  for (const field of FIELDS) {
    const value = readField(field);
    if (value !== undefined) config[field.id] = value;
  }
  // Hiding a question can hide another (and its answer): repeat until stable.
  for (let changed = true; changed; ) {
    changed = false;
    for (const field of FIELDS) {
      if (field.show_when && field.id in config && !holds(field.show_when, config)) {
        delete config[field.id];
        changed = true;
      }
    }
  }
  for (const field of FIELDS) {
    const box = form.querySelector(`[data-field="${field.id}"]`);
    const hide = Boolean(field.show_when) && !holds(field.show_when, config);
    if (box.hidden !== hide) box.hidden = hide; // untouched boxes cost no style work
  }
  return config;
}

// ---- the worker ------------------------------------------------------------------
let worker = null;
let ready = false;
let latest = 0;
const pending = new Map();

function startWorker() {
  if (typeof WebAssembly !== "object") return failed(S["page.checker.no_wasm"]);
  try {
    worker = window.sssWorker || new Worker(new URL("./checker-worker.mjs", import.meta.url), { type: "module" });
  } catch (error) {
    return failed(String(error.message || error));
  }
  worker.onmessage = (event) => {
    const message = event.data;
    if (message.type === "progress") {
      showProgress(message);
    } else if (message.type === "ready") {
      ready = true;
      runtime.hidden = true;
      update({ initial: true });
    } else if (message.type === "failed") {
      failed(message.error);
    } else if (pending.has(message.id)) {
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve(message);
    }
  };
  worker.onerror = (event) => failed(event.message || "worker error");
  // What the early-started worker said before this script ran.
  for (const event of window.sssEarly || []) (event.type === "error" ? worker.onerror : worker.onmessage)(event);
  window.sssEarly = null;
  // A last resort for a runtime that neither loads nor fails.
  setTimeout(() => { if (!ready && !runtime.classList.contains("sss-failed")) failed("timeout"); }, 120_000);
}

function showProgress({ loaded, total }) {
  if (ready || runtime.classList.contains("sss-failed") || !total) return;
  const mb = (n) => (n / 1e6).toLocaleString(data.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  runtime.textContent = fill(S["page.checker.loading_progress"], { loaded: mb(Math.min(loaded, total)), total: mb(total) });
}

function failed(reason) {
  ready = false;
  runtime.hidden = false;
  runtime.classList.add("sss-failed");
  runtime.replaceChildren(
    fill(S["page.checker.failed"], { error: reason }) + " ",
    el("a", { href: root.dataset.siteRoot + data.matrix_page.href }, data.matrix_page.title),
  );
}

let nextId = 1;
function evaluate(config) {
  const id = nextId++;
  latest = id;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ id, request: JSON.stringify({ config, lang: data.lang }) });
  }).then((message) => (id === latest ? message : null));
}

// ---- showing the verdict ----------------------------------------------------------
function clearVerdict(prompt) {
  verdictBox.replaceChildren();
  verdictBox.removeAttribute("data-status");
  verdictBox.removeAttribute("data-source");
  shown = null;
  result.hidden = !prompt;
  if (prompt) verdictBox.append(el("p", { class: "sss-prompt" }, prompt));
}

function showErrors(errors) {
  clearVerdict();
  result.hidden = false;
  const list = el("ul", { class: "sss-errors" });
  for (const e of errors) list.append(el("li", { "data-field": e.field }, e.message));
  verdictBox.append(
    el("p", { class: "sss-status sss-status-error" }, el("span", { "aria-hidden": "true" }, "⚠ "), S["page.checker.errors_title"]),
    list,
    el("p", {}, S["page.checker.errors_hint"]),
  );
  announce.textContent = S["page.checker.errors_title"];
}

// The build's verdict for this configuration, if it published one.
function publishedVerdict(config) {
  const entry = PUBLISHED && PUBLISHED.verdicts[queryFromConfig(config)];
  if (!entry) return null;
  const verdict = { ...entry };
  for (const [name, table] of Object.entries(PUBLISHED.tables)) {
    if (name in entry) verdict[name] = entry[name].map((i) => table[i]);
  }
  return verdict;
}

// While the engine loads: the build's verdict, when it has one.
function showPublished(config) {
  const verdict = !ready && publishedVerdict(config);
  if (verdict) showVerdict(verdict, "build");
}

// User Timing marks, for the benchmark: the build's verdict, the engine's
// first verdict, then every update.
function markVerdict(source) {
  if (source === "build") performance.mark("sss-build-verdict");
  else performance.mark(performance.getEntriesByName("sss-first-verdict").length ? "sss-verdict" : "sss-first-verdict");
}

let shown = null; // what the verdict box shows, as {json, source}

// source: "build" (computed when the site was built) or "engine" (in this browser).
function showVerdict(verdict, source = "engine") {
  const json = JSON.stringify(verdict);
  if (shown && shown.json === json && shown.source === "build" && source === "engine") {
    // The engine confirms what the build said: nothing to redraw.
    shown.source = source;
    verdictBox.setAttribute("data-source", source);
    verdictBox.querySelector(".sss-source")?.remove();
    markVerdict(source);
    return;
  }
  shown = { json, source };
  verdictBox.replaceChildren();
  result.hidden = false;
  const status = verdict.status;
  const heading = el("p", { class: `sss-status sss-status-${status}` },
    el("span", { class: "sss-icon", "aria-hidden": "true" }, ICON[status] + " "),
    el("strong", {}, S["status." + status]));
  const list = el("ul", { class: "sss-findings" });
  for (const f of verdict.findings) {
    const item = el("li", { class: `sss-finding sss-sev-${f.severity}`, "data-rule": f.rule, "data-severity": f.severity },
      el("span", { class: "sss-sev" },
        el("span", { "aria-hidden": "true" }, ICON[f.severity] + " "), S["severity." + f.severity]),
      " ", f.message);
    if (f.remedy) item.append(el("p", { class: "sss-remedy" }, fill(S["cli.remedy"], { remedy: f.remedy })));
    const label = f.facts.length ? fill(S["page.checker.see"], { facts: f.facts.join(", ") }) : S["page.checker.see_nofacts"];
    item.append(el("p", { class: "sss-link" }, el("a", { href: root.dataset.siteRoot + f.link }, label)));
    list.append(item);
  }
  verdictBox.append(heading, el("p", {}, S["status.explain." + status]), list);
  if (source === "build") verdictBox.append(el("p", { class: "sss-source" }, S["page.checker.from_build"]));
  verdictBox.setAttribute("data-status", status);
  verdictBox.setAttribute("data-source", source);
  markVerdict(source);
  announce.textContent = fill(S["page.checker.announce"], { status: S["status." + status], count: verdict.findings.length });
}

// ---- wiring ---------------------------------------------------------------------------
function syncUrl(config) {
  const query = queryFromConfig(config);
  if (query !== location.search) history.replaceState(history.state, "", location.pathname + query + location.hash);
  showPermalink();
}

function showPermalink() {
  permalink.hidden = !location.search;
  permalinkLink.href = location.href;
  permalinkLink.textContent = location.href;
}

let urlTimer = null;
function syncUrlSoon(config) {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => syncUrl(config), 150);
}

let queryConfig = null; // what the URL held on arrival, checked once

async function update({ initial = false } = {}) {
  const fromQuery = initial && queryConfig;
  const config = fromQuery ? queryConfig : configFromForm();
  const complete = "deployment" in config && "email_system" in config;
  // Ask first, then update the address while the worker answers.
  const asked = ready && (complete || fromQuery) ? evaluate(config) : null;
  // The address follows once the edits pause: rewriting it costs a few
  // milliseconds a frame, which the answer should not wait for.
  if (!fromQuery) syncUrlSoon(config);
  if (!ready) showPublished(config);
  if (!asked) return ready ? clearVerdict(S["page.checker.prompt"]) : undefined;
  const message = await asked;
  if (!message) return; // a newer answer is on its way
  if (message.error) return failed(message.error);
  const answer = JSON.parse(message.response);
  if (answer.errors) return showErrors(answer.errors);
  if (fromQuery) {
    queryConfig = null;
    return update(); // the query was valid: show it as the form sees it
  }
  showVerdict(answer);
}

// Take the answers from the address: on arrival, and when history moves.
function applyQuery() {
  const fromQuery = configFromQuery(location.search);
  queryConfig = Object.keys(fromQuery).length ? fromQuery : null;
  for (const field of FIELDS) writeField(field, fromQuery[field.id]);
  configFromForm();
  showPermalink();
  if (ready) update({ initial: true });
  else if (queryConfig) showPublished(queryConfig);
}

function init() {
  form.hidden = false;
  runtime.hidden = false;
  startWorker();
  applyQuery();
  window.addEventListener("popstate", applyQuery);
  form.addEventListener("change", () => { queryConfig = null; update(); });
  form.addEventListener("reset", () => setTimeout(() => { queryConfig = null; update(); }));
  form.addEventListener("submit", (event) => event.preventDefault());
}

init();
