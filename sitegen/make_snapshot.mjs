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

const [wheelPath, outPath] = process.argv.slice(2);
const { loadPyodide } = await import(new URL("../node_modules/pyodide/pyodide.mjs", import.meta.url));
globalThis.fetch = () => { throw new Error("no network at build time"); };
const pyodide = await loadPyodide({ _makeSnapshot: true, packages: [] });
const wheel = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(wheel.buffer, wheel.byteOffset, wheel.byteLength), "wheel");
pyodide.runPython("import checker.engine, json\nchecker.engine.load_matrix()");
const snapshot = pyodide.makeMemorySnapshot();
await writeFile(outPath, snapshot);
const gzipped = gzipSync(snapshot, { level: 6 });
await writeFile(outPath + ".gz", gzipped);
console.log(JSON.stringify({ bytes: snapshot.length, gzipped: gzipped.length }));
