// The page "Check your organization": reads the chosen, dropped or pasted Web API
// exports in the browser, hands them to the Python checker in a Web Worker, and
// shows a verdict per mailbox, grouped by profile. Nothing is sent anywhere: the
// files are read with FileReader and stay in this tab. Everything read from the
// files reaches the page as text nodes only, never as markup.
import { startSearch } from "./search-later.mjs";

const root = document.getElementById("sss-org");
const data = JSON.parse(document.getElementById("sss-org-data").textContent);
const S = data.strings;
const LABELS = data.labels;
const siteRoot = root.dataset.siteRoot;
const $ = (id) => document.getElementById(id);
const form = $("sss-org-form");
const runtime = $("sss-org-runtime");
const progress = $("sss-org-progress");
const result = $("sss-org-result");
const summaryBox = $("sss-org-summary");
const groupsBox = $("sss-org-groups");
const problemsBox = $("sss-org-problems");
const filter = $("sss-org-filter");
const fileInput = $("sss-org-files");
const drop = $("sss-org-drop");
const chosen = $("sss-org-chosen");
const orgBox = $("sss-org-org");
const alertsBox = $("sss-org-alerts");
const tools = $("sss-org-tools");
const runButton = $("sss-org-run");
const ICON = { supported: "✔", limited: "!", unsupported: "✘", unknown: "?", info: "i" };
const SHOWN = 500; // rows drawn per group; the downloads hold every mailbox

// {count#one|other} in a string: the first form for exactly 1, the second otherwise (as in checker.js).
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
const label = (field) => (LABELS[field] ? LABELS[field].label : field);
// A question's label names the setup it is asked for ("Authentication with Exchange
// Online"); beside a profile of another kind, the plain name of the field is shown.
const configLabel = (field, config) =>
  field === "authentication" && config.email_system !== "exchange-online" ? S["page.org.label_authentication"] : label(field);
const valueLabel = (field, value) => {
  const key = typeof value === "boolean" ? String(value) : Array.isArray(value) ? null : value;
  if (key === null) return value.map((v) => valueLabel(field, v)).join(", ");
  return (LABELS[field] && LABELS[field].values[key]) || String(value);
};

// ---- the worker -----------------------------------------------------------------
let worker = null;
let ready = false;
let nextId = 1;
const pending = new Map();

function startWorker() {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") {
    failed(S["page.checker.no_wasm"]);
    return;
  }
  runtime.hidden = false;
  const current = new Worker(siteRoot + "javascripts/org-worker.mjs", { type: "module" });
  worker = current;
  current.addEventListener("message", (event) => {
    const msg = event.data;
    if (msg.type === "ready") {
      ready = true;
      runtime.classList.remove("sss-failed");
      runtime.textContent = S["page.checker.ready"];
      root.dataset.ready = "true";
      startSearch();
      return;
    }
    if (msg.type === "failed") return failed(msg.error);
    const request = pending.get(msg.id);
    if (!request) return;
    if (msg.progress) return request.onProgress && request.onProgress(msg.progress);
    pending.delete(msg.id);
    if (msg.error) request.reject(new Error(msg.error));
    else request.resolve(msg.response);
  });
  current.addEventListener("error", (event) => {
    event.preventDefault();
    if (current !== worker) return;
    const reason = event.message || "worker error";
    if (!ready) return failed(reason);
    restartWorker(reason);
  });
}

// A worker that died or failed a request (out of memory, a fatal error of the
// runtime): every pending request is answered with the reason, and a fresh worker
// is started, so the next run starts clean.
function restartWorker(reason) {
  ready = false;
  delete root.dataset.ready;
  const old = worker;
  worker = null;
  if (old) old.terminate();
  for (const request of pending.values()) request.reject(new Error(reason));
  pending.clear();
  runtime.hidden = false;
  runtime.textContent = fill(S["page.org.worker_failed"], { error: reason });
  startWorker();
}

function failed(error) {
  startSearch();
  runtime.hidden = false;
  runtime.classList.add("sss-failed");
  runtime.textContent = fill(S["page.org.failed"], { error });
}

function ask(message, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, ...message });
  });
}

// ---- reading the files (with progress, in this tab only) ---------------------------
// The files chosen or dropped last: a new choice or drop replaces them.
let selected = [];

function readFile(file, index, total) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        const percent = Math.floor((100 * event.loaded) / event.total);
        progress.textContent = fill(S["page.org.reading"], { file: file.name, percent, done: index + 1, total });
      }
    });
    reader.addEventListener("load", () => resolve({ name: file.name, bytes: reader.result }));
    reader.addEventListener("error", () => reject(new Error(fill(S["page.org.unreadable"], { file: file.name }))));
    // Bytes, decoded by the checker as the command line decodes a file.
    reader.readAsArrayBuffer(file);
  });
}

function currentFiles() {
  return selected;
}

function showChosen() {
  const files = currentFiles();
  chosen.textContent = files.length ? fill(S["page.org.chosen"], { count: files.length, names: files.map((f) => f.name).join(", ") }) : "";
}

drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("sss-drop-over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("sss-drop-over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("sss-drop-over");
  selected = [...event.dataTransfer.files];
  fileInput.value = "";
  showChosen();
});
fileInput.addEventListener("change", () => {
  selected = [...fileInput.files];
  showChosen();
});
$("sss-org-clear").addEventListener("click", () => {
  selected = [];
  fileInput.value = "";
  $("sss-org-paste").value = "";
  showChosen();
  last = null;
  result.hidden = true;
  delete result.dataset.state;
  delete result.dataset.exit;
  summaryBox.replaceChildren();
  orgBox.replaceChildren();
  alertsBox.replaceChildren();
  groupsBox.replaceChildren();
  problemsBox.replaceChildren();
  progress.textContent = "";
});

// ---- running ------------------------------------------------------------------------
let answers = {};
let last = null;

let running = false;

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!ready) {
    progress.textContent = S["page.checker.loading"];
    return;
  }
  if (running) return;
  running = true;
  runButton.disabled = true;
  try {
    await run();
  } catch (error) {
    // Whatever went wrong is said, and the form stays usable for the next run.
    const reason = error.message || String(error);
    progress.textContent = fill(S["page.org.worker_failed"], { error: reason });
    result.dataset.state = "failed";
    if (ready) restartWorker(reason);
  } finally {
    running = false;
    runButton.disabled = false;
  }
});

async function run() {
  const files = currentFiles();
  const texts = [];
  try {
    for (let i = 0; i < files.length; i++) texts.push(await readFile(files[i], i, files.length));
  } catch (error) {
    progress.textContent = error.message;
    return;
  }
  const pasted = $("sss-org-paste").value;
  if (pasted.trim()) texts.push({ name: S["page.org.pasted_name"], text: pasted });
  if (!texts.length) {
    progress.textContent = S["page.org.nothing"];
    return;
  }
  answers = {};
  const options = JSON.stringify({ lang: data.lang, deployment: $("sss-org-deployment").value || null, answers });
  delete result.dataset.state;
  const started = performance.now();
  const response = await ask({ type: "run", options, files: texts }, (p) => {
    progress.textContent = p.done < p.total
      ? fill(S["page.org.evaluating_file"], { file: p.name, done: p.done + 1, total: p.total })
      : S["page.org.evaluating"];
  });
  show(JSON.parse(response), performance.now() - started);
}

async function answer(profile, field, value) {
  if (value === "") {
    if (answers[profile]) delete answers[profile][field];
  } else {
    const spec = LABELS[field];
    answers[profile] = { ...(answers[profile] || {}), [field]: spec && spec.type === "boolean" ? value === "true" : value };
  }
  delete result.dataset.state;
  progress.textContent = S["page.org.evaluating"];
  try {
    show(JSON.parse(await ask({ type: "answers", request: JSON.stringify({ answers }) })));
  } catch (error) {
    progress.textContent = fill(S["page.org.worker_failed"], { error: error.message || String(error) });
    result.dataset.state = "failed";
  }
}

// ---- showing ------------------------------------------------------------------------
function show(report, ms) {
  result.hidden = false;
  if (report.errors) {
    // Refused files (or bad answers): the command line's lines, and no result, as it does.
    last = null;
    progress.textContent = "";
    summaryBox.replaceChildren();
    orgBox.replaceChildren();
    alertsBox.replaceChildren();
    groupsBox.replaceChildren();
    tools.hidden = true;
    problemsBox.replaceChildren(el("h3", {}, S["page.org.refused_title"]),
      el("ul", { class: "sss-errors" }, ...report.errors.map((line) => el("li", {}, line))));
    result.dataset.exit = String(report.exit || 2);
    result.dataset.state = "done";
    return;
  }
  last = report;
  tools.hidden = false;
  const s = report.summary;
  progress.textContent = fill(S["page.org.done"], { count: s.mailboxes, seconds: ms ? (ms / 1000).toFixed(1) : "-" });
  summaryBox.replaceChildren(summaryTable(s));
  const said = [...report.org_lines, ...report.mixed_text];
  orgBox.replaceChildren(...(said.length ? [el("ul", { class: "sss-org-notes" }, ...said.map((line) => el("li", {}, line)))] : []));
  alertsBox.replaceChildren(...drawAlerts(report));
  drawGroups();
  problemsBox.replaceChildren();
  if (report.problem_lines.length) {
    const count = Object.values(report.problem_counts).reduce((a, b) => a + b, 0);
    problemsBox.append(el("h3", {}, fill(S["page.org.problems"], { count })),
      el("ul", { class: "sss-errors" }, ...report.problem_lines.map((line) => el("li", {}, line))));
  }
  result.dataset.exit = String(report.exit);
  result.dataset.state = "done";
}

// The mailboxes grouped by the cause of their latest alert, worst first, each
// cause explained once with its Microsoft page (the command line's text says the same).
function drawAlerts(report) {
  const lines = report.alert_lines;
  if (!lines.length) return [];
  const items = report.alerts.groups.map((g) => {
    const item = el("li", { class: "sss-org-alert", "data-cause": g.cause || "", "data-level": g.level || "" },
      el("p", {}, el("strong", {}, `${g.level === "error" ? ICON.unsupported : ICON.limited} ${g.line}`)));
    const e = g.explanation;
    if (e) item.append(...drawExplanation(e));
    return item;
  });
  const out = [el("h3", {}, S["page.org.alerts_title"]), el("p", {}, lines[0]),
    el("ul", { class: "sss-org-alerts" }, ...items)];
  if (lines.length > 1) out.push(el("p", { class: "sss-meta", "data-alerts": "read" }, lines[1]));
  return out;
}

function drawExplanation(e) {
  const own = e.remedy_source === "project" ? ` (${S["remedy.project"]})` : "";
  const parts = [
    el("p", {}, el("strong", {}, S["page.org.alert_meaning"] + ": "), e.meaning),
    el("p", { class: "sss-remedy", "data-remedy-source": e.remedy_source || "" },
      el("strong", {}, S["page.org.alert_action"] + ": "), e.action + own),
    el("p", { class: "sss-link" }, el("a", { href: e.source.url, "data-source": "microsoft" },
      fill(S["page.org.alert_source"], { date: e.source.date }))),
  ];
  e.related.forEach((r) => parts.push(el("p", { class: "sss-link" },
    el("a", { href: siteRoot + r.link }, S["page.org.alert_related"]), ` (${r.entry})`)));
  return parts;
}

// One mailbox's latest alert, in its row: level and cause, its Microsoft page,
// and the alert's text and explanation when opened.
function drawAlertCell(alert, report) {
  if (!alert) return el("td", { "data-alert": "" }, S["page.org.alert_none"]);
  const group = report.alerts.groups[alert.group - 1];
  const levels = { error: S["page.org.alert_level_error"], warning: S["page.org.alert_level_warning"] };
  const level = levels[alert.level] || S["page.org.alert_level_unknown"];
  const cell = el("td", { "data-alert": alert.cause || "unexplained" }, el("p", {}, `${level}: ${group ? group.title : ""}`));
  const e = alert.explanation[0];
  const more = el("details", {}, el("summary", {}, S["page.org.alert_text"]), el("p", {}, alert.text || String(alert.code || "")));
  if (e) more.append(...drawExplanation(e));
  cell.append(more);
  return cell;
}

function summaryTable(s) {
  const row = (key, label, n) => el("tr", { "data-count": key }, el("th", { scope: "row" }, label), el("td", {}, String(n)));
  const rows = ["supported", "limited", "unsupported", "unknown"].map((status) =>
    row(status, `${ICON[status]} ${S["status." + status]}`, s[status]));
  rows.push(row("not_using_server_side_sync", S["page.org.not_using"], s.not_using_server_side_sync));
  rows.push(row("inactive", S["page.org.inactive"], s.inactive));
  rows.push(row("not_evaluated", S["page.org.not_evaluated"], s.not_evaluated));
  rows.unshift(row("mailboxes", S["page.org.mailboxes"], s.mailboxes));
  if (s.duplicates) rows.push(row("duplicates", S["page.org.duplicates"], s.duplicates));
  return el("table", { class: "sss-org-summary" }, el("tbody", {}, ...rows));
}

filter.addEventListener("change", drawGroups);

function drawGroups() {
  if (!last) return;
  const wanted = filter.value;
  const kind = (g) => g.status || { not_using_server_side_sync: "not_using" }[g.state] || g.state;
  const shown = last.groups.filter((g) => !wanted || kind(g) === wanted);
  groupsBox.replaceChildren(...shown.map(drawGroup));
}

function drawGroup(group) {
  const count = group.count;
  const status = group.status || { not_using_server_side_sync: "not_using" }[group.state] || group.state;
  const box = el("section", { class: "sss-org-group sss-status-" + status, "data-status": status,
    "data-state": group.state, "data-profile": group.profile.id || "" });
  if (group.state === "not_using_server_side_sync") {
    box.append(el("h3", {}, fill(S["page.org.group_not_using"], { count })));
  } else if (group.state === "inactive") {
    box.append(el("h3", {}, fill(S["page.org.group_inactive"], { count, reason: group.reason })));
  } else if (group.state === "not_evaluated") {
    box.append(el("h3", {}, el("span", { class: "sss-icon", "aria-hidden": "true" }, ICON.unknown + " "),
      fill(S["page.org.group_not_evaluated"], { count })));
  } else {
    box.append(el("h3", {}, el("span", { class: "sss-icon", "aria-hidden": "true" }, ICON[group.status] + " "),
      fill(S["page.org.group"], { profile: group.profile.name || group.profile.id, count, status: S["status." + group.status] })));
    const config = Object.entries(group.configuration)
      .map(([k, v]) => `${configLabel(k, group.configuration)}: ${valueLabel(k, v)}`).join(" · ");
    box.append(el("p", { class: "sss-meta" }, S["page.org.configuration"] + " " + config));
    group.readings.forEach((r) => box.append(drawReading(group, r)));
    if (group.findings.length) box.append(el("ul", { class: "sss-findings" }, ...group.findings.map(drawFinding)));
    const answered = Object.keys(answers[group.profile.id] || {})
      .filter((field) => !group.readings.some((r) => field in r.set));
    if (group.open_questions.length || answered.length) box.append(drawQuestions(group, answered));
  }
  // The rows come from the worker and are drawn when the list is opened:
  // thousands of mailboxes stay cheap.
  const details = el("details", {}, el("summary", {}, fill(S["page.org.show_mailboxes"], { count })));
  const report = last;
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.drawn || report !== last) return;
    details.dataset.drawn = "true";
    const mailboxes = JSON.parse(await ask({ type: "rows", group: report.groups.indexOf(group), limit: SHOWN }));
    if (report !== last) return; // a newer result replaced this one meanwhile
    const why = group.state === "not_evaluated";
    const alerts = report.alerts.mailboxes > 0;
    const rows = mailboxes.map(([id, name, email, notices, reason, extras]) =>
      el("tr", { "data-mailbox": id || "" }, el("td", {}, name), el("td", {}, email),
        el("td", {}, why ? reason || "" : notices.map((r) => group.notices[r].message).join(" ")),
        ...(alerts ? [drawAlertCell(extras.alert, report)] : [])));
    details.append(el("table", { class: "sss-org-mailboxes" },
      el("thead", {}, el("tr", {}, el("th", {}, S["page.org.col_name"]), el("th", {}, S["page.org.col_email"]),
        el("th", {}, S[why ? "page.org.col_reason" : "page.org.col_notices"]),
        ...(alerts ? [el("th", {}, S["page.org.col_alert"])] : []))),
      el("tbody", {}, ...rows)));
    if (count > SHOWN) details.append(el("p", { class: "sss-meta" }, fill(S["page.org.more_rows"], { count: count - SHOWN })));
    details.dataset.ready = "true";
  });
  box.append(details);
  return box;
}

// A reading the records allow but do not prove: said, with a way to state otherwise.
function drawReading(group, reading) {
  const profile = group.profile.id;
  const box = el("div", { class: "sss-org-reading", "data-reading": reading.rule },
    el("p", {}, el("strong", {}, `${ICON.info} `), reading.message));
  Object.keys(reading.set).filter((field) => field === "server_profile").forEach((field) => {
    const id = `sss-org-r-${profile}-${field}`;
    const select = el("select", { id, "data-field": field, "data-profile": profile },
      el("option", { value: "" }, S["page.checker.not_stated"]),
      ...Object.entries(LABELS[field].values).map(([value, text]) => el("option", { value }, text)));
    select.addEventListener("change", () => answer(profile, field, select.value));
    box.append(el("p", { class: "sss-q" }, el("label", { for: id }, S["page.org.reading_answer"]), " ", select));
  });
  return box;
}

function drawFinding(f) {
  const item = el("li", { class: "sss-finding sss-status-" + f.severity, "data-rule": f.rule },
    el("p", {}, el("strong", {}, `${ICON[f.severity]} [${S["severity." + f.severity]}] `), f.message));
  if (f.remedy) {
    const own = f.remedy_source === "project" ? ` (${S["remedy.project"]})` : "";
    item.append(el("p", { class: "sss-remedy", "data-remedy-source": f.remedy_source || "" },
      fill(S["cli.remedy"], { remedy: f.remedy + own })));
  }
  if (f.fix) {
    const fix = Object.entries(f.fix).map(([k, v]) => `${label(k)}: ${valueLabel(k, v)}`).join(", ");
    item.append(el("p", { class: "sss-fix" }, fill(S["page.org.fix"], { fix })));
  }
  item.append(el("p", { class: "sss-link" }, el("a", { href: siteRoot + f.link }, S["page.org.see"]), ` (${f.rule})`));
  return item;
}

function drawQuestions(group, answered) {
  const profile = group.profile.id;
  const box = el("div", { class: "sss-org-open" }, el("p", {}, el("strong", {}, S["page.org.open"])));
  const selector = (field, options) => {
    const id = `sss-org-q-${profile}-${field}`;
    const select = el("select", { id, "data-field": field, "data-profile": profile },
      el("option", { value: "" }, S["page.checker.not_stated"]),
      ...options.map(([value, text]) => el("option", { value }, text)));
    const stated = answers[profile] && answers[profile][field];
    if (stated !== undefined) select.value = String(stated);
    select.addEventListener("change", () => answer(profile, field, select.value));
    box.append(el("p", { class: "sss-q" }, el("label", { for: id }, fill(S["page.org.answer"], { field: label(field) })), select));
  };
  group.open_questions.forEach((q) => selector(q.field, Object.entries(q.outcomes).map(([value, status]) =>
    [value, `${valueLabel(q.field, value)} → ${S["status." + status]}`])));
  // What was answered stays on show, so it can be changed or taken back.
  answered.filter((field) => !group.open_questions.some((q) => q.field === field)).forEach((field) =>
    selector(field, Object.entries(LABELS[field].values).map(([value, text]) => [value, text])));
  return box;
}

// ---- downloads ----------------------------------------------------------------------
async function download(format) {
  const text = await ask({ type: "export", format });
  const type = format === "csv" ? "text/csv" : "application/json";
  const url = URL.createObjectURL(new Blob([text], { type: type + ";charset=utf-8" }));
  const link = el("a", { href: url, download: `organization-check.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
$("sss-org-json").addEventListener("click", () => download("json"));
$("sss-org-csv").addEventListener("click", () => download("csv"));

// ---- the two ways to get the files, built from the organization's address ----------------
const routes = $("sss-org-routes");
if (routes) {
  const host = $("sss-org-host");
  const oneliner = $("sss-org-oneliner");
  const template = oneliner.textContent;
  const update = () => {
    let origin = null;
    const typed = host.value.trim();
    if (typed) {
      try {
        const url = new URL(/^https?:\/\//i.test(typed) ? typed : "https://" + typed);
        if (url.protocol === "https:" && /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(url.hostname)) origin = url.origin;
      } catch (error) {
        origin = null;
      }
    }
    $("sss-org-host-problem").hidden = !typed || Boolean(origin);
    for (const link of routes.querySelectorAll("a[data-query]")) {
      const address = (origin || "https://HOST") + "/" + routes.dataset[link.dataset.query];
      link.textContent = address;
      if (origin) {
        link.href = address;
        link.target = "_blank";
        link.rel = "noopener";
      } else link.removeAttribute("href");
    }
    oneliner.textContent = template.replace("https://HOST/", (origin || "https://HOST") + "/");
  };
  host.addEventListener("input", update);
  update();
}

form.hidden = false;
startWorker();
