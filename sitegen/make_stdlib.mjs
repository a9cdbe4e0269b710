// Build-time: which files of Pyodide's standard library zip the checker uses.
// Starts Pyodide under Node.js with the whole standard library, installs the
// checker's wheel, runs sitegen/stdlib_uses.py (every path of the checker
// page, the organization page and the CLI) and prints those files, one a line.
// sitegen/runtime.py makes the trimmed zip from them.
//
//   node sitegen/make_stdlib.mjs WHEEL OUT_ZIP [EXPORT.json ...]
//
// OUT_ZIP gets those files compiled by this very runtime (.pyc, unchecked
// hash-based, so they never look at a source), for a start that compiles no
// Python; the list still goes to standard output.
import { readFile } from "node:fs/promises";

import { writeFile } from "node:fs/promises";

const [wheelPath, outZip, ...exports] = process.argv.slice(2);
if (!wheelPath || !outZip) {
  console.error("usage: node sitegen/make_stdlib.mjs WHEEL OUT_ZIP [EXPORT.json ...]");
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
const script = await readFile(new URL("stdlib_uses.py", import.meta.url), "utf8");
let out = "";
pyodide.setStdout({ batched: (line) => { out += line + "\n"; } });
pyodide.runPython(`import sys\nsys.argv = ["stdlib_uses.py", *${JSON.stringify(names)}]`);
pyodide.runPython(script);
const marker = "--- standard library files in use ---\n";
const at = out.lastIndexOf(marker);
if (at < 0) throw new Error("stdlib_uses.py printed no list");
const used = out.slice(at + marker.length);
pyodide.globals.set("_used", used);
pyodide.runPython(`
import importlib._bootstrap_external as bx, importlib.util, sys, zipfile
source_zip = next(p for p in sys.path if p.endswith(".zip"))
with zipfile.ZipFile(source_zip) as full, zipfile.ZipFile("/tmp/compiled.zip", "w") as out:
    for name in [n for n in _used.splitlines() if n.strip()]:
        source = full.read(name)
        code = compile(source, source_zip + "/" + name, "exec", dont_inherit=True, optimize=2)
        info = zipfile.ZipInfo(name + "c", full.getinfo(name).date_time)
        out.writestr(info, bytes(bx._code_to_hash_pyc(code, importlib.util.source_hash(source), False)))
    # The checker itself, compiled the same way (docstrings and all: its help
    # texts stay), with its data files, from the wheel installed above: the
    # plain start then needs neither the wheel nor a compile.
    import checker, os
    package = os.path.dirname(checker.__file__)
    for name in sorted(os.listdir(package)):
        path = os.path.join(package, name)
        if not os.path.isfile(path):
            continue
        data = open(path, "rb").read()
        info = zipfile.ZipInfo("checker/" + name + ("c" if name.endswith(".py") else ""), (2020, 2, 2, 0, 0, 0))
        if name.endswith(".py"):
            code = compile(data, source_zip + "/checker/" + name, "exec", dont_inherit=True)
            data = bytes(bx._code_to_hash_pyc(code, importlib.util.source_hash(data), False))
        elif name.endswith(".pyc"):
            continue
        out.writestr(info, data)
`);
await writeFile(outZip, pyodide.FS.readFile("/tmp/compiled.zip"));
process.stdout.write(used);
