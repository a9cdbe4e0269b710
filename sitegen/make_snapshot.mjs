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
const layout = memoryLayout(pyodide._module);
const snapshot = pyodide.makeMemorySnapshot();
Date.now = realNow;
performance.now = realPerformanceNow;
const cleared = clearFreeMemory(snapshot, layout);

// Free memory travels too, unless cleared: what the allocator has freed and
// the part of the stack below its pointer hold whatever was last written there
// (3 MB of the 13 MB that differ from the base, the last time it was counted).
// Nothing reads them before writing, so they are zeroed here: fewer bytes to
// download, inflate and copy. Where the allocator's chunks cannot be walked
// end to end as expected, they are left as they are and the build says so.
function memoryLayout(module) {
  const value = (v) => (typeof v === "object" && v !== null && "value" in v ? v.value : v);
  return {
    brk: module._sbrk(0) >>> 0,
    heapBase: value(module.___heap_base) >>> 0,
    stackEnd: module._emscripten_stack_get_end() >>> 0,
    stackPointer: module._emscripten_stack_get_current() >>> 0,
  };
}

// dlmalloc's chunks (the runtime's malloc, 32-bit): at p, a 4-byte footer of
// the previous chunk, then the size with flags (bit 0: the previous chunk is
// in use); a free chunk keeps its links in the next 24 bytes. A chunk is free
// when the next one's bit 0 is clear; the last one (the top) is free.
function clearFreeMemory(snapshot, { brk, heapBase, stackEnd, stackPointer }) {
  const heapOffset = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
  const memory = snapshot.subarray(heapOffset);
  const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  let stack = 0;
  if (stackEnd < stackPointer && stackPointer <= heapBase) {
    memory.fill(0, stackEnd, stackPointer);
    stack = stackPointer - stackEnd;
  }
  if (!(heapBase < brk && brk <= memory.length)) return { stack, free: 0, kept: "the heap's bounds are not as expected" };
  const runs = [];
  let at = heapBase;
  while (at + 8 <= brk) {
    const size = view.getUint32(at + 4, true) & ~7;
    if (size < 16 || at + size > brk) break;
    const next = at + size;
    const free = next + 8 > brk || (view.getUint32(next + 4, true) & 1) === 0;
    // (the last 128 bytes before the break stay: the allocator's own records)
    const to = Math.min(next, brk - 128);
    if (free && to > at + 32) runs.push([at + 32, to]);
    at = next;
  }
  if (at !== brk) return { stack, free: 0, kept: `the allocator's chunks stop at ${at}, not at the break (${brk})` };
  let free = 0;
  for (const [from, to] of runs) {
    memory.fill(0, from, to);
    free += to - from;
  }
  return { stack, free };
}

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
console.log(JSON.stringify({ bytes: snapshot.length, memory: snapshot.length - heapOffset, initial_memory: memory, packed: packed.length, base, cleared }));
