// The worker of the page "Check your organization": runs checker.orgmap on the
// self-hosted Pyodide runtime, loaded the same way as the checker page's worker
// (the build's manifest, its memory snapshot, the wheel as a fallback). Files
// never leave the browser: they arrive here as text and stay in memory.
//
// Protocol, one request at a time:
//   {id, type: "run", options: JSON string, files: [{name, bytes: ArrayBuffer} or {name, text}]}
//       -> {id, progress: {done, total, name}} per file, then {id, response}
//   {id, type: "answers", request: JSON string} -> {id, response}
//   {id, type: "rows", group, limit} -> {id, response}: one group's mailboxes
//   {id, type: "export", format: "json" | "csv"} -> {id, response}
// {type: "ready"} once loaded, {type: "failed", error} if loading failed.
// Any request that fails answers {id, error}: the page says why and can run again.
const assets = new URL("../assets/", import.meta.url);
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

async function snapshotBytes({ snapshot: name }) {
  if (!name) throw new Error("no snapshot");
  const response = await fetch(new URL("checker/" + name, assets));
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  if (!name.endsWith(".gz")) return response.arrayBuffer();
  if (typeof DecompressionStream !== "function") throw new Error("no DecompressionStream");
  return new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
}

// The snapshot holds the engine already imported; the organization module is
// imported from the wheel's files when the snapshot does not carry them.
async function load(indexURL) {
  const m = await manifest;
  let pyodide;
  try {
    pyodide = await loadPyodide({ indexURL, packages: [], _loadSnapshot: snapshotBytes(m) });
  } catch (error) {
    console.warn("org: starting without the snapshot:", error && error.message);
    pyodide = await loadPyodide({ indexURL, packages: [] });
    pyodide.unpackArchive(await fetchBytes(new URL("checker/" + m.wheel, assets)), "wheel");
  }
  try {
    return [pyodide, pyodide.pyimport("checker.orgmap")];
  } catch (error) {
    pyodide.unpackArchive(await fetchBytes(new URL("checker/" + m.wheel, assets)), "wheel");
    pyodide.runPython("import importlib; importlib.invalidate_caches()");
    return [pyodide, pyodide.pyimport("checker.orgmap")];
  }
}

async function start() {
  const indexURL = (await runtime).href;
  const rules = manifest.then(async (m) => new TextDecoder().decode(await fetchBytes(new URL("checker/" + m.rules, assets))));
  const [pyodide, org] = await load(indexURL);
  pyodide.pyimport("checker.engine").use_rules(await rules);
  handle = ({ id, type, options, files, request, format, group, limit }) => {
    try {
      if (type === "run") {
        const started = JSON.parse(org.start(options));
        if (started.errors) {
          self.postMessage({ id, response: JSON.stringify(started) });
          return;
        }
        files.forEach((file, index) => {
          self.postMessage({ id, progress: { done: index, total: files.length, name: file.name } });
          // Bytes are decoded by Python, as the command line decodes a file (UTF-8, UTF-16,
          // or a refusal that names a workbook); pasted text arrives as text.
          const added = JSON.parse(file.bytes ? org.add_file_bytes(file.name, new Uint8Array(file.bytes))
            : org.add_file(file.name, file.text));
          file.bytes = null;
          if (added.errors) throw new Error(added.errors.join(" "));
        });
        self.postMessage({ id, progress: { done: files.length, total: files.length, name: "" } });
        self.postMessage({ id, response: org.finish() });
      } else if (type === "answers") {
        self.postMessage({ id, response: org.finish(request) });
      } else if (type === "rows") {
        self.postMessage({ id, response: org.rows(group, limit) });
      } else if (type === "export") {
        self.postMessage({ id, response: org.export(format) });
      }
    } catch (error) {
      // A Python error's last line names it; the page shows it in its own words.
      const text = String((error && error.message) || error).trim().split("\n").slice(-1)[0];
      self.postMessage({ id, error: text.slice(0, 300) || "error" });
    }
  };
  self.postMessage({ type: "ready" });
  queue.splice(0).forEach(handle);
}

start().catch((error) => {
  const reason = error instanceof Error ? error.message : JSON.stringify(error);
  self.postMessage({ type: "failed", error: String(reason).split("\n")[0].slice(0, 200) });
});
