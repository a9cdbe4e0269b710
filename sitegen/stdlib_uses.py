"""Run inside Pyodide by sitegen/make_stdlib.mjs (not imported by the build):
every path the browser and the CLI take through the checker, so that the
standard library modules they import are loaded; then print those modules'
files in the standard library zip, one per line after a marker line.

Files named on the command line (sys.argv[1:]) are organization exports to
read, as the organization page and `python -m checker org` read them.
"""

import io
import json
import sys
import contextlib

import checker.engine as engine
import checker.orgmap as orgmap
from checker import cli

ZIP = next(p for p in sys.path if p.endswith(".zip"))
files = sys.argv[1:]
matrix = engine.load_matrix()
fields = json.loads(engine.evaluate_json(json.dumps({"config": {}, "lang": "en"})))
compiled = json.loads(open(engine.__file__.replace("engine.py", "rules.json"), encoding="utf-8").read())

# The checker page: every value of every field, both languages, and bad requests.
for lang in compiled["languages"]:
    for field in compiled["fields"]:
        for value in field["values"]:
            config = {"deployment": "online", "email_system": "gmail", field["id"]: [value] if field["type"] == "multi" else value}
            engine.evaluate_json(json.dumps({"config": config, "lang": lang}))
    for bad in ("", "[", "{}", '{"config": 1}', '{"config": {"deployment": "moon"}, "lang": "xx"}', "[" * 5000):
        engine.evaluate_json(bad)

# The organization page and `python -m checker org`.
texts = [(name, open(name, encoding="utf-8").read()) for name in files]
for lang in compiled["languages"]:
    orgmap.start(json.dumps({"lang": lang}))
    for name, text in texts:
        orgmap.add_file(name, text)
    # The page hands the chosen files over as bytes, decoded as the command line
    # decodes them: every encoding the reader accepts (each needs its own codec).
    for name, text in texts[:1]:
        for codec in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"):
            orgmap.add_file_bytes(f"{name}.{codec}", text.encode(codec))
    result = json.loads(orgmap.finish())
    orgmap.finish(json.dumps({"answers": {}}))
    for group in range(len(result.get("groups", []))):
        orgmap.rows(group, 50)
    orgmap.export("json")
    orgmap.export("csv")

# The CLI, each command and format that needs no matrix sources.
open("/tmp/config.json", "w").write(json.dumps({"deployment": "online", "email_system": "gmail"}))
open("/tmp/config.yaml", "w").write("deployment: online\nemail_system: gmail\nsync: [email]\n")
open("/tmp/bad.json", "w").write("{")
runs = [["check", "/tmp/config.json"], ["check", "--format", "json", "--lang", "en", "/tmp/config.yaml"],
        ["check", "/tmp/bad.json"], ["check", "/tmp/missing.json"], ["check", "--help"], ["--help"],
        ["org", *files], ["org", "--format", "csv", "--lang", "en", *files], ["org", "--format", "json", *files],
        ["org", "/tmp/bad.json"]]
for argv in runs:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(argv)
        except SystemExit:
            pass

used = set()
for module in list(sys.modules.values()):
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or ""
    if origin.startswith(ZIP + "/"):
        used.add(origin[len(ZIP) + 1:])
print("--- standard library files in use ---")
print("\n".join(sorted(used)))
