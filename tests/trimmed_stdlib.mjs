// The built site's trimmed standard library in use, in Pyodide under Node.js:
// Python starts from that zip alone (the whole one is nowhere to be found),
// the checker comes from that zip too (compiled), and the checker, the
// organization check and the CLI run as the pages and a terminal run them.
//
//   node tests/trimmed_stdlib.mjs SITE_DIR JOBS_JSON
//
// JOBS_JSON: {"requests": [evaluate_json request, ...],
//             "org": [{"lang", "files": [[name, text], ...]}, ...],
//             "cli": [{"argv": [...], "files": {path: text}}, ...]}
// Prints one JSON object: {responses, org, cli: [{code, stdout, stderr}],
// absent: whether a module outside the trimmed zip fails to import,
// checker_file: where checker.engine came from}. Exits 1
// if Python cannot start from the trimmed zip: there is no fallback here.
import { mkdtemp, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [siteDir, jobsPath] = process.argv.slice(2);
globalThis.fetch = (resource) => { throw new Error(`no network (fetch ${resource})`); };
const site = (path) => join(siteDir, path);
const manifest = JSON.parse(await readFile(site("assets/checker/manifest.json"), "utf8"));
const jobs = JSON.parse(await readFile(jobsPath, "utf8"));
const index = await mkdtemp(join(tmpdir(), "sss-stdlib-"));
try {
  for (const name of ["pyodide.asm.wasm", "pyodide.asm.mjs", "pyodide.mjs"]) {
    await copyFile(site("assets/" + manifest.runtime + name), join(index, name));
  }
  // Where Pyodide looks for its standard library: the trimmed one.
  await copyFile(site("assets/checker/" + manifest.stdlib), join(index, "python_stdlib.zip"));
  const { loadPyodide } = await import(pathToFileURL(join(index, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL: index + "/",
    packages: [],
    lockFileContents: { info: manifest.runtime_files.lock_info, packages: {} },
  });
  // The zip holds the checker too, as the plain start uses it: no wheel.
  const checkerFile = pyodide.runPython("import checker.engine\nchecker.engine.__file__");
  const engine = pyodide.pyimport("checker.engine");
  const responses = jobs.requests.map((r) => engine.evaluate_json(r));
  const orgmap = pyodide.pyimport("checker.orgmap");
  const org = jobs.org.map(({ lang, files }) => {
    orgmap.start(JSON.stringify({ lang }));
    for (const [name, text] of files) orgmap.add_file(name, text);
    return { report: orgmap.finish(), json: orgmap.export("json"), csv: orgmap.export("csv") };
  });
  pyodide.globals.set("_cli_jobs", JSON.stringify(jobs.cli));
  const cli = pyodide.runPython(`
import contextlib, io, json, os
from checker import cli
results = []
for job in json.loads(_cli_jobs):
    for path, text in job["files"].items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(job["argv"])
        except SystemExit as exc:
            code = exc.code
    results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
json.dumps(results)
`);
  const absent = pyodide.runPython(`
try:
    import sqlite3
    absent = False
except ImportError:
    absent = True
absent`);
  console.log(JSON.stringify({ responses, org, cli: JSON.parse(cli), absent, checker_file: checkerFile }));
} finally {
  await rm(index, { recursive: true, force: true });
}
