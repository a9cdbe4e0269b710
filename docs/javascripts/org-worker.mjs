// The worker of the page "Check your organization": runs checker.orgmap on the
// self-hosted Pyodide runtime, loaded as the checker page's worker loads it
// (runtime-loader.mjs: the memory snapshot or a plain start, by the line). Files
// never leave the browser: they arrive here as text and stay in memory.
//
// Protocol, one request at a time:
//   {id, type: "run", options: JSON string, files: [{name, bytes: ArrayBuffer} or {name, text}]}
//       -> {id, progress: {done, total, name}} per file, then {id, response}
//   {id, type: "answers", request: JSON string} -> {id, response}
//   {id, type: "rows", group, limit} -> {id, response}: one group's mailboxes
//   {id, type: "export", format: "json" | "csv"} -> {id, response}
// {type: "ready", via, path, reason} once loaded (as the checker's worker
// says it), {type: "failed", error} if loading failed.
// Any request that fails answers {id, error}: the page says why and can run again.
import { loadRuntime, stopWatchdog } from "./runtime-loader.mjs";

// ?path=snapshot or ?path=plain on the worker's address forces that way (tests).
const forced = new URL(import.meta.url).searchParams.get("path") || "";
const queue = [];
let handle = (message) => queue.push(message);
self.onmessage = (event) => handle(event.data);

// The snapshot holds the engine and checker.orgmap already imported; the
// plain way imports them from the trimmed standard library. Both carry the
// wheel's rules.
async function load() {
  const state = await loadRuntime({ modules: ["checker.engine", "checker.orgmap"], path: forced });
  stopWatchdog();
  const m = state.manifest;
  if (!(m.rules_sha256 && m.rules_sha256 === m.snapshot_rules_sha256)) {
    state.modules["checker.engine"].use_rules(new TextDecoder().decode(await state.readAll("checker/" + m.rules)));
  }
  // Reading exports may need modules the snapshot left out of its empty standard library.
  await state.withStdlib();
  state.keepLater(); // the runtime's files, for the next visit
  return state;
}

async function start() {
  const state = await load();
  const org = state.modules["checker.orgmap"];
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
  self.postMessage({ type: "ready", via: state.via, path: state.chosen, reason: state.reason });
  queue.splice(0).forEach(handle);
}

start().catch((error) => {
  const reason = error instanceof Error ? error.message : JSON.stringify(error);
  console.warn("org worker:", String(reason).slice(-600));
  self.postMessage({ type: "failed", error: String(reason).split("\n")[0].slice(0, 200) });
});
