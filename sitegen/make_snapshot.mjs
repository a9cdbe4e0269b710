// Build-time: a Pyodide memory snapshot with the checker already imported and
// its packed rules loaded. Written as is (OUT) and gzipped (OUT.gz); the site
// serves the gzipped one. The checker page restores it
// instead of starting Python from scratch (several times faster to answer).
//
//   node sitegen/make_snapshot.mjs WHEEL OUT
//
// Uses Pyodide's own snapshot support (`_makeSnapshot`, `makeMemorySnapshot`,
// `_loadSnapshot`), which the pinned version ships but marks private: the page
// falls back to a normal start if restoring fails.
import { readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import nodeCrypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";

const [wheelPath, outPath] = process.argv.slice(2);
// The runtime keeps the script's path (as the program name) in its memory: a
// fixed name keeps the build machine's folders out of the snapshot, so two
// checkouts build the same bytes.
process.argv[1] = "make_snapshot.mjs";
// What the runtime draws at start-up (hash seed, random states) is kept in the
// snapshot: fixed bytes while it is made give the same snapshot every build.
// Randomness drawn on the page after restoring comes from the browser as usual.
let state = 0x2545f491;
function fixedRandom(array) {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return array;
}
Object.defineProperty(globalThis, "crypto", { value: { getRandomValues: fixedRandom }, configurable: true });
nodeCrypto.randomFillSync = fixedRandom;
nodeCrypto.webcrypto.getRandomValues = fixedRandom;
syncBuiltinESMExports();
Math.random = () => fixedRandom(new Uint32Array(1))[0] / 2 ** 32;
// Times are kept too (file times of the unpacked wheel, start-up clocks): a
// fixed clock while it is made.
const realNow = Date.now;
const realPerformanceNow = performance.now.bind(performance);
let ticks = 0;
Date.now = () => 1580601600000;
performance.now = () => (ticks += 1);
const { loadPyodide } = await import(new URL("../node_modules/pyodide/pyodide.mjs", import.meta.url));
globalThis.fetch = () => { throw new Error("no network at build time"); };
const pyodide = await loadPyodide({ _makeSnapshot: true, packages: [] });
const wheel = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(wheel.buffer, wheel.byteOffset, wheel.byteLength), "wheel");
pyodide.runPython("import checker.engine, json\nchecker.engine.load_matrix()");
const snapshot = pyodide.makeMemorySnapshot();
Date.now = realNow;
performance.now = realPerformanceNow;
await writeFile(outPath, snapshot);
const gzipped = gzipSync(snapshot, { level: 6 });
await writeFile(outPath + ".gz", gzipped);
console.log(JSON.stringify({ bytes: snapshot.length, gzipped: gzipped.length }));
