// The theme's search worker on the pages that start Python waits for the
// engine (building its index takes CPU the first answer needs more): this
// tells it to start, once. See docs/assets/javascripts/workers/sss-search-later.js.
let started = false;
export function startSearch() {
  if (started) return;
  started = true;
  if (typeof BroadcastChannel !== "function") return; // it starts on its own then
  const channel = new BroadcastChannel("sss-search");
  channel.postMessage("start");
  channel.close();
}
