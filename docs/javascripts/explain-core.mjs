// The matcher of the page "Why a mailbox fails", the same as checker/explain.py
// (see its docstring): an alert's text in, the known causes it matches out, most
// specific first. Pure functions over the compiled errors of rules.json, so the
// parity test runs this very file in Node.js against the Python answers.
const SPACE = /[ \t\n\r\f\v\u00a0\u2028\u2029]+/g; // spelled out, as in Python
const TOKEN = /[a-z0-9]+/g;

export function normalize(text) {
  return text
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(SPACE, " ")
    .replace(/^ +| +$/g, "");
}

export function tokens(normalized) {
  return new Set(normalized.match(TOKEN) || []);
}

export function match(text, data) {
  const norm = normalize(text);
  const toks = tokens(norm);
  const found = [];
  data.errors.forEach((err, i) => {
    const codes = err.codes.filter((_c, k) => err.match.codes[k].some((t) => toks.has(t)));
    const patterns = err.match.patterns.filter((p) => norm.includes(p));
    if (codes.length || patterns.length) {
      const chars = patterns.reduce((n, p) => n + p.length, 0);
      found.push({ key: [-codes.length, -chars, i], item: { error: err, codes, patterns } });
    }
  });
  found.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
  return found.map((f) => f.item);
}

export function cause(found, lang) {
  const err = found.error;
  return {
    id: err.id,
    title: err.title[lang],
    meaning: err.meaning[lang],
    action: err.action[lang],
    remedy_source: err.remedy_source,
    fix: err.fix,
    fix_when: err.fix_when,
    matched: { codes: found.codes, patterns: found.patterns },
    related: err.related.map((r) => ({ entry: r.entry, link: r.link[lang] })),
    source: { url: err.source.url, date: err.source.date },
  };
}

export function explain(text, lang, data) {
  const causes = match(text, data).map((f) => cause(f, lang));
  return { matched: causes.length > 0, causes, index: { ...data.index } };
}
