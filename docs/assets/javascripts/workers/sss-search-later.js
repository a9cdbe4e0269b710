// Material's search worker, started later on the pages whose own worker
// starts Python (the checker, the organization check): building the search
// index takes a few hundred milliseconds of CPU that the first verdict needs
// more. The theme creates this worker instead of its own (hooks/reader.py
// points the page's config here, with the theme's worker named after "?"),
// and it loads the theme's worker once one of these happens:
//   - the page says its engine answered (or failed), on the "sss-search"
//     BroadcastChannel;
//   - the reader searches (a second message: the first sets the index up);
//   - START_MS have passed.
// Until then the theme's messages wait here, and are replayed in order.
// It lives in the theme's worker folder: the theme's worker finds its language
// files relative to its own address ("../lunr").
const START_MS = 6000;
const theme = /^search\.[0-9a-f]{8}\.min\.js$/.test(location.search.slice(1)) ? location.search.slice(1) : null;
const waiting = [];
let started = false;
let channel = null;

function start() {
  if (started) return;
  started = true;
  if (channel) channel.close();
  clearTimeout(timer);
  if (!theme) throw new Error("sss-search-later.js: no theme search worker named after '?'");
  importScripts(theme);
  // The theme's worker listens for "message" from here on; this listener
  // (registered first) stands aside.
  for (const data of waiting.splice(0)) self.dispatchEvent(new MessageEvent("message", { data }));
}

self.addEventListener("message", (event) => {
  if (started) return;
  waiting.push(event.data);
  if (waiting.length > 1) start();
});

const timer = setTimeout(start, START_MS);
if (typeof BroadcastChannel === "function") {
  channel = new BroadcastChannel("sss-search");
  channel.onmessage = (event) => { if (event.data === "start") start(); };
} else {
  start();
}
