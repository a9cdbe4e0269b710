// The checker's Web Worker: runs the Python engine on the self-hosted Pyodide
// runtime, so the page stays responsive while it loads. Loading starts as soon
// as the worker does (the page starts it from <head>); requests that arrive
// earlier wait in a queue. How it loads: runtime-loader.mjs.
//
// Protocol: {id, request: JSON string} in, {id, response: JSON string} out;
// {type: "progress", loaded, total} (bytes of the runtime) while loading;
// {type: "ready", via: "snapshot" | "plain", path (the way chosen), reason,
//  compiled, timings: {moment: ms since the epoch}} once loaded (via differs
//  from path only when the snapshot failed);
// {type: "failed", error} if loading failed or stalled.
// {type: "warm", requests: [JSON string, ...]} in: answers to work out while
// idle and drop (see serve()).
//
// The worker's own address may say which way to start: ?path=snapshot or
// ?path=plain (the tests and the bench use it); otherwise the line decides.
import { loadRuntime, mark, stalled, stopWatchdog, timings } from "./runtime-loader.mjs";

const forced = new URL(import.meta.url).searchParams.get("path") || "";
const queue = [];
let handle = (message) => queue.push(message);
self.onmessage = (event) => handle(event.data);

// The rules in use: the snapshot and the trimmed standard library carry the
// wheel's; the served ones replace them only when they differ (a matrix edited
// since the wheel was built).
async function useServedRules(state) {
  const m = state.manifest;
  if (m.rules_sha256 && m.rules_sha256 === m.snapshot_rules_sha256) return;
  const bytes = await state.readAll("checker/" + m.rules);
  try {
    state.modules["checker.engine"].use_rules(new TextDecoder().decode(bytes));
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
function serve(state) {
  const evaluate = state.modules["checker.engine"].evaluate_json;
  const answer = ({ id, request }) => {
    try {
      return { id, response: evaluate(request) };
    } catch (error) {
      return { id, error: String(error) };
    }
  };
  let whole = false;
  // Warming up: answers the page may ask next, worked out one per task while
  // nothing else waits, so the runtime's hot code is optimized before the
  // reader changes an answer (the first few dozen answers are otherwise the
  // slow ones). Their results are dropped; a real request goes first.
  const warm = [];
  const warmNext = () => {
    if (!warm.length) return;
    try { evaluate(warm.shift()); } catch { warm.length = 0; }
    setTimeout(warmNext, 0);
  };
  handle = (message) => {
    if (message.type === "warm") {
      const start = !warm.length;
      warm.push(...(Array.isArray(message.requests) ? message.requests.slice(0, 400) : []));
      if (start) setTimeout(warmNext, 0);
      return;
    }
    const reply = answer(message);
    if (reply.error && !whole) {
      // Perhaps it needed more of the standard library than is in: answer
      // again once the trimmed one (then the whole one) is there.
      whole = state.stdlib;
      const more = state.stdlib ? state.wholeStdlib() : state.withStdlib();
      more.then(() => self.postMessage(answer(message)), () => self.postMessage(reply));
      return;
    }
    self.postMessage(reply);
    // The snapshot starts without a standard library: the trimmed one now.
    if (!state.stdlib) state.withStdlib().catch((error) => console.warn("checker: standard library:", error.message));
  };
}

async function start() {
  const state = await loadRuntime({
    modules: ["checker.engine"],
    path: forced,
    onProgress: (loaded, total) => self.postMessage({ type: "progress", loaded, total }),
  });
  await Promise.race([useServedRules(state), stalled]);
  stopWatchdog();
  serve(state);
  mark("ready");
  self.postMessage({ type: "ready", via: state.via, path: state.chosen, reason: state.reason, compiled: state.compiled, timings });
  // The runtime's files kept for the next visit, once the first answer is out.
  state.keepLater();
  queue.splice(0).forEach((message) => handle(message));
}

start().catch((error) => {
  stopWatchdog();
  self.postMessage({ type: "failed", error: lastLine(error).slice(0, 200) });
});
