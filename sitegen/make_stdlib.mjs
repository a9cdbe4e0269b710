// Build-time: which files of Pyodide's standard library zip the checker uses.
// Starts Pyodide under Node.js with the whole standard library, installs the
// checker's wheel, runs sitegen/stdlib_uses.py (every path of the checker
// page, the organization page and the CLI) and prints those files, one a line.
// sitegen/runtime.py makes the trimmed zip from them.
//
//   node sitegen/make_stdlib.mjs WHEEL [EXPORT.json ...]
import { readFile } from "node:fs/promises";

const [wheelPath, ...exports] = process.argv.slice(2);
if (!wheelPath) {
  console.error("usage: node sitegen/make_stdlib.mjs WHEEL [EXPORT.json ...]");
  process.exit(2);
}
const runtime = new URL("../node_modules/pyodide/", import.meta.url);
const { loadPyodide } = await import(new URL("pyodide.mjs", runtime));
const pyodide = await loadPyodide({ packages: [] });
const wheel = await readFile(wheelPath);
pyodide.unpackArchive(new Uint8Array(wheel.buffer, wheel.byteOffset, wheel.byteLength), "wheel");
const names = [];
for (const [i, path] of exports.entries()) {
  const name = `/tmp/export-${i}.json`;
  pyodide.FS.writeFile(name, await readFile(path));
  names.push(name);
}
pyodide.globals.get("sys");
const script = await readFile(new URL("stdlib_uses.py", import.meta.url), "utf8");
let out = "";
pyodide.setStdout({ batched: (line) => { out += line + "\n"; } });
pyodide.runPython(`import sys\nsys.argv = ["stdlib_uses.py", *${JSON.stringify(names)}]`);
pyodide.runPython(script);
const marker = "--- standard library files in use ---\n";
const at = out.lastIndexOf(marker);
if (at < 0) throw new Error("stdlib_uses.py printed no list");
process.stdout.write(out.slice(at + marker.length));
