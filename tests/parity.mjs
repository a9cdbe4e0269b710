// Parity runner: the checker's wheel evaluated under Pyodide in Node.js.
//
//   node tests/parity.mjs WHEEL REQUESTS_JSON OUT_JSON
//
// REQUESTS_JSON is a JSON array of request strings (what the page's worker
// sends to evaluate_json). OUT_JSON receives
//   {python_version, pyodide_version, checker_file, load_seconds, seconds,
//    responses: [response string, ...]}
// with responses in request order. tests/test_parity.py compares them with
// CPython's answers.
//
// Offline by construction: no micropip, no loadPackage, packages: [] and a
// fetch that throws. In Node, loadPyodide reads pyodide.asm.wasm,
// python_stdlib.zip and pyodide-lock.json from disk with node:fs (it calls
// fetch only for URLs containing "://"), so the guard is installed before
// loading, not after.
import { readFile, writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";

const networkAttempts = [];
globalThis.fetch = (resource) => {
  networkAttempts.push(String(resource));
  throw new Error(`parity.mjs: network access is not allowed (fetch ${resource})`);
};

// Resolved next to this script, so the runner works from any cwd.
const { loadPyodide, version: pyodideVersion } = await import(
  new URL("../node_modules/pyodide/pyodide.mjs", import.meta.url).href
);

async function main() {
  const [wheelPath, requestsPath, outPath] = process.argv.slice(2);
  if (!wheelPath || !requestsPath || !outPath) {
    console.error("usage: node tests/parity.mjs WHEEL REQUESTS_JSON OUT_JSON");
    process.exit(2);
  }

  const started = performance.now();
  const pyodide = await loadPyodide({ packages: [] });
  const buf = await readFile(wheelPath);
  // unpackArchive rejects a Node Buffer: hand it a plain Uint8Array view.
  pyodide.unpackArchive(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), "wheel");
  const engine = pyodide.pyimport("checker.engine");
  const evaluate = engine.evaluate_json;
  const info = JSON.parse(
    pyodide.runPython(
      "import json, sys, checker.engine\n" +
      "json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],\n" +
      "            'file': checker.engine.__file__})",
    ),
  );
  const loadSeconds = (performance.now() - started) / 1000;

  const requests = JSON.parse(await readFile(requestsPath, "utf8"));
  if (!Array.isArray(requests) || !requests.every((r) => typeof r === "string")) {
    throw new Error(`${requestsPath}: expected a JSON array of strings`);
  }

  const responses = new Array(requests.length);
  const t0 = performance.now();
  for (let i = 0; i < requests.length; i++) {
    const response = evaluate(requests[i]);
    if (typeof response !== "string") {
      throw new Error(`request ${i}: evaluate_json returned ${typeof response}, not a string`);
    }
    responses[i] = response;
  }
  const seconds = (performance.now() - t0) / 1000;
  evaluate.destroy();
  engine.destroy();

  if (networkAttempts.length) {
    throw new Error(`network access attempted: ${networkAttempts.join(", ")}`);
  }

  await writeFile(
    outPath,
    JSON.stringify({
      python_version: info.version,
      pyodide_version: pyodideVersion,
      checker_file: info.file,
      load_seconds: loadSeconds,
      seconds,
      responses,
    }),
  );
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
