// The explanations and the alerts reader under Pyodide in Node.js (no network),
// as the organization page's worker would run them:
//
//   node tests/explain_pyodide.mjs WHEEL INPUT_JSON OUT_JSON
//
// INPUT_JSON: {"texts": [[text, lang], ...], "tracelogs": [...], "mailboxes": [...]}.
// OUT_JSON: {"python_version", "answers": [...], "alerts": {...}, "groups": {...}}.
// tests/test_explain_page.py compares it with CPython's.
import { readFile, writeFile } from "node:fs/promises";

globalThis.fetch = (resource) => {
  throw new Error(`explain_pyodide.mjs: network access is not allowed (fetch ${resource})`);
};
const { loadPyodide } = await import(new URL("../node_modules/pyodide/pyodide.mjs", import.meta.url).href);

const [wheelPath, inputPath, outPath] = process.argv.slice(2);
const pyodide = await loadPyodide({ packages: [] });
const buf = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), "wheel");
pyodide.globals.set("INPUT", await readFile(inputPath, "utf8"));
const out = pyodide.runPython(`
import json, sys
from checker import alerts, explain
data = json.loads(INPUT)
found = alerts.latest_alerts(data["tracelogs"], data["mailboxes"])
json.dumps({
    "python_version": "%d.%d" % sys.version_info[:2],
    "answers": [explain.explain(text, lang) for text, lang in data["texts"]],
    "alerts": {lang: {m: a.to_dict(lang) for m, a in found.items()} for lang in ("pt-BR", "en")},
    "groups": {lang: alerts.summary_lines(alerts.group_by_cause(found, lang), lang) for lang in ("pt-BR", "en")},
})
`);
await writeFile(outPath, out);
