// The "is my setup supported?" page: fills the form from the query string,
// keeps the URL a permalink of the answers, and shows the verdict the Python
// checker computes in a Web Worker. Everything the user typed or the URL held
// reaches the page as text nodes only, never as markup.
import { startSearch } from "./search-later.mjs";

const root = document.getElementById("sss-checker");
const data = JSON.parse(document.getElementById("sss-data").textContent);
const S = data.strings;
const FIELDS = data.fields;
const BY_ID = new Map(FIELDS.map((f) => [f.id, f])); // a Map: "__proto__" is just a name here
const RULE_FIELDS = new Map(Object.entries(data.rule_fields || {}));
const LIFECYCLE = new Set(data.lifecycle_rules || []);
const PRIMARY = ["deployment", "email_system", "sync"];
// The questions an administrator knows the answers to, asked first and always
// in view (when they apply); the technical ones follow them.
const FIRST = [...PRIMARY, "tenant", "server_profile"];
const form = document.getElementById("sss-form");
const runtime = document.getElementById("sss-runtime");
const runtimeText = document.getElementById("sss-runtime-text");
const progress = document.getElementById("sss-progress");
const panel = document.getElementById("sss-panel");
const resultTitle = document.getElementById("sss-result-title");
const verdictBox = document.getElementById("sss-verdict");
const announce = document.getElementById("sss-announce");
const permalink = document.getElementById("sss-permalink");
const permalinkLink = document.getElementById("sss-permalink-link");
const copyButton = document.getElementById("sss-copy");
const copyStatus = document.getElementById("sss-copy-status");
const printDate = document.getElementById("sss-print-date");
const bar = document.getElementById("sss-bar");
const barStatus = document.getElementById("sss-bar-status");
const barCounts = document.getElementById("sss-bar-counts");
const barOpen = document.getElementById("sss-bar-open");
const barHolds = document.getElementById("sss-bar-holds");
const barEos = document.getElementById("sss-bar-eos");
const deciding = document.getElementById("sss-deciding");
const more = document.getElementById("sss-more");
// Verdicts the build computed for the first configurations readers reach
// (sitegen/published.py), shown while the engine loads.
const PUBLISHED = JSON.parse(document.getElementById("sss-published")?.textContent || "null");
const ICON = { supported: "✔", limited: "!", unsupported: "✘", unknown: "?", info: "i" };

// One pass over the template: a value that looks like "{allowed}" stays as typed.
// "{count#one|other}" is the word for that number: the first form for exactly 1.
const fill = (text, values) => text.replace(/\{(\w+)(?:#([^|{}]*)\|([^{}]*))?\}/g, (m, k, one, other) => {
  if (!Object.hasOwn(values, k)) return m;
  if (one === undefined) return String(values[k]);
  return Number(values[k]) === 1 ? one : other;
});
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child); // strings become text nodes
  return node;
};
const valueLabel = (field, value) => (Object.hasOwn(field.labels, String(value)) ? field.labels[String(value)] : String(value));
const answerText = (field, value) => (Array.isArray(value) ? value : [value]).map((v) => valueLabel(field, v)).join(", ");
// The questions' boxes stay the same elements for the page's life: looked up once.
const boxes = new Map();
const box = (id) => {
  if (!boxes.has(id)) boxes.set(id, form.querySelector(`[data-field="${id}"]`));
  return boxes.get(id);
};

// ---- the query string (the URL contract) ------------------------------------
// A partial address is a partial form: a missing answer is no error. Names and
// values the contract does not know, or a name given twice, are errors named
// with the question's label and the labels allowed.
function configFromQuery(search) {
  const config = Object.create(null);
  const errors = [];
  const seen = new Set();
  const allowedFields = FIELDS.map((f) => f.label).join("; ");
  for (const [name, raw] of new URLSearchParams(search)) {
    const field = BY_ID.get(name);
    if (!field) {
      errors.push({ field: name, message: fill(S["page.checker.query_unknown_field"], { given: name, allowed: allowedFields }) });
      continue;
    }
    const allowed = field.values.map((v) => valueLabel(field, v)).join(", ");
    if (seen.has(name)) {
      errors.push({ field: name, message: fill(S["page.checker.query_repeated"], { field: field.label, allowed }) });
      delete config[name];
      continue;
    }
    seen.add(name);
    const items = field.type === "multi" ? raw.split(",") : [raw];
    const bad = items.find((item) => !field.values.includes(item));
    if (bad !== undefined) {
      errors.push({ field: name, message: fill(S["page.checker.query_unknown_value"], { field: field.label, given: bad, allowed }) });
      continue;
    }
    if (field.type === "multi") config[name] = items;
    else if (field.type === "boolean") config[name] = raw === "true";
    else config[name] = raw;
  }
  return { config, errors };
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
    const node = box(field.id);
    const hide = Boolean(field.show_when) && !holds(field.show_when, config);
    if (node.hidden !== hide) node.hidden = hide; // untouched boxes cost no style work
  }
  return config;
}

// The technical questions: those the verdict still depends on (its open
// questions) and those already answered are asked, in the matrix's order; the
// rest wait in the collapsed group. The layout is redone only when the setup
// (deployment, email system) changes, so a question never moves away from
// under the reader's hand while they answer it; a question that becomes open
// later leaves the collapsed group for the end of the asked ones.
let orderedFor = null;
function orderQuestions(openQuestions, config, status) {
  const open = openQuestions.map((q) => q.field).filter((id) => BY_ID.has(id) && !FIRST.includes(id));
  const key = `${config.deployment}|${config.email_system}`;
  if (key !== orderedFor) {
    orderedFor = key;
    const wanted = new Map([[deciding, []], [more, []]]);
    for (const field of FIELDS) {
      if (FIRST.includes(field.id)) continue;
      wanted.get(open.includes(field.id) || field.id in config ? deciding : more).push(box(field.id));
    }
    // Moved only where the order changes: moving a box re-lays the whole form out.
    for (const [container, nodes] of wanted) {
      const held = [...container.children].filter((child) => child.classList.contains("sss-q"));
      if (held.length !== nodes.length || held.some((node, i) => node !== nodes[i])) container.append(...nodes);
    }
  } else {
    for (const id of open) if (more.contains(box(id))) deciding.append(box(id));
  }
  deciding.hidden = !deciding.querySelector(".sss-q:not([hidden])");
  showWhy(openQuestions, status);
}

// Under each open question, one line: which answers would change this
// verdict, and to what ("Changes the result: Not supported: POP3, IMAP").
const STATUS_ORDER = ["supported", "limited", "unknown", "unsupported"];
function whyLine(field, outcomes, current) {
  const groups = new Map();
  for (const value of field.values) {
    const status = outcomes[value];
    if (!status || status === current) continue;
    if (!groups.has(status)) groups.set(status, []);
    groups.get(status).push(valueLabel(field, value));
  }
  if (!groups.size) return "";
  // A long list is said the short way round: "any answer but S2S, OAuth".
  const all = field.values.filter((v) => outcomes[v]).map((v) => valueLabel(field, v));
  const say = (labels) => {
    const others = all.filter((l) => !labels.includes(l));
    return labels.length >= 3 && others.length < labels.length
      ? fill(S["page.checker.why_except"], { values: others.join(", ") }) : labels.join(", ");
  };
  const parts = [...groups].sort((a, b) => STATUS_ORDER.indexOf(a[0]) - STATUS_ORDER.indexOf(b[0]))
    .map(([status, labels]) => `${S["status." + status]}: ${say(labels)}`);
  return fill(S["page.checker.why"], { outcomes: parts.join(" · ") });
}

function showWhy(openQuestions, current) {
  const why = new Map();
  for (const q of openQuestions) {
    const field = BY_ID.get(q.field);
    if (field && q.outcomes) why.set(q.field, whyLine(field, q.outcomes, current));
  }
  for (const node of form.querySelectorAll(".sss-why")) {
    const text = why.get(node.dataset.for) || "";
    if (node.textContent !== text) node.textContent = text;
    if (node.hidden !== !text) node.hidden = !text;
  }
}

function focusQuestion(id) {
  const node = box(id);
  if (!node) return;
  if (more.contains(node)) more.open = true;
  const control = node.querySelector("select, input");
  node.scrollIntoView({ block: "center" });
  if (control) control.focus({ preventScroll: true });
}

// ---- the worker ------------------------------------------------------------------
let worker = null;
let ready = false;
let latest = 0;
const pending = new Map();

// Loading progress: the worker reports the bytes of the runtime fetched so
// far. A download that stops for STALL_MS is reported, not waited on.
const STALL_MS = 15_000;
let stallTimer = null;
function formatBytes(n) {
  return n >= 1e6 ? (n / 1e6).toFixed(1) + " MB" : Math.round(n / 1e3) + " kB";
}
export function onProgress(loaded, total, downloads = 0) {
  if (ready || runtime.classList.contains("sss-failed")) return;
  clearTimeout(stallTimer);
  progress.hidden = false;
  if (total > 0) {
    progress.max = total;
    progress.value = Math.min(loaded, total);
  } else {
    progress.removeAttribute("value"); // indeterminate
  }
  const done = downloads === 0 && total > 0 && loaded >= total;
  runtimeText.textContent = done
    ? S["page.checker.starting"]
    : fill(S[total > 0 ? "page.checker.progress" : "page.checker.progress_unknown"],
      { loaded: formatBytes(loaded), total: formatBytes(total) });
  if (!done) stallTimer = setTimeout(() => { if (!ready) failed(S["page.checker.stalled"]); }, STALL_MS);
}
window.sssProgress = onProgress; // for a worker started before this module

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
      onProgress(message.loaded, message.total, message.pending || 0);
    } else if (message.type === "ready") {
      ready = true;
      // How the engine started, and why that way (the tests and the bench read these).
      root.dataset.runtimeVia = message.via || "";
      root.dataset.runtimePath = message.path || "";
      root.dataset.runtimeReason = message.reason || "";
      root.dataset.runtimeCompiled = message.compiled || "";
      markRuntime(message.timings);
      clearTimeout(stallTimer);
      // The line stays (saying so), so nothing below it moves.
      runtime.classList.add("sss-ready");
      runtimeText.textContent = S["page.checker.ready"];
      update({ initial: true }).finally(() => { startSearch(); warmUp(); });
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

// The worker's moments of the start as this page's User Timing marks
// ("sss-runtime-wasm-compiled", …), for the bench's breakdown.
function markRuntime(timings) {
  if (!timings || typeof timings !== "object") return;
  for (const [name, epochMs] of Object.entries(timings)) {
    const at = epochMs - performance.timeOrigin;
    if (Number.isFinite(at) && at >= 0) performance.mark("sss-runtime-" + name, { startTime: at });
  }
}

// Once the first answer is shown: the worker works out, while idle, the
// answers one change away (each value of each question the form shows), so
// the engine's hot code is optimized before the reader changes an answer.
function warmUp() {
  if (!worker) return;
  const config = configFromForm();
  if (!("deployment" in config && "email_system" in config)) return;
  const requests = [];
  for (let round = 0; round < 3; round++) {
    for (const field of FIELDS) {
      if (field.type === "multi" || !Array.isArray(field.values)) continue;
      for (const value of field.values) {
        requests.push(JSON.stringify({ config: { ...config, [field.id]: value }, lang: data.lang }));
      }
    }
  }
  worker.postMessage({ type: "warm", requests });
}

function failed(reason) {
  startSearch();
  ready = false;
  clearTimeout(stallTimer);
  runtime.hidden = false;
  progress.hidden = true;
  runtime.classList.add("sss-failed");
  runtimeText.replaceChildren(
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
function showBar(statusText, counts, status, holds = "", eos = "") {
  barStatus.textContent = statusText;
  barCounts.textContent = counts;
  bar.dataset.status = status || "";
  // Never a bare status while an open question could change it: the first
  // conditions it holds under, and an end-of-support warning when there is one.
  barHolds.textContent = holds;
  barHolds.hidden = !holds;
  barEos.textContent = eos;
  barEos.hidden = !eos;
}

// "Label: value or value; Label: value" for [{field, values}] (holds_if, worse_if, applies_if).
function conditionsText(conditions) {
  return conditions.map((c) => {
    const field = BY_ID.get(c.field);
    return fill(S["page.checker.condition"], {
      field: field ? field.label : c.field,
      values: c.values.map((v) => (field ? valueLabel(field, v) : String(v))).join(S["page.checker.or"]),
    });
  }).join("; ");
}

// The fix's button: what it keeps and, in words, what it stops synchronizing.
function fixLabel(f) {
  const drops = (f.fix_drops || []).find((d) => d.field === "sync");
  const field = BY_ID.get("sync");
  if (!drops || !field || !Array.isArray(f.fix.sync)) return S["page.checker.apply_fix"];
  const lower = (text) => text.charAt(0).toLowerCase() + text.slice(1);
  return fill(S["page.checker.fix_sync_only"], {
    kept: lower(answerText(field, f.fix.sync)),
    dropped: lower(answerText(field, drops.values)),
  });
}

function clearVerdict(prompt) {
  verdictBox.replaceChildren();
  verdictBox.removeAttribute("data-status");
  verdictBox.removeAttribute("data-source");
  shown = null;
  if (prompt) verdictBox.append(el("p", { class: "sss-prompt" }, prompt));
  showBar(prompt || "", "", "");
}

function showErrors(errors) {
  clearVerdict();
  const list = el("ul", { class: "sss-errors" });
  for (const e of errors) list.append(el("li", { "data-field": String(e.field) }, e.message));
  verdictBox.append(
    el("p", { class: "sss-status sss-status-error" }, el("span", { "aria-hidden": "true" }, "⚠ "), S["page.checker.errors_title"]),
    list,
    el("p", {}, S["page.checker.errors_hint"]),
  );
  showBar("⚠ " + S["page.checker.errors_title"], "", "error");
  announce.textContent = S["page.checker.errors_title"];
}

// The build's verdict for this configuration, if it published one: its
// answers' positions among PUBLISHED.choices, read as one mixed-radix number,
// name its digits in PUBLISHED.index (sitegen/published.py).
function publishedVerdict(config) {
  if (!PUBLISHED || !PUBLISHED.index) return null;
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (Object.keys(config).some((name) => !PUBLISHED.fields.includes(name))) return null;
  let place = 0;
  for (const name of PUBLISHED.fields) {
    const options = PUBLISHED.choices[name];
    const at = options.findIndex((option) => same(option, config[name]));
    if (at < 0) return null;
    place = place * options.length + at;
  }
  const width = PUBLISHED.width;
  const code = parseInt(PUBLISHED.index.slice(place * width, (place + 1) * width), 36);
  const entry = code > 0 ? PUBLISHED.verdicts[code - 1] : null;
  if (!entry) return null;
  const verdict = { ...entry };
  for (const [name, table] of Object.entries(PUBLISHED.tables)) {
    if (name in entry) verdict[name] = entry[name].map((i) => table[i]);
  }
  return verdict;
}

// While the engine loads: the build's verdict, when it has one; otherwise
// no verdict (not one left from other answers) until the engine's.
function showPublished(config) {
  if (ready) return;
  const verdict = publishedVerdict(config);
  if (verdict) renderVerdict(verdict, "build", config);
  else if ("deployment" in config && "email_system" in config) clearVerdict(S["page.checker.waiting"]);
}

// User Timing marks, for the benchmark: the build's verdict, the engine's
// first verdict, then every update.
function markVerdict(source) {
  if (source === "build") performance.mark("sss-build-verdict");
  else performance.mark(performance.getEntriesByName("sss-first-verdict").length ? "sss-verdict" : "sss-first-verdict");
}

let shown = null; // what the verdict box shows, as {json, source}

let shownConfig = null; // the answers the verdict on screen is for

// What the matrix made of each answer: the reasons whose rule looks at it, or
// "the matrix does not restrict this here".
function considered(config, findings) {
  const list = el("ul", { class: "sss-considered" });
  for (const field of FIELDS) {
    if (!(field.id in config)) continue;
    const refs = [];
    findings.forEach((f, i) => {
      if ((RULE_FIELDS.get(f.rule) || []).includes(field.id)) refs.push([i, f]);
    });
    const back = el("a", { href: `#sss-q-${field.id}`, class: "sss-answer-link", "data-field": field.id,
      "aria-label": fill(S["page.checker.back_to_answer"], { field: field.label }) }, field.label);
    back.addEventListener("click", (event) => { event.preventDefault(); focusQuestion(field.id); });
    const item = el("li", { "data-field": field.id },
      el("span", { class: "sss-answer-label" }, back, ": "),
      el("strong", {}, answerText(field, config[field.id])), " — ");
    if (refs.length) {
      refs.forEach(([i, f], n) => {
        if (n) item.append(", ");
        item.append(el("a", { href: `#sss-finding-${i + 1}` }, `${i + 1} (${S["severity." + f.severity]})`));
      });
    } else {
      item.append(el("span", { class: "sss-not-restricted" }, S["page.checker.not_restricted"]));
    }
    list.append(item);
  }
  return list;
}

function applyFix(fix) {
  for (const [name, value] of Object.entries(fix)) {
    const field = BY_ID.get(name);
    if (field) writeField(field, value);
  }
  queryConfig = null;
  // The button goes with the finding it fixed: focus goes to the new verdict.
  update().then(() => resultTitle.focus({ preventScroll: true }));
}

function fixChanges(fix, config) {
  if (!fix || typeof fix !== "object") return false;
  return Object.entries(fix).some(([name, value]) => BY_ID.has(name) && JSON.stringify(config[name]) !== JSON.stringify(value));
}

// The one place a verdict reaches the page, whoever computed it: `source` is
// "engine" (the in-browser checker) or "build" (computed when the site was built).
export function renderVerdict(verdict, source = "engine", config = shownConfig || configFromForm()) {
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
  shownConfig = config;
  const status = verdict.status;
  const findings = verdict.findings || [];
  // Open questions the form asks for these answers (a question it does not
  // show could not be answered here).
  const open = (verdict.open_questions || []).filter((q) => {
    const field = BY_ID.get(q.field);
    return field && !PRIMARY.includes(q.field) && (!field.show_when || holds(field.show_when, config));
  });
  orderQuestions(open, config, status);
  const asked = new Set(open.map((q) => q.field));
  // Under which answers the status holds, and what would make it worse, for
  // the open questions the form asks (worst first, as the engine orders them).
  const holdsIf = (verdict.holds_if || []).filter((c) => asked.has(c.field));
  const worseIf = (verdict.worse_if || []).filter((c) => asked.has(c.field));
  const headline = el("div", { class: "sss-headline" });
  const statusLine = el("p", { class: `sss-status sss-status-${status}` },
    el("span", { class: "sss-icon", "aria-hidden": "true" }, ICON[status] + " "),
    el("strong", {}, S["status." + status]));
  const counts = [fill(S["page.checker.findings_count"], { count: findings.length })];
  if (open.length) counts.push(fill(S["page.checker.open_count"], { count: open.length }));
  headline.append(statusLine, el("p", { class: "sss-counts" }, counts.join(" · ")));
  if (open.length) {
    const line = el("p", { class: "sss-open" }, fill(S["page.checker.so_far"], { status: S["status." + status] }) + " " + S["page.checker.open_questions"] + " ");
    open.forEach((q, n) => {
      if (n) line.append(", ");
      const link = el("a", { href: `#sss-${q.field}`, class: "sss-open-link", "data-field": q.field }, BY_ID.get(q.field).label);
      link.addEventListener("click", (event) => { event.preventDefault(); focusQuestion(q.field); });
      line.append(link);
    });
    headline.append(line);
    headline.append(el("p", { class: "sss-holds-if" },
      fill(S["page.checker.holds_if"], { status: S["status." + status], conditions: conditionsText(holdsIf) })));
    for (const worse of ["unsupported", "unknown", "limited"]) {
      const conditions = worseIf.filter((c) => c.status === worse);
      if (conditions.length) {
        headline.append(el("p", { class: "sss-worse-if", "data-status": worse },
          fill(S["page.checker.worse_if"], { status: S["status." + worse], conditions: conditionsText(conditions) })));
      }
    }
  }
  const implied = verdict.implied || [];
  if (implied.length) {
    const line = el("p", { class: "sss-implied" }, S["page.checker.implied"] + " ");
    line.append(implied.map((i) => {
      const field = BY_ID.get(i.field);
      const by = BY_ID.get(i.by);
      return fill(S["page.checker.implied_answer"], {
        field: field ? field.label : i.field, value: field ? valueLabel(field, i.value) : i.value,
        by: by ? by.label : i.by, by_value: by ? valueLabel(by, i.by_value) : i.by_value,
      });
    }).join("; "));
    headline.append(line);
  }
  const endOfSupport = findings.filter((x) => LIFECYCLE.has(x.rule));
  for (const f of endOfSupport) {
    headline.append(el("p", { class: "sss-eos-warning", "data-notice": f.rule },
      el("span", { "aria-hidden": "true" }, "⚠ "), el("strong", {}, S["page.checker.eos_warning"] + ": "), f.message));
  }
  headline.append(el("p", { class: "sss-explain" }, S["status.explain." + status]));
  const list = el("ol", { class: "sss-findings" });
  findings.forEach((f, i) => {
    const item = el("li", { id: `sss-finding-${i + 1}`, class: `sss-finding sss-sev-${f.severity}`, "data-rule": f.rule, "data-severity": f.severity },
      el("span", { class: "sss-sev" },
        el("span", { "aria-hidden": "true" }, ICON[f.severity] + " "), S["severity." + f.severity]),
      " ", f.message);
    if (f.applies_if) {
      item.append(el("p", { class: "sss-applies-if" }, fill(S["page.checker.applies_if"], { conditions: conditionsText(f.applies_if) })));
    }
    if (f.remedy) {
      const remedy = el("p", { class: "sss-remedy" });
      if (f.remedy_source === "project") {
        remedy.classList.add("sss-project");
        remedy.append(el("em", { class: "sss-project-label" }, `(${S["remedy.project"]})`), " ");
      }
      remedy.append(fill(S["cli.remedy"], { remedy: f.remedy }));
      item.append(remedy);
    }
    if (fixChanges(f.fix, config)) {
      const button = el("button", { type: "button", class: "md-button sss-apply-fix", "data-fix-for": f.rule }, fixLabel(f));
      button.addEventListener("click", () => applyFix(f.fix));
      item.append(el("p", {}, button));
    }
    const label = f.facts.length ? S["page.checker.see"] : S["page.checker.see_nofacts"];
    const href = root.dataset.siteRoot + f.link;
    const link = el("a", { href, "data-print-href": new URL(href, location.href).href }, label);
    if (f.facts.length) link.title = fill(S["page.checker.see_title"], { facts: f.facts.join(", ") }); // for maintainers
    item.append(el("p", { class: "sss-link" }, link));
    list.append(item);
  });
  const answers = el("div", { class: "sss-answers" }, el("h3", {}, S["page.checker.considered"]), considered(config, findings));
  verdictBox.replaceChildren(headline, list, answers);
  if (source === "build") verdictBox.append(el("p", { class: "sss-source" }, S["page.checker.from_build"]));
  verdictBox.setAttribute("data-status", status);
  verdictBox.setAttribute("data-source", source);
  printDate.textContent = fill(S["page.checker.print_date"], { date: new Date().toLocaleString(data.lang, { dateStyle: "long", timeStyle: "short" }) });
  let barHoldsText = "";
  if (holdsIf.length) {
    const first = conditionsText(holdsIf.slice(0, 1));
    const rest = holdsIf.length > 1 ? " " + fill(S["page.checker.more_conditions"], { count: holdsIf.length - 1 }) : "";
    barHoldsText = fill(S["page.checker.holds_if"], { status: S["status." + status], conditions: first + rest });
  }
  const barEosText = endOfSupport.length ? `⚠ ${S["page.checker.eos_warning"]}: ${endOfSupport[0].message}` : "";
  showBar(`${ICON[status]} ${open.length ? fill(S["page.checker.so_far"], { status: S["status." + status] }) : S["status." + status]}`,
    counts.join(" · "), status, barHoldsText, barEosText);
  markVerdict(source);
  announce.textContent = fill(S["page.checker.announce"], { status: S["status." + status], count: findings.length });
}

// ---- wiring ---------------------------------------------------------------------------
function syncUrl(config) {
  const query = queryFromConfig(config);
  if (query !== location.search) history.replaceState(history.state, "", location.pathname + query + location.hash);
  showPermalink();
}

function showPermalink() {
  permalink.hidden = !location.search;
  copyButton.hidden = !location.search;
  permalinkLink.href = location.href;
  permalinkLink.textContent = location.href;
}

let urlTimer = null;
function syncUrlSoon(config) {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => syncUrl(config), 150);
}

let queryConfig = null; // what the URL held on arrival, checked once
let queryErrors = [];

async function update({ initial = false } = {}) {
  const fromQuery = initial && queryConfig;
  if (fromQuery && queryErrors.length) return showErrors(queryErrors);
  const config = fromQuery ? queryConfig : configFromForm();
  const complete = "deployment" in config && "email_system" in config;
  // Ask first, then update the address while the worker answers.
  const asked = ready && complete ? evaluate(config) : null;
  // The address follows once the edits pause: rewriting it costs a few
  // milliseconds a frame, which the answer should not wait for.
  if (!fromQuery) syncUrlSoon(config);
  if (!ready) showPublished(config);
  if (!asked) {
    if (!complete) { shownConfig = null; showWhy([]); }
    return ready || !complete ? clearVerdict(S["page.checker.prompt"]) : undefined;
  }
  const message = await asked;
  if (!message) return; // a newer answer is on its way
  if (message.error) return failed(message.error);
  const answer = JSON.parse(message.response);
  if (answer.errors) return showErrors(answer.errors);
  if (fromQuery) {
    queryConfig = null;
    return update(); // the query was valid: show it as the form sees it
  }
  renderVerdict(answer, "engine", config);
}

// Take the answers from the address: on arrival, and when history moves.
function applyQuery() {
  const { config: fromQuery, errors } = configFromQuery(location.search);
  queryErrors = errors;
  queryConfig = Object.keys(fromQuery).length || errors.length ? fromQuery : null;
  for (const field of FIELDS) writeField(field, fromQuery[field.id]);
  const config = configFromForm();
  // Answers the address gives to collapsed questions are shown, not hidden away.
  if (Object.keys(config).some((id) => more.contains(box(id)))) more.open = true;
  showPermalink();
  if (errors.length) showErrors(errors);
  else if (!("deployment" in config && "email_system" in config)) clearVerdict(S["page.checker.prompt"]);
  if (ready) update({ initial: true });
  else if (queryConfig) showPublished(queryConfig);
}

async function copyLink() {
  try {
    await navigator.clipboard.writeText(location.href);
    copyStatus.textContent = S["page.checker.copied"];
  } catch {
    const range = document.createRange();
    range.selectNodeContents(permalinkLink);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    copyStatus.textContent = S["page.checker.copy_failed"];
  }
  announce.textContent = copyStatus.textContent;
}

function openDetails() {
  panel.scrollIntoView({ block: "start" });
  resultTitle.focus({ preventScroll: true });
}

function init() {
  form.hidden = false;
  panel.hidden = false;
  bar.hidden = false;
  document.body.classList.add("sss-has-bar");
  runtime.hidden = false;
  startWorker();
  applyQuery();
  window.addEventListener("popstate", applyQuery);
  form.addEventListener("change", () => { queryConfig = null; queryErrors = []; update(); });
  form.addEventListener("reset", () => setTimeout(() => { queryConfig = null; queryErrors = []; update(); }));
  form.addEventListener("submit", (event) => event.preventDefault());
  copyButton.addEventListener("click", copyLink);
  barOpen.addEventListener("click", openDetails);
}

init();
