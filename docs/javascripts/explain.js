// The page "Why a mailbox fails": the administrator pastes an alert's text and
// gets the known causes it matches, from the same compiled data and the same
// matching as `python -m checker explain` (explain-core.mjs). The text stays in
// the tab; everything shown is built from text nodes, never markup.
import { explain } from "./explain-core.mjs";

const root = document.getElementById("sss-explain");
const data = JSON.parse(document.getElementById("sss-explain-data").textContent);
const S = data.strings;
const lang = data.lang;
const siteRoot = root.dataset.siteRoot;
const $ = (id) => document.getElementById(id);
const form = $("sss-explain-form");
const input = $("sss-explain-text");
const result = $("sss-explain-result");
const out = $("sss-explain-out");
const MAX_BYTES = 64 * 1024; // as the command line

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
};
const date = (iso) => (lang === "pt-BR" ? iso.split("-").reverse().join("/") : iso);

function show(text) {
  out.replaceChildren();
  result.hidden = false;
  if (!text.trim()) {
    result.dataset.matched = "error";
    out.append(el("p", { class: "sss-input-error" }, S["explain.empty"]));
    return;
  }
  if (new TextEncoder().encode(text).length > MAX_BYTES) {
    result.dataset.matched = "error";
    out.append(el("p", { class: "sss-input-error" }, fill(S["explain.too_large"], { limit: "64 KB" })));
    return;
  }
  const answer = explain(text, lang, data);
  result.dataset.matched = String(answer.matched);
  result.dataset.causes = answer.causes.map((c) => c.id).join(" ");
  if (!answer.matched) {
    out.append(
      el("p", {}, S["explain.unknown"]),
      el("p", {}, fill(S["explain.index"], { date: date(answer.index.date) }), " ",
        el("a", { href: answer.index.url }, answer.index.url)),
    );
    return;
  }
  out.append(el("p", {}, fill(S["explain.count"], { count: String(answer.causes.length) })));
  for (const c of answer.causes) {
    const matched = [...c.matched.codes, ...c.matched.patterns.map((p) => `"${p}"`)].join(", ");
    const box = el("div", { class: "sss-explain-cause", "data-cause": c.id },
      el("h3", {}, c.title),
      el("p", { class: "sss-meta" }, fill(S["explain.codes"], { codes: matched })),
      el("p", {}, el("strong", {}, S["explain.meaning"] + ": "), c.meaning),
      el("p", {}, el("strong", {}, S["explain.action"] + ": "), c.action,
        ...(c.remedy_source === "project" ? [" ", el("em", {}, `(${S["explain.project"]})`)] : [])),
    );
    for (const r of c.related) {
      box.append(el("p", {}, el("strong", {}, S["explain.related"] + ": "),
        el("a", { href: siteRoot + r.link }, data.entry_titles[r.entry] || r.entry)));
    }
    box.append(el("p", { class: "sss-meta" },
      el("a", { href: c.source.url }, fill(S["explain.source"], { date: date(c.source.date) }))));
    out.append(box);
  }
}

form.hidden = false;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  show(input.value);
});
root.dataset.ready = "true";
