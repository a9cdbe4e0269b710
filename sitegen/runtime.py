"""The checker's runtime assets, made when the site is built: the checker's
wheel, the Pyodide runtime from the pinned npm package, the trimmed standard
library, the memory snapshot, their compressed copies, and the manifest the
workers read first. Page rendering lives in sitegen/__init__.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from tooling.matrix import write_text_if_changed

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
RUNTIME = REPO / "node_modules" / "pyodide"
GZIPPED_RUNTIME_FILES = ("pyodide.asm.mjs", "pyodide.asm.wasm")
SNAPSHOT_CODEC = DOCS / "javascripts" / "checker-snapshot.mjs"
RUNTIME_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")


def copy_if_changed(src: Path, dst: Path) -> bool:
    """Copy unless dst is already this copy (same size and time stamp: the
    runtime files are large, and reading them on every build costs time)."""
    a = src.stat()
    if dst.exists():
        b = dst.stat()
        if a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns:
            return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copy2(src, tmp)
    tmp.replace(dst)
    return True


def content_name(*paths: Path) -> str:
    """A folder name that changes with the files' content (16 hex digits), so a
    host can cache what it holds for a year (see sitegen.publish)."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _clear_except(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for old in folder.iterdir():
        if old.name not in keep:
            shutil.rmtree(old) if old.is_dir() else old.unlink()


def copy_runtime(docs: Path = DOCS) -> str:
    """The self-hosted Pyodide runtime, from the pinned npm package, into the
    site's assets under a content-named folder; returns that folder, relative
    to assets/ (what the manifest names as "runtime")."""
    runtime = RUNTIME
    sources = [runtime / name for name in RUNTIME_FILES]
    for src in sources:
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing; run `npm ci` (./run setup) first")
    name = content_name(*sources)
    folder = docs / "assets" / "pyodide"
    _clear_except(folder, {name})
    for src in sources:
        copy_if_changed(src, folder / name / src.name)
    # The worker downloads these gzipped and inflates them as they arrive: any
    # static host serves them, and the wasm is 3.5 MB instead of 9.6 MB. The
    # plain files stay for browsers without DecompressionStream.
    for gzipped in GZIPPED_RUNTIME_FILES:
        gzip_if_changed(runtime / gzipped, folder / name / (gzipped + ".gz"))
    return f"pyodide/{name}/"


# -- the checker wheel ---------------------------------------------------------
WHEEL_DIR = REPO / "build" / "wheel"


def _wheel_inputs_digest() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "checker").glob("*")) + [REPO / "pyproject.toml", REPO / "README.md",
                                                        REPO / "hatch_build.py"]:
        if path.is_file() and path.suffix in (".py", ".json", ".toml", ".md"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_wheel() -> Path:
    """The checker as a py3-none-any wheel, built by `python -m build`; rebuilt
    only when the package's files changed."""
    import subprocess
    import sys

    stamp = WHEEL_DIR / ".inputs"
    digest = _wheel_inputs_digest()
    wheels = sorted(WHEEL_DIR.glob("*-py3-none-any.whl"))
    if len(wheels) == 1 and stamp.exists() and stamp.read_text() == digest:
        return wheels[0]
    if WHEEL_DIR.exists():
        shutil.rmtree(WHEEL_DIR)
    # -P and a neutral cwd: the repository's own build.py must not shadow `build`.
    result = subprocess.run(
        [sys.executable, "-P", "-m", "build", "--wheel", "--no-isolation", "--outdir", str(WHEEL_DIR), str(REPO)],
        capture_output=True, text=True, cwd=tempfile.gettempdir(),
        # The browser's wheel carries no public address (see hatch_build.py), and
        # hatchling's own fixed date whoever calls (a build inside the MkDocs step
        # has SOURCE_DATE_EPOCH set, one outside it has not): the same files, the
        # same wheel.
        env={k: v for k, v in os.environ.items() if k not in ("SSS_CHECKER_SITE_URL", "SOURCE_DATE_EPOCH")},
    )
    if result.returncode != 0:
        raise RuntimeError("building the checker wheel failed:\n" + result.stdout[-2000:] + result.stderr[-2000:])
    wheels = sorted(WHEEL_DIR.glob("*-py3-none-any.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one py3-none-any wheel in {WHEEL_DIR}, found {len(wheels)}")
    stamp.write_text(digest)
    return wheels[0]


def build_snapshot(wheel: Path) -> Path:
    """A Pyodide memory snapshot with the checker's engine and organization
    check imported, in the site's packed format (see make_snapshot.mjs), with
    a gzipped copy beside it (same name + ".gz"); remade only when the wheel,
    the runtime or the format changed. The maker refuses a snapshot larger than
    the memory the runtime starts with (it could not be restored)."""
    import hashlib
    import subprocess

    maker = Path(__file__).with_name("make_snapshot.mjs")
    digest = hashlib.sha256(wheel.read_bytes())
    # The pinned package's version names the runtime: no need to hash 10 MB of wasm.
    digest.update((RUNTIME / "package.json").read_bytes())
    digest.update(maker.read_bytes() + SNAPSHOT_CODEC.read_bytes())
    out = WHEEL_DIR / "snapshot.ssz"
    stamp = WHEEL_DIR / ".snapshot-inputs"
    if out.exists() and out.with_name(out.name + ".gz").exists() and out.with_name("snapshot.json").exists() \
            and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return out
    result = subprocess.run(["node", str(maker), str(wheel), str(out)], capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        raise RuntimeError("making the Pyodide snapshot failed:\n" + result.stderr[-2000:])
    # What the maker zeroed (free memory, the stack below its pointer), kept
    # beside the snapshot for the manifest; a runtime whose allocator it could
    # not walk gives a larger snapshot, said here rather than found later.
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    cleared = summary.get("cleared", {})
    if cleared.get("kept"):
        print(f"snapshot: free memory not cleared ({cleared['kept']}): "
              f"{summary['packed']:,} bytes to download and restore instead of fewer", file=sys.stderr)
    write_text_if_changed(out.with_name("snapshot.json"),
                          json.dumps({"bytes": summary["bytes"], "heap_offset": summary["bytes"] - summary["memory"],
                                      "cleared": cleared}, sort_keys=True) + "\n")
    # The same bytes the site's precompression would write beside it (sitegen.publish).
    import gzip

    gz = out.with_name(out.name + ".gz")
    gz.with_name(gz.name + ".tmp").write_bytes(gzip.compress(out.read_bytes(), compresslevel=9, mtime=0))
    gz.with_name(gz.name + ".tmp").replace(gz)
    stamp.write_text(digest.hexdigest())
    return out


# Organization exports the standard library's trimming runs the organization
# check on (the shapes the page and the CLI read).
STDLIB_EXPORTS = ("profiles.json", "mailboxes-page1.json", "mailboxes-page2.json", "broken-mailboxes.json", "tracelogs.json")


def build_stdlib(wheel: Path) -> Path:
    """Pyodide's standard library zip with only the files the checker page, the
    organization page and the CLI import (found by running them: see
    make_stdlib.mjs and stdlib_uses.py), and the folders above them, compiled
    by the runtime itself (.pyc, unchecked hash-based). Entries keep the
    original's order and time stamps, so the same inputs give the same zip. Remade only when the wheel, the runtime or the tools changed."""
    import hashlib
    import subprocess

    maker = Path(__file__).with_name("make_stdlib.mjs")
    driver = Path(__file__).with_name("stdlib_uses.py")
    exports = [REPO / "tests" / "fixtures" / "org" / name for name in STDLIB_EXPORTS]
    missing = [str(path.relative_to(REPO)) for path in exports if not path.is_file()]
    if missing:  # without them the organization page's imports go unseen: a page that breaks
        raise RuntimeError(f"finding the standard library the checker uses needs the sample exports "
                           f"{', '.join(missing)}, which are missing")
    digest = hashlib.sha256(wheel.read_bytes())
    for path in [RUNTIME / "package.json", maker, driver, Path(__file__), *exports]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    out = WHEEL_DIR / "stdlib.zip"
    stamp = WHEEL_DIR / ".stdlib-inputs"
    if out.exists() and out.with_name(out.name + ".gz").exists() and stamp.exists() \
            and stamp.read_text() == digest.hexdigest():
        return out
    compiled = out.with_name("stdlib-compiled.zip")
    result = subprocess.run(["node", str(maker), str(wheel), str(compiled), *map(str, exports)],
                            capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        # Node quotes the minified runtime's source line first; the error and the
        # Python traceback are the short lines.
        said = [line for line in result.stderr.splitlines() if line.strip() and len(line) < 300]
        raise RuntimeError("finding the standard library the checker uses failed:\n" + "\n".join(said[-25:]))
    used = {line.strip() for line in result.stdout.splitlines() if line.strip()}
    if not used:
        raise RuntimeError("finding the standard library the checker uses failed: no files listed")
    keep = set(used)
    for name in used:
        parts = name.split("/")[:-1]
        keep.update("/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1))
    # Entries are stored, not deflated: a host that compresses sends the whole
    # zip brotli- or gzip-encoded, which beats deflating each file alone;
    # stdlib.zip.gz beside it is for hosts that do not (the worker inflates it).
    import gzip

    tmp = out.with_name(out.name + ".tmp")
    # Compiled (.pyc) rather than sources: Python imports them without compiling.
    with zipfile.ZipFile(RUNTIME / "python_stdlib.zip") as full, zipfile.ZipFile(compiled) as pycs, \
            zipfile.ZipFile(tmp, "w") as trimmed:
        missing = used - set(full.namelist())
        if missing:
            raise RuntimeError(f"standard library files not in the runtime's zip: {sorted(missing)[:5]}")
        for info in full.infolist():
            if info.filename.endswith("/") and info.filename in keep:
                trimmed.writestr(info, b"", compress_type=zipfile.ZIP_STORED)
            elif info.filename in used:
                pyc = pycs.getinfo(info.filename + "c")
                trimmed.writestr(pyc, pycs.read(pyc), compress_type=zipfile.ZIP_STORED)
        # and the checker, compiled, with its rules (make_stdlib.mjs)
        package = [info for info in pycs.infolist() if info.filename.startswith("checker/")]
        if not any(info.filename == "checker/engine.pyc" for info in package):
            raise RuntimeError("finding the standard library the checker uses failed: the checker was not compiled")
        trimmed.writestr(zipfile.ZipInfo("checker/", (2020, 2, 2, 0, 0, 0)), b"", compress_type=zipfile.ZIP_STORED)
        for info in package:
            trimmed.writestr(info, pycs.read(info), compress_type=zipfile.ZIP_STORED)
    compiled.unlink()
    gz = out.with_name(out.name + ".gz")
    gz.with_name(gz.name + ".tmp").write_bytes(gzip.compress(tmp.read_bytes(), compresslevel=9, mtime=0))
    gz.with_name(gz.name + ".tmp").replace(gz)
    tmp.replace(out)
    stamp.write_text(digest.hexdigest())
    return out


def gzip_if_changed(src: Path, dst: Path) -> bool:
    """dst = src gzipped (level 9, no time stamp inside, so the same input gives
    the same bytes); redone only when src's size or time stamp changed."""
    import gzip

    a = src.stat()
    stamp = REPO / "build" / "gzip-stamps" / (dst.name + ".from")
    key = f"{a.st_size} {a.st_mtime_ns}"
    if dst.exists() and stamp.exists() and stamp.read_text() == key:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp")
    tmp.write_bytes(gzip.compress(src.read_bytes(), compresslevel=9, mtime=0))
    tmp.replace(dst)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key)
    return True


def runtime_manifest(docs: Path, folder: str) -> dict:
    """What the workers need to know of the runtime: file names (relative to
    assets/), bytes on the wire per encoding (to judge the line and show
    progress) and the uncompressed module size (a truncated download is
    refused), and the lock file's `info` (the checker installs no packages, so
    the worker hands Pyodide an empty lock instead of fetching 119 KB).

    "wasm_plain" is the module as it is: the worker compiles it as it streams
    in from this content-named address, which lets the browser cache the
    compiled code. A host that compresses sends it brotli- or gzip-encoded;
    "wasm" (gzipped, inflated by the worker) is for hosts that do not."""
    files = {"wasm": folder + "pyodide.asm.wasm.gz", "module": folder + "pyodide.asm.mjs.gz",
             "stdlib": folder + "python_stdlib.zip"}
    lock = json.loads((RUNTIME / "pyodide-lock.json").read_text(encoding="utf-8"))
    return {
        **files,
        "wasm_plain": folder + "pyodide.asm.wasm",
        "bytes": {name: (docs / "assets" / path).stat().st_size for name, path in files.items()},
        "wasm_size": (RUNTIME / "pyodide.asm.wasm").stat().st_size,
        "lock_info": lock["info"],
    }


def place_checker_assets(docs: Path = DOCS) -> Path:
    """The wheel, its snapshot (packed, and gzipped beside it), the trimmed
    standard library, a manifest naming them, and the Pyodide runtime, under
    docs/assets/. The wheel, the snapshot, the standard library and the runtime
    live in folders named after their content; the manifest (which the workers
    read first) and the rules keep their names and are revalidated."""
    import hashlib

    wheel = build_wheel()
    snapshot = build_snapshot(wheel)
    snapshot_gz = snapshot.with_name(snapshot.name + ".gz")
    stdlib = build_stdlib(wheel)
    target = docs / "assets" / "checker"
    placed = {path: f"{content_name(path)}/{path.name}" for path in (wheel, snapshot, stdlib)}
    placed[snapshot_gz] = placed[snapshot] + ".gz"
    placed[stdlib.with_name(stdlib.name + ".gz")] = placed[stdlib] + ".gz"
    _clear_except(target, {rel.split("/")[0] for rel in placed.values()} | {"manifest.json", "rules.json"})
    for src, rel in placed.items():
        copy_if_changed(src, target / rel)
    runtime = copy_runtime(docs)
    rules = (target / "rules.json").read_bytes() if (target / "rules.json").exists() else b""
    with zipfile.ZipFile(wheel) as archive:
        packed_rules = archive.read("checker/rules.json")
    manifest = {
        "wheel": placed[wheel], "rules": "rules.json", "runtime": runtime,
        # The packed snapshot; "snapshot" + ".gz" beside it for hosts that do not compress.
        "snapshot": placed[snapshot], "snapshot_gz": placed[snapshot_gz],
        "snapshot_bytes": snapshot_gz.stat().st_size, "snapshot_size": snapshot.stat().st_size,
        # Bytes of the snapshot's memory zeroed before packing: {"free", "stack"}, or "kept" and why not;
        # and its length unpacked (the runtime starts before it arrives).
        "snapshot_cleared": json.loads(snapshot.with_name("snapshot.json").read_text())["cleared"],
        "snapshot_total": json.loads(snapshot.with_name("snapshot.json").read_text())["bytes"],
        "snapshot_heap_offset": json.loads(snapshot.with_name("snapshot.json").read_text())["heap_offset"],
        "stdlib": placed[stdlib], "stdlib_size": stdlib.stat().st_size,
        "stdlib_bytes": stdlib.with_name(stdlib.name + ".gz").stat().st_size,
        "wheel_bytes": wheel.stat().st_size,
        # The snapshot carries the wheel's rules: when they are the served
        # ones the worker need not fetch and load rules.json.
        "rules_sha256": hashlib.sha256(rules).hexdigest(),
        "snapshot_rules_sha256": hashlib.sha256(packed_rules).hexdigest(),
        "runtime_files": runtime_manifest(docs, runtime),
    }
    write_text_if_changed(target / "manifest.json", json.dumps(manifest, sort_keys=True) + "\n")
    return wheel
