// The checker's Web Worker: runs the Python engine on the self-hosted Pyodide
// runtime, so the page stays responsive while it loads. Loading starts as soon
// as the worker does; requests that arrive earlier wait in a queue.
//
// Protocol: {id, request: JSON string} in, {id, response: JSON string} out;
// {type: "ready"} once loaded, {type: "failed", error} if loading failed.
const assets = new URL("../assets/", import.meta.url);
// Ask for the manifest first, then load the runtime's module while it comes.
const manifest = fetch(new URL("checker/manifest.json", assets)).then((response) => {
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  return response.json();
});
manifest.catch(() => {}); // reported by start()
// The runtime's folder is named after its content; the manifest says which.
const runtime = manifest.then((m) => new URL(m.runtime || "pyodide/", assets), () => new URL("pyodide/", assets));
const { loadPyodide } = await import(new URL("pyodide.mjs", await runtime));
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
  const files = ["pyodide.asm.wasm", "python_stdlib.zip"];
  return Promise.all(files.map(async (name) => {
    let response;
    try {
      response = await fetch(new URL(name, indexURL), { method: "HEAD" });
    } catch (error) {
      throw new Error(`${name}: ${error.message}`);
    }
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  })).then(() => new Promise(() => {}));
}

async function fetchText(url) {
  return new TextDecoder().decode(await fetchBytes(url));
}

// Restore the build's memory snapshot (the checker already imported): much
// faster than starting Python. Throws if anything about it fails.
async function fromSnapshot(manifest, indexURL) {
  // loadPyodide starts on the runtime files at once; the snapshot follows the
  // manifest, in parallel with them.
  const snapshot = manifest.then(async ({ snapshot: name }) => {
    if (!name) throw new Error("no snapshot");
    const response = await fetch(new URL("checker/" + name, assets));
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    if (!name.endsWith(".gz")) return response.arrayBuffer();
    if (typeof DecompressionStream !== "function") throw new Error("no DecompressionStream");
    return new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  });
  const pyodide = await Promise.race([
    loadPyodide({ indexURL, packages: [], _loadSnapshot: snapshot }),
    probeRuntime(),
  ]);
  return pyodide.pyimport("checker.engine");
}

// The plain way: start Python, install the wheel, import the checker.
async function fromWheel(manifest, indexURL) {
  const wheel = fetchBytes(new URL("checker/" + (await manifest).wheel, assets));
  const pyodide = await Promise.race([loadPyodide({ indexURL, packages: [] }), probeRuntime()]);
  pyodide.unpackArchive(await wheel, "wheel");
  return pyodide.pyimport("checker.engine");
}

let indexURL;
async function start() {
  indexURL = (await runtime).href;
  // The rules served beside the wheel are the current ones (they change with
  // every matrix edit while serving; the wheel changes only with the engine).
  const rules = manifest.then((m) => fetchText(new URL("checker/" + m.rules, assets)));
  let engine;
  try {
    engine = await fromSnapshot(manifest, indexURL);
  } catch (error) {
    console.warn("checker: starting without the snapshot:", error && error.message);
    engine = await fromWheel(manifest, indexURL);
  }
  try {
    engine.use_rules(await rules);
  } catch (error) {
    throw new Error(`rules.json: ${lastLine(error)}`); // damaged or not compiled rules
  }
  const evaluate = engine.evaluate_json;
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

// A Python error's message is its whole traceback: the last line says what happened.
function lastLine(error) {
  const text = String(error instanceof Error ? error.message : JSON.stringify(error)).trim();
  return text.startsWith("Traceback") ? text.split("\n").pop() : text.split("\n")[0];
}

start().catch((error) => {
  self.postMessage({ type: "failed", error: lastLine(error).slice(0, 200) });
});
