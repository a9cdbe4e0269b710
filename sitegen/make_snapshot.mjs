// Build-time: a Pyodide memory snapshot with the checker already imported and
// its packed rules loaded, written in the site's format and gzipped (OUT), as
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
import { gzipSync } from "node:zlib";
import { pack, unpack } from "../docs/javascripts/checker-snapshot.mjs";

const [wheelPath, outPath] = process.argv.slice(2);
if (!wheelPath || !outPath) {
  console.error("usage: node sitegen/make_snapshot.mjs WHEEL OUT");
  process.exit(2);
}
const runtime = new URL("../node_modules/pyodide/", import.meta.url);
const { loadPyodide } = await import(new URL("pyodide.mjs", runtime));
globalThis.fetch = () => { throw new Error("no network at build time"); };
const pyodide = await loadPyodide({ _makeSnapshot: true, packages: [] });
const wheel = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(wheel.buffer, wheel.byteOffset, wheel.byteLength), "wheel");
pyodide.runPython("import checker.engine, json\nchecker.engine.load_matrix()");
const snapshot = pyodide.makeMemorySnapshot();

const wasm = new Uint8Array(await readFile(new URL("pyodide.asm.wasm", runtime)));
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
const gzipped = gzipSync(packed, { level: 9 });
await writeFile(outPath + ".tmp", gzipped);
await rename(outPath + ".tmp", outPath);
console.log(JSON.stringify({ bytes: snapshot.length, packed: packed.length, gzipped: gzipped.length, base }));
