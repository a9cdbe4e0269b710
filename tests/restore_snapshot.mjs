// The built site's snapshot restored in Node.js, the way the page's worker
// restores it: the served files (manifest, gzipped wasm, packed snapshot),
// unpacked with the worker's own code, no standard library and no network.
//
//   node tests/restore_snapshot.mjs SITE_DIR REQUESTS_JSON
//
// Prints one JSON object: {responses: [...]} with evaluate_json's answer to
// each request (a JSON array of request strings), the checker's modules already
// imported when the snapshot was restored, and the memory the snapshot holds
// beside the memory the runtime starts with. Exits 1 with a message if
// anything about the restore fails: there is no fallback here.
import { mkdtemp, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";

const [siteDir, requestsPath] = process.argv.slice(2);
globalThis.fetch = (resource) => { throw new Error(`no network (fetch ${resource})`); };
const site = (path) => join(siteDir, path);
const { unpack, initialMemory } = await import(pathToFileURL(site("javascripts/checker-snapshot.mjs")).href);
const manifest = JSON.parse(await readFile(site("assets/checker/manifest.json"), "utf8"));
const wasm = new Uint8Array(gunzipSync(await readFile(site("assets/" + manifest.runtime_files.wasm))));
if (wasm.length !== manifest.runtime_files.wasm_size) throw new Error("the served wasm has the wrong size");
const snapshot = unpack(new Uint8Array(gunzipSync(await readFile(site("assets/checker/" + manifest.snapshot_gz)))), wasm);

// In Node, Pyodide reads its files from indexURL: the served ones, inflated,
// with an empty standard library as in the worker.
const index = await mkdtemp(join(tmpdir(), "sss-restore-"));
try {
  await writeFile(join(index, "pyodide.asm.wasm"), wasm);
  await writeFile(join(index, "pyodide.asm.mjs"), gunzipSync(await readFile(site("assets/" + manifest.runtime_files.module))));
  await writeFile(join(index, "python_stdlib.zip"), new Uint8Array(0));
  await copyFile(site("assets/" + manifest.runtime + "pyodide.mjs"), join(index, "pyodide.mjs"));
  const { loadPyodide } = await import(pathToFileURL(join(index, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL: index + "/",
    packages: [],
    lockFileContents: { info: manifest.runtime_files.lock_info, packages: {} },
    _loadSnapshot: snapshot,
  });
  const modules = pyodide.runPython("import sys\n[m for m in sorted(sys.modules) if m.startswith('checker')]").toJs();
  const engine = pyodide.pyimport("checker.engine");
  const requests = JSON.parse(await readFile(requestsPath, "utf8"));
    const heapOffset = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
  console.log(JSON.stringify({
    responses: requests.map((r) => engine.evaluate_json(r)),
    modules,
    memory: snapshot.length - heapOffset,
    initial_memory: initialMemory(wasm),
  }));
} finally {
  await rm(index, { recursive: true, force: true });
}
