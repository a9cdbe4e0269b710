// Loading the self-hosted Pyodide runtime with the checker in it, shared by
// the checker page's worker and the organization page's worker.
//
// Two ways to start, picked by the line:
//   "snapshot": restore the build's memory snapshot (the engine and the
//     organization check already imported). Little CPU, more bytes.
//   "plain": start Python from a standard library trimmed to what the checker
//     uses (the checker compiled in it), import. Fewer bytes, about a second of CPU.
// The wasm is needed either way, so it is asked for first; how fast its first
// bytes arrive (and navigator.connection, where the browser has it) decides
// which of the two to fetch next. The choice and its reason are returned.
//
// The wasm is compiled as it streams in from its content-named address when
// the host sends it compressed (Content-Encoding) as application/wasm: then
// Chromium keeps the compiled code for the next visit. A host that sends
// files as they are gets the gzipped copies, inflated here.
const assets = new URL("../assets/", import.meta.url);
// A download that brings nothing for STALL_MS is reported as a failure; so is
// a start that takes over BUSY_MS with nothing left to download.
const STALL_MS = 10_000;
const BUSY_MS = 60_000;
// The decision's inputs: CPU seconds each way takes once its files are in,
// as estimated for a quiet 2-core machine (a bare loadPyodide() took 2.03 s
// there against 0.71 s for the snapshot's verdict; the compiled, trimmed
// standard library halves the plain start's CPU in our measurements). A busy
// machine stretches both, the plain start far more: see README, Performance.
// And how long to watch the wasm arrive before judging the line.
const RESTORE_S = 0.25;
const PLAIN_START_S = 1.0;
const JUDGE_MS = 300;
// How long after its first answer a worker keeps the runtime's files.
const KEEP_AFTER_MS = 1500;
const JUDGE_BYTES = 400_000;
const inflates = typeof DecompressionStream === "function";

// ---- where the time goes -------------------------------------------------------------------
// Moments of the start, in milliseconds since the epoch (the page turns them
// into its own User Timing marks, "sss-runtime-<name>", for the bench). Each
// is kept the first time it happens.
export const timings = {};
export function mark(name) {
  timings[name] ??= performance.timeOrigin + performance.now();
}
mark("worker");

// ---- the watchdog that turns a stall into a failure ------------------------------------
let watchdog = null;
let downloading = 0;
let stall;
export const stalled = new Promise((_, reject) => { stall = reject; });
stalled.catch(() => {});
function kick() {
  if (watchdog === false) return;
  clearTimeout(watchdog);
  const [ms, what] = downloading ? [STALL_MS, "the runtime stopped arriving"] : [BUSY_MS, "the runtime did not start"];
  watchdog = setTimeout(() => stall(new Error(`${what} (nothing for ${ms / 1000} s)`)), ms);
}
export function stopWatchdog() {
  clearTimeout(watchdog);
  watchdog = false;
}
function watched(promise) {
  downloading++;
  kick();
  promise.then(() => {}, () => {}).then(() => { downloading--; kick(); });
  return promise;
}

// ---- progress ------------------------------------------------------------------------------
const progress = { loaded: 0, total: 0, sent: 0, report: () => {} };
function counted(bytes) {
  progress.loaded += bytes;
  kick();
  const now = performance.now();
  if (now - progress.sent < 100 && progress.loaded < progress.total) return;
  progress.sent = now;
  progress.report(progress.loaded, progress.total);
}

// The manifest first; everything else is named in it. A page that starts the
// worker from <head> hands it over in its first message (the worker's address
// then says manifest=page); otherwise it is fetched.
function manifestFromPage() {
  return new Promise((resolve, reject) => {
    self.addEventListener("message", function take(event) {
      if (!event.data || event.data.type !== "sss-manifest") return;
      event.stopImmediatePropagation(); // not a request for the worker's own handler
      self.removeEventListener("message", take);
      const m = event.data.manifest;
      if (m && typeof m === "object" && typeof m.runtime === "string" && m.runtime_files) resolve(m);
      else reject(new Error("the page's manifest is not one"));
    });
  });
}
function fetchManifest() {
  return fetch(new URL("checker/manifest.json", assets)).then((response) => {
    if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
    return response.json();
  });
}
const fromPage = typeof self.location === "object" && new URL(self.location.href).searchParams.get("manifest") === "page";
export const manifest = watched((fromPage ? manifestFromPage() : fetchManifest()).then((m) => { mark("manifest"); return m; }));
manifest.catch(() => {});
const pyodideModule = watched(manifest.then((m) => import(new URL(m.runtime + "pyodide.mjs", assets))));
pyodideModule.then(() => mark("pyodide-mjs"), () => {});
const codec = watched(import("./checker-snapshot.mjs"));
[pyodideModule, codec].forEach((p) => p.catch(() => {}));

// A response's body as a stream, counted as it arrives (`onChunk` sees each
// chunk's size), inflated when `gzipped` and the bytes are gzip. Errors (HTTP,
// truncation, a body that is not gzip) surface on the stream.
function countedBody(response, name, { gzipped = false, onChunk = () => {} } = {}) {
  let finish;
  watched(new Promise((resolve) => { finish = resolve; }));
  const reader = response.body.getReader();
  const stream = new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
          return;
        }
        counted(value.byteLength);
        onChunk(value.byteLength);
        controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(new Error(`${name}: ${error.message}`));
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return gzipped ? inflateIfGzip(stream) : stream;
}

// The browser's own fetch: Pyodide's request for the wasm is answered from the
// module compiled here (interceptWasm), the loader's own requests never are.
const realFetch = self.fetch.bind(self);

async function get(name, init) {
  let response;
  try {
    response = await watched(realFetch(new URL(name, assets), init));
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  }
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return response;
}

async function download(name, options = {}) {
  return countedBody(await get(name), name, options);
}

// ---- this browser's copy of the runtime ------------------------------------------------
// After a start, the files it took (the wasm, and the snapshot or the trimmed
// standard library) are kept decoded in the browser's Cache Storage under their
// content-named addresses; the next visit starts from them with no download,
// no decoding and (for the wasm) Chromium's compiled code kept beside them.
// Anything wrong with a kept file (missing, the wrong size) means the network
// as usual; where Cache Storage is not offered (not a secure context) nothing
// is kept.
const STORE = "sss-runtime";
const store = (async () => {
  try {
    return typeof caches === "object" && caches ? await caches.open(STORE) : null;
  } catch {
    return null;
  }
})();

async function kept(name, size) {
  const cache = await store;
  if (!cache) return null;
  try {
    const response = await cache.match(new URL(name, assets).href);
    if (!response) return null;
    if (Number(response.headers.get("X-SSS-Size")) === size) return response;
    await cache.delete(new URL(name, assets).href);
  } catch {
    // the storage is gone or unreadable: the network
  }
  return null;
}

async function keptBytes(name, size) {
  const response = await kept(name, size);
  if (!response) return null;
  try {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length === size) return bytes;
  } catch {
    // unreadable: the network
  }
  return null;
}

// Keeps `files` ([name, size, type, bytes or a function giving them]) and drops
// every other entry (files of earlier builds). Failures (quota, private
// browsing) leave things as they were.
async function keep(files) {
  const cache = await store;
  if (!cache) return;
  try {
    const wanted = new Set();
    for (const [name, size, type, bytes, headers = {}] of files) {
      const url = new URL(name, assets).href;
      wanted.add(url);
      if (await cache.match(url)) continue;
      const body = typeof bytes === "function" ? await bytes() : bytes;
      if (!body || body.byteLength !== size) continue;
      await cache.put(url, new Response(body, { headers: { ...headers, "Content-Type": type, "X-SSS-Size": String(size) } }));
    }
    for (const request of await cache.keys()) if (!wanted.has(request.url)) await cache.delete(request);
  } catch {
    // not kept this time
  }
}

// Inflated if it is gzip (a host that labels .gz files Content-Encoding: gzip
// has the browser inflate them already; then they pass as they are).
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

async function drain(stream, name) {
  const reader = stream.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return size;
      size += value.byteLength;
    }
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  }
}

async function readAll(stream, name) {
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  }
}

// ---- the wasm, and what its first bytes say of the line ------------------------------
// Asks for the module as it is. If the host sends it encoded, it is compiled
// from that response (code cache) and a clone is read for the bytes; if not,
// that request is dropped and the gzipped copy comes instead.
function startWasm(m) {
  const runtime = m.runtime_files;
  let judged, unjudged;
  const line = new Promise((resolve, reject) => { judged = resolve; unjudged = reject; });
  const sample = { bytes: 0, from: 0 };
  const started = performance.now();
  const watch = (ratio) => (size) => {
    if (!sample.from) {
      sample.from = performance.now();
      mark("wasm-first-bytes");
    }
    sample.bytes += size * ratio;
    const ms = performance.now() - started;
    if (ms >= JUDGE_MS || sample.bytes >= JUDGE_BYTES) {
      // bytes per second on the wire, from the first chunk on (the round trip aside)
      const seconds = Math.max(performance.now() - sample.from, 1) / 1000;
      judged({ bytesPerSecond: sample.bytes / seconds, sampled: Math.round(sample.bytes), ms: Math.round(ms) });
      mark("line-judged");
    }
  };
  const keptWasm = kept(runtime.wasm_plain, runtime.wasm_size);
  const first = keptWasm.then((response) => response ? { response, encoding: "", type: "application/wasm", kept: true } : get(runtime.wasm_plain).then((response) => {
    const encoding = (response.headers.get("Content-Encoding") || "").toLowerCase();
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
    if (!inflates || (encoding && encoding !== "identity")) return { response, encoding, type };
    response.body.cancel().catch(() => {});
    return { response: null, encoding: "", type };
  }));
  const chosen = first.then(async ({ response, encoding, type, kept: fromStore }) => {
    if (fromStore) {
      // (whether the host compresses was kept with it)
      const hostCompresses = response.headers.get("X-SSS-Host-Compresses") === "true";
      return { body: null, encoding: "none (kept in this browser)", streaming: true, response, hostCompresses, kept: true };
    }
    if (response) {
      // Decoded bytes arrive; on the wire they were about the gzip ratio of them.
      const ratio = runtime.bytes.wasm / runtime.wasm_size;
      const body = countedBody(response.clone(), runtime.wasm_plain, { onChunk: watch(ratio) });
      const streaming = type === "application/wasm";
      if (!streaming) response.body.cancel().catch(() => {}); // compiled from the clone's bytes
      return { body, encoding, streaming, response: streaming ? response : null, hostCompresses: true };
    }
    const body = await download(runtime.wasm, { gzipped: true, onChunk: watch(1) });
    return { body, encoding: "gzip (inflated here)", streaming: false, response: null, hostCompresses: false };
  });
  // The bytes themselves are kept only where the module is compiled from them;
  // beside a streaming compile they are counted and dropped.
  const bytes = chosen.then(async ({ body, streaming, kept: fromStore }) => {
    if (fromStore) {
      judged({ bytesPerSecond: Infinity, sampled: 0, ms: 0, kept: true });
      return null;
    }
    const wasm = streaming ? null : await readAll(body, runtime.wasm_plain);
    const size = streaming ? await drain(body, runtime.wasm_plain) : wasm.length;
    if (size !== runtime.wasm_size) throw new Error(`${runtime.wasm_plain}: ${size} bytes, expected ${runtime.wasm_size}`);
    mark("wasm-bytes");
    judged({ bytesPerSecond: Infinity, sampled: size, ms: Math.round(performance.now() - started) });
    return wasm;
  });
  const module = chosen.then(({ response }) =>
    response ? WebAssembly.compileStreaming(response) : bytes.then((wasm) => WebAssembly.compile(wasm)));
  module.then(() => mark("wasm-compiled"), () => {});
  bytes.catch(unjudged); // a broken wasm fails the start at once
  const checked = Promise.all([module, bytes]).then(([compiled, wasm]) => ({ compiled, wasm }));
  [first, chosen, bytes, module, checked, line].forEach((p) => p.catch(() => {}));
  return { module, bytes, checked, chosen, line };
}

// Pyodide fetches indexURL + "pyodide.asm.wasm" and instantiates it with
// WebAssembly.instantiateStreaming; hand it the module compiled above instead.
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
    const instance = await WebAssembly.instantiate(module, imports);
    mark("wasm-instantiated");
    if (wasm.onInstance) wasm.onInstance(instance);
    return { module, instance };
  };
}

// Pyodide's JavaScript half, gzipped, imported from memory.
// From a host that compresses: imported from its own address (the browser
// decodes it and, on later visits, keeps its compiled code); otherwise gzipped,
// inflated here and imported from memory.
async function loadModuleFactory(runtime, host) {
  if ((await host).hostCompresses) {
    const factory = (await import(new URL(runtime.module.replace(/\.gz$/, ""), assets))).default;
    mark("pyodide-asm-mjs");
    return factory;
  }
  const text = await new Response(await download(runtime.module, { gzipped: true })).text();
  const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  try {
    const factory = (await import(url)).default;
    mark("pyodide-asm-mjs");
    return factory;
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ---- which way ---------------------------------------------------------------------------------
// Seconds each way would still take on this line; the cheaper one wins.
function decide(m, host, line, forced) {
  if (forced === "snapshot" || forced === "plain") return { path: forced, reason: `asked for (?path=${forced})` };
  const connection = (typeof navigator === "object" && navigator.connection) || null;
  if (connection && connection.saveData) return { path: "plain", reason: "the browser asks to save data" };
  if (connection && /^(slow-2g|2g|3g)$/.test(connection.effectiveType || "")) {
    return { path: "plain", reason: `the browser rates the line ${connection.effectiveType}` };
  }
  // Bytes on the wire, gzipped sizes (a brotli host sends about a third less of both).
  const snapshotBytes = m.snapshot_bytes;
  const plainBytes = m.stdlib_bytes;
  const rate = line.bytesPerSecond;
  const snapshot = snapshotBytes / rate + RESTORE_S;
  const plain = plainBytes / rate + PLAIN_START_S;
  const mbit = Number.isFinite(rate) ? `${(rate * 8 / 1e6).toFixed(1)} Mbit/s` : "all of it arrived while judging";
  const also = connection && connection.effectiveType ? `, the browser rates it ${connection.effectiveType}` : "";
  return {
    path: snapshot <= plain ? "snapshot" : "plain",
    reason: `line ${mbit} (${line.sampled} bytes in ${line.ms} ms${also}): snapshot ≈ ${snapshot.toFixed(2)} s, plain ≈ ${plain.toFixed(2)} s`,
  };
}

// ---- starting Python ---------------------------------------------------------------------------
function runtimeOptions(m, indexURL, files, stdLibURL) {
  return {
    indexURL,
    packages: [],
    createPyodideModule: files.factory,
    lockFileContents: { info: m.runtime_files.lock_info, packages: {} },
    stdLibURL,
  };
}

function importAll(pyodide, modules) {
  return Object.fromEntries(modules.map((name) => [name, pyodide.pyimport(name)]));
}

// Restore the snapshot; Python starts with an empty standard library (nothing
// in the snapshot's imports needs it) and gets the trimmed one later.
// The runtime needs the snapshot's length before it starts (its memory) and
// its bytes only once started: it gets a zeroed array of that length at once,
// starts while the snapshot downloads, and the snapshot is unpacked into that
// array before the start is let finish.
function snapshotDownload(m, host) {
  const name = host.hostCompresses ? m.snapshot : m.snapshot_gz;
  const packed = download("checker/" + name, { gzipped: !host.hostCompresses }).then((s) => readAll(s, name));
  packed.then(() => mark("snapshot-bytes"), () => {});
  return packed;
}

async function fromSnapshot(m, indexURL, files, host, modules) {
  const packed = keptBytes("checker/" + m.snapshot, m.snapshot_size).then((bytes) => bytes || snapshotDownload(m, host));
  files.used.snapshot = packed;
  // The snapshot holds only what differs from the memory the runtime's
  // instance starts with: that memory, copied as soon as it is instantiated
  // (before any of its code runs), is the base the snapshot is unpacked onto.
  const memory = new Uint8Array(m.snapshot_total);
  const heapOffset = m.snapshot_heap_offset;
  let based, unbased;
  const base = new Promise((resolve, reject) => { based = resolve; unbased = reject; });
  files.wasm.onInstance = (instance) => {
    files.wasm.onInstance = null;
    const live = instance.exports.memory && new Uint8Array(instance.exports.memory.buffer);
    if (!live || live.length < memory.length - heapOffset) {
      unbased(new Error("snapshot: the runtime's memory is not what it was built for"));
      return;
    }
    memory.set(live.subarray(0, memory.length - heapOffset), heapOffset);
    based();
  };
  const snapshot = Promise.all([packed, codec, base]).then(([p, { unpackOnto }]) => {
    unpackOnto(p, memory, heapOffset);
    mark("snapshot-unpacked");
  });
  // Awaited only once the module is in: a snapshot that fails before that must
  // not surface as an unhandled rejection (the caller still gets the error,
  // through loadPyodide, and starts the plain way).
  snapshot.catch(() => {});
  const { loadPyodide } = await pyodideModule;
  const factory = await files.factory;
  const createPyodideModule = async (settings) => {
    const module = await factory(settings);
    mark("wasm-started");
    await snapshot;
    return module;
  };
  const options = runtimeOptions(m, indexURL, { factory: createPyodideModule }, URL.createObjectURL(new Blob([])));
  const pyodide = await Promise.race([
    loadPyodide({ ...options, _loadSnapshot: Promise.resolve(memory) }),
    files.wasm.checked.then(() => new Promise(() => {})), // fails fast on a bad wasm
    stalled,
  ]);
  mark("python-started");
  const imported = importAll(pyodide, modules);
  mark("imported");
  return { pyodide, modules: imported, stdlib: false };
}

// Start Python from the trimmed standard library, which holds the checker
// compiled with its rules, and import.
async function fromPlain(m, indexURL, files, host, modules) {
  const stdlib = trimmedStdlib(m, host, files.used);
  const { loadPyodide } = await pyodideModule;
  const url = URL.createObjectURL(new Blob([await stdlib]));
  mark("stdlib-bytes");
  const pyodide = await Promise.race([loadPyodide(runtimeOptions(m, indexURL, { factory: await files.factory }, url)), stalled]);
  mark("python-started");
  URL.revokeObjectURL(url);
  const imported = importAll(pyodide, modules);
  mark("imported");
  return { pyodide, modules: imported, stdlib: true };
}

function trimmedStdlib(m, host, used = {}) {
  const name = host.hostCompresses ? m.stdlib : m.stdlib + ".gz";
  used.stdlib = keptBytes("checker/" + m.stdlib, m.stdlib_size)
    .then((bytes) => bytes || download("checker/" + name, { gzipped: !host.hostCompresses }).then((s) => readAll(s, name)));
  return used.stdlib;
}

// Where Python looks for its standard library: `bytes` put there, and the
// import caches that remember the previous zip's contents cleared.
function placeStdlib(pyodide, bytes) {
  const path = pyodide.runPython("import sys\nnext(p for p in sys.path if p.endswith('.zip'))");
  pyodide.FS.writeFile(path, bytes);
  // (Not importlib.invalidate_caches(): it imports importlib.metadata.)
  pyodide.runPython("import sys, zipimport\nzipimport._zip_directory_cache.clear()\nsys.path_importer_cache.clear()");
}

// Loads the runtime with `modules` imported. Returns {pyodide, modules, via,
// reason, withStdlib(), wholeStdlib()}: withStdlib() puts the trimmed standard
// library in (the snapshot path starts without one), wholeStdlib() the whole
// one (for an answer that needed more than the trimmed one has).
// `path`: "snapshot" or "plain" forces that way (tests, the bench).
export async function loadRuntime({ modules, path: forced = "", onProgress = () => {} }) {
  progress.report = onProgress;
  const m = await manifest;
  const runtime = m.runtime_files;
  const indexURL = new URL(m.runtime, assets).href;
  // Until the host and the line are known: the gzipped files of the plain way.
  progress.total = runtime.bytes.wasm + runtime.bytes.module + m.stdlib_bytes;
  progress.report(0, progress.total); // the page shows the download from its first moment
  const wasm = startWasm(m);
  const files = { wasm, factory: watched(loadModuleFactory(runtime, wasm.chosen)), used: {} };
  files.factory.catch(() => {});
  interceptWasm(indexURL, wasm);
  const host = await Promise.race([wasm.chosen, stalled]);
  const wire = host.hostCompresses
    ? { wasm: runtime.wasm_size, snapshot: m.snapshot_size, plain: m.stdlib_size }
    : { wasm: runtime.bytes.wasm, snapshot: m.snapshot_bytes, plain: m.stdlib_bytes };
  progress.total = wire.wasm + runtime.bytes.module + wire.plain;
  const line = await Promise.race([wasm.line, stalled]);
  let choice;
  if (line.kept && !forced) {
    // No line to judge: the way whose files this browser kept.
    const [snapshot, stdlib] = await Promise.all([kept("checker/" + m.snapshot, m.snapshot_size), kept("checker/" + m.stdlib, m.stdlib_size)]);
    choice = snapshot || !stdlib
      ? { path: "snapshot", reason: snapshot ? "kept in this browser from an earlier visit" : "the wasm kept in this browser, no line to judge" }
      : { path: "plain", reason: "kept in this browser from an earlier visit" };
  } else {
    choice = decide(m, host, line, forced);
  }
  // (files kept in this browser are not downloaded: their size is not known to count)
  progress.total = line.kept ? 0 : wire.wasm + runtime.bytes.module + (choice.path === "snapshot" ? wire.snapshot : wire.plain);
  if (line.kept) progress.report(progress.loaded, 0);
  const details = { compiled: host.streaming ? "streaming, from its own address" : "from bytes", encoding: host.encoding };
  let state;
  if (choice.path === "snapshot") {
    try {
      state = { ...(await fromSnapshot(m, indexURL, files, host, modules)), via: "snapshot" };
    } catch (error) {
      // The plain way still answers; `via` says it was taken.
      files.wasm.onInstance = null;
      console.warn("checker: starting without the snapshot:", error && error.message);
      await Promise.race([wasm.checked, stalled]);
      choice.reason += `; the snapshot failed (${String(error && error.message).slice(0, 120)})`;
      state = { ...(await fromPlain(m, indexURL, files, host, modules)), via: "plain" };
    }
  } else {
    state = { ...(await fromPlain(m, indexURL, files, host, modules)), via: "plain" };
  }
  let trimmed = null;
  let whole = null;
  return {
    ...state,
    timings,
    manifest: m,
    chosen: choice.path,
    reason: choice.reason,
    ...details,
    withStdlib() {
      if (state.stdlib) return Promise.resolve();
      trimmed ??= trimmedStdlib(m, host, files.used).then((bytes) => { placeStdlib(state.pyodide, bytes); state.stdlib = true; });
      return trimmed;
    },
    wholeStdlib() {
      whole ??= download(runtime.stdlib).then((s) => readAll(s, runtime.stdlib)).then((bytes) => placeStdlib(state.pyodide, bytes));
      return whole;
    },
    readAll: async (name) => readAll(await download(name), name),
    // Once KEEP_AFTER_MS have passed, keeps the files this start took for the
    // next visit (see keep()); the wasm, compiled as it streamed, comes again
    // from the HTTP cache only.
    keepLater() {
      const wasmBytes = async () => {
        const bytes = await wasm.bytes.catch(() => null);
        if (bytes) return bytes;
        const response = await realFetch(new URL(runtime.wasm_plain, assets), { cache: "only-if-cached", mode: "same-origin" });
        return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
      };
      setTimeout(() => {
        // (what was used by then: the snapshot's start takes the standard library after its first answer)
        const list = [[runtime.wasm_plain, runtime.wasm_size, "application/wasm", wasmBytes,
          { "X-SSS-Host-Compresses": String(host.hostCompresses) }]];
        if (files.used.snapshot) list.push(["checker/" + m.snapshot, m.snapshot_size, "application/octet-stream", () => files.used.snapshot]);
        if (files.used.stdlib) list.push(["checker/" + m.stdlib, m.stdlib_size, "application/zip", () => files.used.stdlib]);
        keep(list);
      }, KEEP_AFTER_MS);
    },
  };
}
