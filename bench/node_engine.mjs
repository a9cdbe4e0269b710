// Engine cost in Pyodide under Node.js: node bench/node_engine.mjs WHEEL REQUESTS_JSON
// Prints {"load_seconds", "per_evaluation_us", "python"} for the JSON requests given.
import { readFile } from "node:fs/promises";

const [wheelPath, requestsPath] = process.argv.slice(2);
const { loadPyodide } = await import(new URL("../node_modules/pyodide/pyodide.mjs", import.meta.url));
const t0 = performance.now();
const pyodide = await loadPyodide({ packages: [] });
const buf = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), "wheel");
const evaluate = pyodide.pyimport("checker.engine").evaluate_json;
const load = (performance.now() - t0) / 1000;
const requests = JSON.parse(await readFile(requestsPath, "utf8"));
for (const r of requests.slice(0, 500)) evaluate(r); // warm up
const rounds = [];
for (let round = 0; round < 5; round++) {
  const t = performance.now();
  for (const r of requests) evaluate(r);
  rounds.push(((performance.now() - t) * 1000) / requests.length);
}
rounds.sort((a, b) => a - b);
// The engine alone (configurations as Python objects, no JSON), timed inside Python.
pyodide.globals.set("_requests", requests);
const engineOnly = pyodide.runPython(`
import json, time
from checker.engine import load_matrix
m = load_matrix()
configs = [json.loads(r)["config"] for r in _requests]
for c in configs: m.evaluate(c, "en")
best = []
for _ in range(5):
    t = time.perf_counter()
    for c in configs: m.evaluate(c, "en")
    best.append((time.perf_counter() - t) * 1e6 / len(configs))
sorted(best)[2]
`);
console.log(JSON.stringify({
  load_seconds: load,
  per_evaluation_us: rounds[Math.floor(rounds.length / 2)],
  min_us: rounds[0],
  max_us: rounds[rounds.length - 1],
  engine_only_us: engineOnly,
  python: pyodide.runPython("import sys; sys.version.split()[0]"),
}));
