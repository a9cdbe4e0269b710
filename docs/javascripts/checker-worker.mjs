// The checker's Web Worker: runs the Python engine on the self-hosted Pyodide
// runtime, so the page stays responsive while it loads. Loading starts as soon
// as the worker does; requests that arrive earlier wait in a queue.
//
// Protocol: {id, request: JSON string} in, {id, response: JSON string} out;
// {type: "ready"} once loaded, {type: "failed", error} if loading failed.
import { loadPyodide } from "../assets/pyodide/pyodide.mjs";

const assets = new URL("../assets/", import.meta.url);
const queue = [];
let handle = (message) => queue.push(message);
self.onmessage = (event) => handle(event.data);

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

// Settles only by failing: a runtime file that cannot be had.
function probeRuntime() {
  const files = ["pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip"];
  return Promise.all(files.map(async (name) => {
    let response;
    try {
      response = await fetch(new URL(name, assets), { method: "HEAD" });
    } catch (error) {
      throw new Error(`${name}: ${error.message}`);
    }
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  })).then(() => new Promise(() => {}));
}

async function start() {
  const manifestResponse = await fetch(new URL("checker/manifest.json", assets));
  if (!manifestResponse.ok) throw new Error(`manifest.json: HTTP ${manifestResponse.status}`);
  const manifest = await manifestResponse.json();
  const [pyodide, wheel, rules] = await Promise.all([
    // Pyodide only logs a warning when it cannot fetch its WebAssembly or
    // standard library, and its promise never settles: probe them beside it.
    Promise.race([loadPyodide({ indexURL: new URL("pyodide/", assets).href, packages: [] }), probeRuntime()]),
    fetchBytes(new URL("checker/" + manifest.wheel, assets)),
    fetchBytes(new URL("checker/" + manifest.rules, assets)),
  ]);
  pyodide.unpackArchive(wheel, "wheel");
  // The rules served beside the wheel are the current ones (they change with
  // every matrix edit while serving; the wheel changes only with the engine).
  pyodide.globals.set("_served_rules", new TextDecoder().decode(rules));
  pyodide.runPython(
    "import pathlib, checker\n" +
    "pathlib.Path(checker.__file__).with_name('rules.json').write_text(_served_rules, encoding='utf-8')\n" +
    "del _served_rules",
  );
  const evaluate = pyodide.pyimport("checker.engine").evaluate_json;
  handle = ({ id, request }) => {
    try {
      self.postMessage({ id, response: evaluate(request) });
    } catch (error) {
      self.postMessage({ id, error: String(error) });
    }
  };
  self.postMessage({ type: "ready" });
  queue.splice(0).forEach(handle);
}

start().catch((error) => {
  const reason = error instanceof Error ? error.message : JSON.stringify(error);
  self.postMessage({ type: "failed", error: String(reason).split("\n")[0].slice(0, 200) });
});
