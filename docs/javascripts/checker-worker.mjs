// The checker's Web Worker: runs the Python engine on the self-hosted Pyodide
// runtime, so the page stays responsive while it loads. Loading starts as soon
// as the worker does; requests that arrive earlier wait in a queue.
//
// Protocol: {id, request: JSON string} in, {id, response: JSON string} out;
// {type: "progress", loaded, total} (bytes of the runtime) while loading;
// {type: "ready", via: "snapshot" | "wheel"} once loaded;
// {type: "failed", error} if loading failed or stalled.

const assets = new URL("../assets/", import.meta.url);
// A download that brings nothing for STALL_MS is reported as a failure; so is
// a start that takes over BUSY_MS with nothing left to download (CPU work
// only, which a busy machine may stretch).
const STALL_MS = 10_000;
const BUSY_MS = 60_000;
const inflates = typeof DecompressionStream === "function";

// ---- progress, and the watchdog that turns a stall into a failure -------------------
const progress = { loaded: 0, total: 0, sent: 0 };
let watchdog = null;
let downloading = 0; // downloads under way
let stall;
const stalled = new Promise((_, reject) => { stall = reject; });
stalled.catch(() => {});
function kick() {
  if (watchdog === false) return;
  clearTimeout(watchdog);
  const [ms, what] = downloading ? [STALL_MS, "the runtime stopped arriving"] : [BUSY_MS, "the runtime did not start"];
  watchdog = setTimeout(() => stall(new Error(`${what} (nothing for ${ms / 1000} s)`)), ms);
}
function stopWatchdog() {
  clearTimeout(watchdog);
  watchdog = false;
}
// A download (or import) under watch until it settles.
function watched(promise) {
  downloading++;
  kick();
  promise.then(() => {}, () => {}).then(() => { downloading--; kick(); });
  return promise;
}

// Ask for the manifest first; every download starts the moment it arrives.
const manifest = watched(fetch(new URL("checker/manifest.json", assets)).then((response) => {
  if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
  return response.json();
}));
manifest.catch(() => {}); // reported by start()
// The runtime's folder is named after its content; the manifest says which.
const runtimeFolder = manifest.then((m) => new URL(m.runtime || "pyodide/", assets), () => new URL("pyodide/", assets));
const pyodideModule = watched(runtimeFolder.then((folder) => import(new URL("pyodide.mjs", folder))));
// Imported, not statically: the manifest's request goes first.
const codec = watched(import("./checker-snapshot.mjs"));
[pyodideModule, codec].forEach((p) => p.catch(() => {}));
const queue = [];
let handle = (message) => queue.push(message);
self.onmessage = (event) => handle(event.data);

function reportProgress(bytes) {
  progress.loaded += bytes;
  kick();
  const now = performance.now();
  if (now - progress.sent < 100 && progress.loaded < progress.total) return;
  progress.sent = now;
  self.postMessage({ type: "progress", loaded: progress.loaded, total: progress.total });
}

// A response's body, counted as it arrives, and inflated when gzipped. Errors
// (HTTP, truncation, a body that is not gzip) surface on the returned stream.
async function download(name, { gzipped = false } = {}) {
  let finish;
  watched(new Promise((resolve) => { finish = resolve; }));
  let response;
  try {
    response = await fetch(new URL(name, assets));
  } catch (error) {
    finish();
    throw new Error(`${name}: ${error.message}`);
  }
  if (!response.ok) {
    finish();
    throw new Error(`${name}: HTTP ${response.status}`);
  }
  const reader = response.body.getReader();
  const counted = new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
          return;
        }
        reportProgress(value.byteLength);
        controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return gzipped ? inflateIfGzip(counted) : counted;
}

// Inflated if it is gzip. A host that labels .gz files Content-Encoding: gzip
// has the browser inflate them already; then they pass as they are.
async function inflateIfGzip(stream) {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const whole = new ReadableStream({
    start(controller) {
      if (head.length) controller.enqueue(head);
      if (first.done) controller.close();
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return head[0] === 0x1f && head[1] === 0x8b ? whole.pipeThrough(new DecompressionStream("gzip")) : whole;
}

async function readAll(stream, name) {
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  }
}

// ---- the runtime's files ------------------------------------------------------------------
// The wasm, inflated as it arrives: one copy is compiled as it streams in (so
// compiling overlaps the download), the other is kept (the snapshot is packed
// against its data segments) and checked, so a truncated or wrong file fails
// at once instead of leaving Pyodide waiting on a module that never comes.
function startWasm(runtime) {
  const tees = download(runtime.wasm, { gzipped: true }).then((stream) => stream.tee());
  const module = tees.then(([theirs]) =>
    WebAssembly.compileStreaming(new Response(theirs, { headers: { "Content-Type": "application/wasm" } })));
  const bytes = tees.then(async ([, mine]) => {
    const wasm = await readAll(mine, runtime.wasm);
    if (wasm.length !== runtime.wasm_size) throw new Error(`${runtime.wasm}: ${wasm.length} bytes, expected ${runtime.wasm_size}`);
    return wasm;
  });
  const checked = Promise.all([module, bytes]).then(([compiled, wasm]) => ({ compiled, wasm }));
  [module, bytes, checked].forEach((p) => p.catch(() => {}));
  return { module, bytes, checked };
}

// Pyodide fetches indexURL + "pyodide.asm.wasm" and instantiates it with
// WebAssembly.instantiateStreaming; hand it the module compiled above instead
// (also for a second start, which then downloads nothing).
function interceptWasm(indexURL, wasm) {
  const target = new URL("pyodide.asm.wasm", indexURL).href;
  const marker = new Response(null);
  const plainFetch = self.fetch.bind(self);
  self.fetch = (input, init) =>
    String(input instanceof Request ? input.url : input) === target ? Promise.resolve(marker) : plainFetch(input, init);
  const instantiateStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const response = await source;
    if (response !== marker) return instantiateStreaming(response, imports);
    const module = await wasm.module;
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
}

// Pyodide's JavaScript half, gzipped, imported from memory.
async function loadModuleFactory(runtime) {
  const text = await new Response(await download(runtime.module, { gzipped: true })).text();
  const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  try {
    return (await import(url)).default;
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ---- starting Python ---------------------------------------------------------------------
// Restore the build's memory snapshot (the checker already imported): much
// faster than starting Python. The standard library is not needed for that,
// so Python starts with an empty one and gets the real one after the first
// answer (loadStdlib). Throws if anything about it fails.
async function fromSnapshot(m, runtime, indexURL, files) {
  const packed = download("checker/" + m.snapshot, { gzipped: true }).then((s) => readAll(s, m.snapshot));
  const snapshot = Promise.all([packed, files.wasm.bytes, codec]).then(([p, wasm, { unpack }]) => unpack(p, wasm));
  const { loadPyodide } = await pyodideModule;
  const pyodide = await Promise.race([
    loadPyodide({
      indexURL,
      packages: [],
      createPyodideModule: await files.factory,
      lockFileContents: { info: runtime.lock_info, packages: {} },
      stdLibURL: URL.createObjectURL(new Blob([])),
      _loadSnapshot: snapshot,
    }),
    files.wasm.checked.then(() => new Promise(() => {})), // fails fast on a bad wasm
    stalled,
  ]);
  return { pyodide, engine: pyodide.pyimport("checker.engine"), stdlib: false };
}

// The plain way: start Python, install the wheel, import the checker.
async function fromWheel(m, runtime, indexURL, files) {
  const wheel = download("checker/" + m.wheel).then((s) => readAll(s, m.wheel));
  const { loadPyodide } = await pyodideModule;
  const options = { indexURL, packages: [] };
  if (files) Object.assign(options, { createPyodideModule: await files.factory, lockFileContents: { info: runtime.lock_info, packages: {} } });
  const pyodide = await Promise.race([loadPyodide(options), stalled]);
  pyodide.unpackArchive(await wheel, "wheel");
  return { pyodide, engine: pyodide.pyimport("checker.engine"), stdlib: true };
}

// After the first answer: the real standard library, where Python looks for it.
async function loadStdlib(state, runtime) {
  if (state.stdlib) return;
  const bytes = await readAll(await download(runtime.stdlib), runtime.stdlib);
  const path = state.pyodide.runPython("import sys\nnext(p for p in sys.path if p.endswith('.zip'))");
  state.pyodide.FS.writeFile(path, bytes);
  state.stdlib = true;
}

// The rules in use: the snapshot carries the wheel's; the served ones replace
// them only when they differ (a matrix edited since the wheel was built).
async function useServedRules(state, m) {
  if (m.rules_sha256 && m.rules_sha256 === m.snapshot_rules_sha256 && state.via === "snapshot") return;
  const bytes = await readAll(await download("checker/" + m.rules), m.rules);
  try {
    state.engine.use_rules(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`rules.json: ${lastLine(error)}`); // damaged or not compiled rules
  }
}

// A Python error's message is its whole traceback: the last line says what happened.
function lastLine(error) {
  const text = String(error instanceof Error ? error.message : JSON.stringify(error)).trim();
  // (Before the standard library is in, formatting it may fail first: "Error
  // in sys.excepthook", then the original traceback. Its last line still says.)
  return /^Traceback|\nTraceback/.test(text) ? text.split("\n").pop().trim() : text.split("\n")[0];
}

// ---- answering --------------------------------------------------------------------------------
function serve(state, runtime) {
  const evaluate = state.engine.evaluate_json;
  const answer = ({ id, request }) => {
    try {
      return { id, response: evaluate(request) };
    } catch (error) {
      return { id, error: String(error) };
    }
  };
  let later = null; // the standard library's download, once started
  const withStdlib = () => {
    later ??= loadStdlib(state, runtime);
    return later;
  };
  handle = (message) => {
    const reply = answer(message);
    if (reply.error && !state.stdlib) {
      // Perhaps it needed the standard library: answer again once it is there.
      withStdlib().then(() => self.postMessage(answer(message)), () => self.postMessage(reply));
      return;
    }
    self.postMessage(reply);
    // Nothing needed the standard library for this answer: fetch it now.
    if (!later) withStdlib().catch((error) => console.warn("checker: standard library:", error.message));
  };
}

async function start() {
  const m = await manifest;
  const runtime = m.runtime_files;
  const indexURL = new URL(m.runtime || "pyodide/", assets).href;
  let files = null;
  if (inflates && runtime) {
    progress.total = runtime.bytes.wasm + runtime.bytes.module + m.snapshot_bytes;
    files = { wasm: startWasm(runtime), factory: loadModuleFactory(runtime) };
    files.factory.catch(() => {});
    interceptWasm(indexURL, files.wasm);
  }
  let state;
  try {
    if (!files) throw new Error("no DecompressionStream");
    state = { ...(await fromSnapshot(m, runtime, indexURL, files)), via: "snapshot" };
  } catch (error) {
    console.warn("checker: starting without the snapshot:", error && error.message);
    // A broken or stalled runtime is a failure, not a reason to start again.
    if (files) await Promise.race([files.wasm.checked, stalled]);
    state = { ...(await fromWheel(m, runtime, indexURL, files)), via: "wheel" };
  }
  await Promise.race([useServedRules(state, m), stalled]);
  stopWatchdog();
  serve(state, runtime);
  self.postMessage({ type: "ready", via: state.via });
  queue.splice(0).forEach((message) => handle(message));
}

start().catch((error) => {
  stopWatchdog();
  self.postMessage({ type: "failed", error: lastLine(error).slice(0, 200) });
});
