// Build-time: a Pyodide memory snapshot with the checker already imported and
// its packed rules loaded, written in the site's format (OUT), as
// docs/javascripts/checker-snapshot.mjs describes: only the memory pages that
// neither start as zeros nor come from the runtime's own data segments. The
// checker page restores it instead of starting Python from scratch (several
// times faster to answer).
//
//   node sitegen/make_snapshot.mjs WHEEL OUT
//
// Uses Pyodide's own snapshot support (`_makeSnapshot`, `makeMemorySnapshot`,
// `_loadSnapshot`), which the pinned version ships but marks private: the page
// falls back to a normal start if restoring fails, and a browser test fails
// when it does.
import { readFile, rename, writeFile } from "node:fs/promises";
import nodeCrypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import { initialMemory, pack, unpack } from "../docs/javascripts/checker-snapshot.mjs";

const [wheelPath, outPath] = process.argv.slice(2);
if (!wheelPath || !outPath) {
  console.error("usage: node sitegen/make_snapshot.mjs WHEEL OUT");
  process.exit(2);
}
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
const runtime = new URL("../node_modules/pyodide/", import.meta.url);
const { loadPyodide } = await import(new URL("pyodide.mjs", runtime));
globalThis.fetch = () => { throw new Error("no network at build time"); };
const pyodide = await loadPyodide({ _makeSnapshot: true, packages: [] });
const wheel = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(wheel.buffer, wheel.byteOffset, wheel.byteLength), "wheel");
// Both pages restore this one snapshot: the checker's engine and the
// organization check are imported in it.
pyodide.runPython("import checker.engine, checker.orgmap, json\nchecker.engine.load_matrix()");
const snapshot = pyodide.makeMemorySnapshot();
Date.now = realNow;
performance.now = realPerformanceNow;

const wasm = new Uint8Array(await readFile(new URL("pyodide.asm.wasm", runtime)));
// The runtime copies the snapshot's memory into the memory the wasm starts
// with, before anything can grow it (pyodide#6254): a larger snapshot would
// fail on every page and leave the slow start as the only path.
const heapOffset = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
const memory = initialMemory(wasm);
if (snapshot.length - heapOffset > memory) {
  console.error(`the snapshot holds ${snapshot.length - heapOffset} bytes of memory; the runtime starts with ${memory} and cannot restore more`);
  process.exit(1);
}
let packed;
let base = "zeros and the runtime's data segments";
try {
  packed = pack(snapshot, wasm);
} catch (error) {
  // A runtime whose data segments this format does not know: zeros only.
  base = `zeros only (${error.message})`;
  packed = pack(snapshot, null);
}
const back = unpack(packed, wasm);
if (Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.length), Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.length)) !== 0) {
  throw new Error("the packed snapshot does not unpack to the snapshot");
}
// OUT is the packed snapshot as it is: a host that compresses serves it
// brotli- or gzip-encoded from the copies the build puts beside it; the build
// also writes OUT.gz (sitegen/runtime.py) for hosts that do not.
await writeFile(outPath + ".tmp", packed);
await rename(outPath + ".tmp", outPath);
console.log(JSON.stringify({ bytes: snapshot.length, memory: snapshot.length - heapOffset, initial_memory: memory, packed: packed.length, base }));
