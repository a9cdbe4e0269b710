// Parity runner for the page's matcher (docs/javascripts/explain-core.mjs):
//
//   node tests/explain_parity.mjs RULES_JSON TEXTS_JSON OUT_JSON
//
// TEXTS_JSON is a JSON array of [text, lang]; OUT_JSON receives the answers in
// the same order, as explain() returns them. tests/test_explain_page.py
// compares them with checker/explain.py's.
import { readFile, writeFile } from "node:fs/promises";
import { explain } from "../docs/javascripts/explain-core.mjs";

const [rulesPath, textsPath, outPath] = process.argv.slice(2);
const data = JSON.parse(await readFile(rulesPath, "utf8")).errors;
const texts = JSON.parse(await readFile(textsPath, "utf8"));
const answers = texts.map(([text, lang]) => explain(text, lang, data));
await writeFile(outPath, JSON.stringify(answers));
