// The page "Check your organization": reads the chosen, dropped or pasted Web API
// exports in the browser, hands them to the Python checker in a Web Worker, and
// shows a verdict per mailbox, grouped by profile. Nothing is sent anywhere: the
// files are read with FileReader and stay in this tab. Everything read from the
// files reaches the page as text nodes only, never as markup.
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
const ICON = { supported: "✔", limited: "!", unsupported: "✘", unknown: "?", info: "i" };
const SHOWN = 500; // rows drawn per group; the downloads hold every mailbox

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child); // strings become text nodes
  return node;
};
const label = (field) => (LABELS[field] ? LABELS[field].label : field);
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
  worker = new Worker(siteRoot + "javascripts/org-worker.mjs", { type: "module" });
  worker.addEventListener("message", (event) => {
    const msg = event.data;
    if (msg.type === "ready") {
      ready = true;
      runtime.textContent = S["page.checker.ready"];
      root.dataset.ready = "true";
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
  worker.addEventListener("error", (event) => failed(event.message || "worker error"));
}

function failed(error) {
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
let dropped = [];

function readFile(file, index, total) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        const percent = Math.floor((100 * event.loaded) / event.total);
        progress.textContent = fill(S["page.org.reading"], { file: file.name, percent, done: index + 1, total });
      }
    });
    reader.addEventListener("load", () => resolve({ name: file.name, text: reader.result }));
    reader.addEventListener("error", () => reject(new Error(fill(S["page.org.unreadable"], { file: file.name }))));
    reader.readAsText(file);
  });
}

function currentFiles() {
  return [...fileInput.files, ...dropped];
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
  dropped = dropped.concat([...event.dataTransfer.files]);
  showChosen();
});
fileInput.addEventListener("change", showChosen);

// ---- running ------------------------------------------------------------------------
let answers = {};
let last = null;

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!ready) {
    progress.textContent = S["page.checker.loading"];
    return;
  }
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
});

async function answer(profile, field, value) {
  if (value === "") {
    if (answers[profile]) delete answers[profile][field];
  } else {
    const spec = LABELS[field];
    answers[profile] = { ...(answers[profile] || {}), [field]: spec && spec.type === "boolean" ? value === "true" : value };
  }
  delete result.dataset.state;
  progress.textContent = S["page.org.evaluating"];
  const response = await ask({ type: "answers", request: JSON.stringify({ answers }) });
  show(JSON.parse(response));
}

// ---- showing ------------------------------------------------------------------------
function show(report, ms) {
  if (report.errors) {
    progress.textContent = report.errors.join(" ");
    return;
  }
  last = report;
  const s = report.summary;
  progress.textContent = fill(S["page.org.done"], { count: s.mailboxes, seconds: ms ? (ms / 1000).toFixed(1) : "-" });
  summaryBox.replaceChildren(summaryTable(s));
  drawGroups();
  problemsBox.replaceChildren();
  if (report.problems.length) {
    problemsBox.append(el("h3", {}, fill(S["page.org.problems"], { count: report.problems.length })),
      el("ul", { class: "sss-errors" }, ...report.problems.map((p) => el("li", {}, p.message))));
  }
  result.hidden = false;
  result.dataset.exit = String(report.exit);
  result.dataset.state = "done";
}

function summaryTable(s) {
  const rows = [["supported", s.supported], ["limited", s.limited], ["unsupported", s.unsupported],
    ["unknown", s.unknown]].map(([status, n]) =>
    el("tr", { "data-count": status }, el("th", { scope: "row" }, `${ICON[status]} ${S["status." + status]}`), el("td", {}, String(n))));
  rows.push(el("tr", { "data-count": "not_using_server_side_sync" }, el("th", { scope: "row" }, S["page.org.not_using"]),
    el("td", {}, String(s.not_using_server_side_sync))));
  rows.unshift(el("tr", { "data-count": "mailboxes" }, el("th", { scope: "row" }, S["page.org.mailboxes"]), el("td", {}, String(s.mailboxes))));
  return el("table", { class: "sss-org-summary" }, el("tbody", {}, ...rows));
}

filter.addEventListener("change", drawGroups);

function drawGroups() {
  if (!last) return;
  const wanted = filter.value;
  const shown = last.groups.filter((g) => !wanted || (g.status || "not_using") === wanted);
  groupsBox.replaceChildren(...shown.map(drawGroup));
}

function drawGroup(group) {
  const count = group.count;
  const status = group.status || "not_using";
  const box = el("section", { class: "sss-org-group sss-status-" + status, "data-status": status,
    "data-profile": group.profile.id || "" });
  if (!group.status) {
    box.append(el("h3", {}, fill(S["page.org.group_not_using"], { count })));
  } else {
    box.append(el("h3", {}, el("span", { class: "sss-icon", "aria-hidden": "true" }, ICON[group.status] + " "),
      fill(S["page.org.group"], { profile: group.profile.name || group.profile.id, count, status: S["status." + group.status] })));
    const config = Object.entries(group.configuration).map(([k, v]) => `${label(k)}: ${valueLabel(k, v)}`).join(" · ");
    box.append(el("p", { class: "sss-meta" }, S["page.org.configuration"] + " " + config));
    if (group.findings.length) box.append(el("ul", { class: "sss-findings" }, ...group.findings.map(drawFinding)));
    const answered = Object.keys(answers[group.profile.id] || {});
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
    const rows = mailboxes.map(([id, name, email, notices]) =>
      el("tr", { "data-mailbox": id }, el("td", {}, name), el("td", {}, email),
        el("td", {}, notices.map((r) => group.notices[r].message).join(" "))));
    details.append(el("table", { class: "sss-org-mailboxes" },
      el("thead", {}, el("tr", {}, el("th", {}, S["page.org.col_name"]), el("th", {}, S["page.org.col_email"]),
        el("th", {}, S["page.org.col_notices"]))),
      el("tbody", {}, ...rows)));
    if (count > SHOWN) details.append(el("p", { class: "sss-meta" }, fill(S["page.org.more_rows"], { count: count - SHOWN })));
    details.dataset.ready = "true";
  });
  box.append(details);
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

form.hidden = false;
startWorker();
