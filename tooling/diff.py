"""What a change to the matrix does to its users: a semantic diff of two versions.

Each version is a matrix folder or a git revision of ``matrix/``. The diff reports
the entries added, removed and changed (field by field, rules by rule id), the
questions, sources, facts, pages, strings and changelog that differ, and above all
the verdicts that change: over a generated set of configurations (every deployment
and email system, alone, with one optional field stated, and with two), each one
whose status differs between the versions. One line stands for all the
configurations its change explains, so that "Exchange Server 2010 SP3, online:
supported → unsupported" is said once, not once per variant.

Maintainer tooling, like ``matrix.py``: it needs the checkout and its tools.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import combinations, product
from pathlib import Path

from . import matrix as tooling
from checker.engine import ConfigError, Matrix, load_matrix
from checker.inputs import printable

__all__ = [
    "Change",
    "Diff",
    "DiffError",
    "VerdictLine",
    "Version",
    "diff",
    "load_version",
    "render_condition",
    "render_text",
    "to_json",
    "working_tree",
]

# The fields every configuration states; the engine specializes its rules on them.
PAIR = ("deployment", "email_system")
STATUS_ORDER = {"supported": 0, "limited": 1, "unknown": 2, "unsupported": 3, None: 4}


# -- the two versions ------------------------------------------------------------
class DiffError(Exception):
    """A version that cannot be read. The message names it; `issues` holds the
    validation problems when the matrix itself is not valid."""

    def __init__(self, message: str, issues=()):
        super().__init__(message)
        self.message = message
        self.issues = list(issues)


@dataclass
class Version:
    name: str
    loaded: tooling.Loaded
    matrix: Matrix


def working_tree(repo: Path | None = None) -> Version:
    """The matrix/ folder of a checkout as it is on disk (this one by default)."""
    root = Path(repo or tooling.REPO) / "matrix"
    return _load(root, "working tree")


def load_version(spec: str, repo: Path | None = None) -> Version:
    """A folder (a matrix folder, or a folder holding ``matrix/``), else a git
    revision of ``matrix/`` in `repo` (this checkout by default)."""
    path = Path(spec)
    if spec and path.is_dir():
        if not (path / "schema.json").exists() and (path / "matrix").is_dir():
            path = path / "matrix"
        return _load(path, spec)
    with tempfile.TemporaryDirectory(prefix="matrix-diff-") as tmp:
        root, name = _from_git(spec, Path(repo or tooling.REPO), Path(tmp))
        return _load(root, name)


def _load(root: Path, name: str) -> Version:
    try:
        # Any version may be older than the checkout that reads it.
        loaded = tooling.load(root, older=True)
    except tooling.MatrixInvalid as exc:
        raise DiffError(f"{name}: {len(exc.issues)} problem(s) in the matrix", exc.issues) from None
    return Version(name, loaded, Matrix(tooling.compile_rules(loaded)))


# Git reads revisions here as plain objects: no checkout, no archive, so no
# smudge or textconv filter, no hook and no fsmonitor a repository configures
# ever runs, and a revision is never read as an option (--end-of-options).
_GIT_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "--no-pager")
MAX_BLOB = 8 * 1024 * 1024


def _git(repo, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *_GIT_SAFE, "-C", str(repo), *args], capture_output=True, timeout=60,
                          input=stdin)


def _from_git(rev: str, repo: Path, tmp: Path) -> tuple[Path, str]:
    """Write the files of ``REV:matrix`` into `tmp` from git's object store;
    every way it can fail names the revision."""
    shown = printable(rev)
    if not rev or rev.startswith("-"):
        raise DiffError(f"{rev!r}: not a folder, nor a git revision")
    try:
        top = _git(repo, "rev-parse", "--show-toplevel")
    except OSError as exc:
        raise DiffError(f"{shown}: no such folder, and git is not available to read it as a revision ({exc.strerror})") from None
    if top.returncode != 0:
        raise DiffError(f"{shown}: no such folder, and {printable(str(repo))} is not a git repository to read a revision from")
    top = top.stdout.decode().strip()
    commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if commit.returncode != 0:
        raise DiffError(f"{shown}: no such folder, nor a revision of the git repository {printable(top)}")
    sha = commit.stdout.decode().strip()
    entry = _git(top, "ls-tree", "-z", "--full-tree", sha, "--", "matrix")
    mode = entry.stdout.split(b" ", 1)[0] if entry.returncode == 0 and entry.stdout else b""
    if mode == b"120000":
        raise DiffError(f"{shown}: matrix/ is a symbolic link in this revision; refused (the matrix is read only from matrix/ itself)")
    if mode != b"040000":
        raise DiffError(f"{shown}: this revision has no matrix/ folder")
    listing = _git(top, "ls-tree", "-z", "-l", "--full-tree", f"{sha}:matrix")
    if listing.returncode != 0:
        raise DiffError(f"{shown}: cannot list matrix/ in git: {printable(listing.stderr.decode(errors='replace').strip())}")
    blobs = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_name = record.partition(b"\t")
        mode, kind, obj, size = meta.split()
        name = raw_name.decode("utf-8", errors="replace")
        if kind != b"blob" or not (name.endswith(".yaml") or name == "schema.json"):
            continue  # sub-folders and other files are not part of the matrix
        if mode == b"120000":
            raise DiffError(f"{shown}: matrix/{printable(name)} is a symbolic link in this revision; refused "
                            "(matrix files are plain files inside matrix/)")
        if "/" in name or name in (".", ".."):
            raise DiffError(f"{shown}: matrix/{printable(name)}: not a plain file name; refused")
        if int(size) > MAX_BLOB:
            raise DiffError(f"{shown}: matrix/{printable(name)} is larger than {MAX_BLOB // (1024 * 1024)} MB; refused")
        blobs.append((name, obj.decode()))
    root = tmp / "matrix"
    root.mkdir()
    for name, content in _read_blobs(top, blobs, shown):
        (root / name).write_bytes(content)
    short = sha[:7]
    return root, rev if rev.startswith(short) else f"{rev} ({short})"


def _read_blobs(top: str, blobs: list[tuple[str, str]], shown: str):
    """The content of each blob, read with one ``git cat-file --batch`` (raw
    objects: no filter applies)."""
    if not blobs:
        return []
    result = _git(top, "cat-file", "--batch", stdin="".join(f"{obj}\n" for _, obj in blobs).encode())
    if result.returncode != 0:
        raise DiffError(f"{shown}: cannot read matrix/ from git: {printable(result.stderr.decode(errors='replace').strip())}")
    out, pos, files = result.stdout, 0, []
    for name, obj in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        if len(header) != 3 or header[1] != b"blob":
            raise DiffError(f"{shown}: cannot read matrix/{printable(name)} from git")
        size = int(header[2])
        files.append((name, out[end + 1:end + 1 + size]))
        pos = end + 1 + size + 1
    return files


# -- structural changes ----------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One difference at `path` (``row.email_systems``, ``rules[xt-limited].severity``).

    kind: ``value`` (old → new), ``items`` (a list gained `added`, lost `removed`),
    ``order`` (same items, new order), ``text`` (the texts in `languages` differ),
    ``added`` (`new` appeared), ``removed`` (`old` went away).
    """

    path: str
    kind: str
    old: object = None
    new: object = None
    added: tuple = ()
    removed: tuple = ()
    languages: tuple = ()

    def to_dict(self) -> dict:
        out = {"path": self.path, "kind": self.kind}
        if self.kind == "items":
            out.update(added=list(self.added), removed=list(self.removed))
        elif self.kind == "text":
            out.update(languages=list(self.languages), old=self.old, new=self.new)
        elif self.kind == "added":
            out["new"] = self.new
        elif self.kind == "removed":
            out["old"] = self.old
        else:
            out.update(old=self.old, new=self.new)
        return out


# Conditions are compared as a whole and shown side by side: a path inside one
# (``when.all[2].any[0]``) would say less than the two conditions do.
WHOLE = ("when", "show_when")


def compare(old, new, path: str, langs: tuple[str, ...]) -> list[Change]:
    if _same(old, new):
        return []
    if path.rsplit(".", 1)[-1] in WHOLE:
        return [Change(path, "value", old, new)]
    if _is_text(old, langs) and _is_text(new, langs):
        changed = tuple(lang for lang in langs if old.get(lang) != new.get(lang))
        return [Change(path, "text", old, new, languages=changed)]
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(sub, "removed", old=old[key]))
            elif key not in old:
                out.append(Change(sub, "added", new=new[key]))
            else:
                out.extend(compare(old[key], new[key], sub, langs))
        return out
    if isinstance(old, list) and isinstance(new, list):
        key = _list_key(old + new)
        if key:
            return _compare_keyed(old, new, path, key, langs)
        if all(_scalar(v) for v in old + new):
            added = tuple(v for v in new if not any(_same(v, o) for o in old))
            removed = tuple(v for v in old if not any(_same(v, n) for n in new))
            if added or removed:
                return [Change(path, "items", added=added, removed=removed)]
            return [Change(path, "order", old, new)]
    return [Change(path, "value", old, new)]


def _compare_keyed(old: list, new: list, path: str, key: str, langs) -> list[Change]:
    before = {item[key]: item for item in old}
    after = {item[key]: item for item in new}
    out = []
    for k, v in after.items():
        if k in before:
            out.extend(compare(before[k], v, f"{path}[{k}]", langs))
        else:
            out.append(Change(f"{path}[{k}]", "added", new=v))
    out += [Change(f"{path}[{k}]", "removed", old=v) for k, v in before.items() if k not in after]
    kept_before = [k for k in before if k in after]
    kept_after = [k for k in after if k in before]
    if kept_before != kept_after:
        out.append(Change(path, "order", kept_before, kept_after))
    return out


def _same(a, b) -> bool:
    # JSON equality tells True from 1 and ignores the order of mapping keys.
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _is_text(value, langs) -> bool:
    return (isinstance(value, dict) and bool(value) and set(value) <= set(langs)
            and all(isinstance(v, str) for v in value.values()))


def _scalar(value) -> bool:
    return isinstance(value, (str, bool, int, float)) or value is None


def _list_key(items: list) -> str | None:
    for key in ("id", "date"):
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            return key
    return None


@dataclass
class Keyed:
    """Members of a list keyed by id: added and removed (id, item), changed (id, changes)."""

    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _keyed(old: list, new: list, key: str, langs, strip=()) -> Keyed:
    def clean(item):
        return {k: v for k, v in item.items() if k not in strip}

    before = {i[key]: i for i in old}
    after = {i[key]: i for i in new}
    out = Keyed()
    out.added = [(k, v) for k, v in after.items() if k not in before]
    out.removed = [(k, v) for k, v in before.items() if k not in after]
    for k, v in after.items():
        if k in before:
            changes = compare(clean(before[k]), clean(v), "", langs)
            if changes:
                out.changed.append((k, changes))
    return out


@dataclass(frozen=True)
class EntryRef:
    id: str
    page: str
    section: str
    title: dict


def _entries(loaded: tooling.Loaded) -> dict[str, tuple[EntryRef, dict]]:
    return {e["id"]: (EntryRef(e["id"], p["page"]["id"], s["id"], e["title"]), e)
            for p, s, e in tooling.iter_entries(loaded)}


# -- verdicts ------------------------------------------------------------------------
@dataclass
class VerdictLine:
    """Configurations whose status went from `old` to `new`, summed up by `config`:
    a deployment and email system with up to two fields stated, or, without them,
    those fields stated on any setup. `old`/`new` is None where a version has no
    such deployment or email system. `configs` counts the configurations it stands for."""

    config: dict
    old: str | None
    new: str | None
    configs: int = 0


class _Verdicts:
    """The configuration set, both versions' answers on it, and the summary lines."""

    def __init__(self, old: Matrix, new: Matrix):
        self.old, self.new = old, new
        self.fields = _union_fields(old, new)
        self.pairs = list(product(self.fields["deployment"]["values"], self.fields["email_system"]["values"]))
        self.assigns = [(name, value) for name, spec in self.fields.items() if name not in PAIR
                        for value in spec["variants"]]
        self.keys = []
        for p in range(len(self.pairs)):
            self.keys.append((p, ()))
            self.keys.extend((p, (i,)) for i in range(len(self.assigns)))
            self.keys.extend((p, (i, j)) for i, j in combinations(range(len(self.assigns)), 2)
                             if self.assigns[i][0] != self.assigns[j][0])
        self.res_old = self._answers(old)
        self.res_new = self._answers(new)
        self.changed = {k for k in self.keys if self.res_old[k][0] != self.res_new[k][0]}

    def config(self, key) -> dict:
        p, extras = key
        out = {} if p is None else dict(zip(PAIR, self.pairs[p]))
        for i in extras:
            name, value = self.assigns[i]
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def _answers(self, m: Matrix) -> dict:
        """Each configuration's status in version `m`, and the deciding rules (rule id,
        severity). A field or value `m` does not know is left out: its users could not
        state it, so they got the answer for the rest. A deployment or email system it
        does not know gets no answer (None)."""
        pairs = [{n: _known(m, n, v) for n, v in zip(PAIR, pair)} for pair in self.pairs]
        assigns = [(name, _known(m, name, value)) for name, value in self.assigns]
        out = {}
        for key in self.keys:
            p, extras = key
            config = dict(pairs[p])
            if _UNKNOWN in config.values():
                out[key] = _NO_ANSWER
                continue
            for i in extras:
                name, value = assigns[i]
                if value is not _UNKNOWN:
                    config[name] = value
            try:
                verdict = m.evaluate(config, open_questions=False)
            except ConfigError:
                out[key] = _NO_ANSWER
                continue
            out[key] = (verdict.status,
                        frozenset((f.rule, f.severity) for f in verdict.findings if f.severity != "info"))
        return out

    def move(self, key) -> tuple:
        return self.res_old[key][0], self.res_new[key][0]

    def explains(self, s, c) -> bool:
        """Is c's change already told by s, a smaller configuration of the same pair?
        Yes when s made the same move, when s names a value one version lacks, or when
        what c adds to s fires the same rules in both versions (so only s's part moved)."""
        (so, so_fired), (sn, sn_fired) = self.res_old[s], self.res_new[s]
        (co, co_fired), (cn, cn_fired) = self.res_old[c], self.res_new[c]
        if so is None or sn is None:
            return True
        if co is None or cn is None:
            return False
        if (so, sn) == (co, cn):
            return True
        return (co_fired - so_fired, so_fired - co_fired) == (cn_fired - sn_fired, sn_fired - cn_fired)

    def lines(self) -> list[VerdictLine]:
        lines: dict[tuple, VerdictLine] = {}
        owner: dict[tuple, tuple] = {}   # changed configuration -> the pattern of its line

        def attach(key, pattern):
            owner[key] = pattern
            if pattern not in lines:
                lines[pattern] = VerdictLine(self.config(pattern[0]), *self.move(key))
            lines[pattern].configs += 1

        by_level = {0: [], 1: [], 2: []}
        for key in self.keys:
            if key in self.changed:
                by_level[len(key[1])].append(key)
        for key in by_level[0]:
            attach(key, (key, self.move(key)))
        general: dict[tuple, tuple] = {}   # (extras, move) -> pattern of a line for any setup
        for level in (1, 2):
            alone = []
            for key in by_level[level]:
                p, extras = key
                subsets = [(p, sub) for n in range(level) for sub in combinations(extras, n)]
                subsets = [s for s in subsets if s in self.changed]
                move = self.move(key)
                target = next((owner[s] for s in subsets if self.move(s) == move), None)
                if target is None:
                    target = next((general[(sub, move)] for n in range(1, level)
                                   for sub in combinations(extras, n) if (sub, move) in general), None)
                if target is None:
                    target = next((owner[s] for s in subsets if self.explains(s, key)), None)
                if target is None:
                    alone.append(key)
                else:
                    attach(key, target)
            # the same move for the same stated fields on several setups, where every
            # configuration stating them that had the old status now has the new one:
            # one line for any setup
            groups: dict[tuple, list] = {}
            for key in alone:
                groups.setdefault((key[1], self.move(key)), []).append(key)
            for (extras, move), keys in groups.items():
                if len({k[0] for k in keys}) > 1 and self.universal(extras, move):
                    pattern = general[(extras, move)] = ((None, extras), move)
                    for key in keys:
                        attach(key, pattern)
                else:
                    for key in keys:
                        attach(key, (key, move))
        return [lines[p] for p in sorted(lines, key=self._order)]

    def universal(self, extras: tuple, move: tuple) -> bool:
        """Does every configuration that states `extras` and had the old status now
        have the new one?"""
        old, new = move
        wanted = set(extras)
        for key in self.keys:
            if wanted <= set(key[1]) and self.res_old[key][0] == old and self.res_new[key][0] != new:
                return False
        return True

    def _order(self, pattern):
        # by email system, then deployment, in the questions' order; any-setup lines last
        (p, extras), (old, new) = pattern
        if p is None:
            where = (1, 0, 0)
        else:
            deployment, system = self.pairs[p]
            where = (0, self.fields["email_system"]["values"].index(system),
                     self.fields["deployment"]["values"].index(deployment))
        return (*where, len(extras), extras, STATUS_ORDER[old], STATUS_ORDER[new])


def _union_fields(old: Matrix, new: Matrix) -> dict:
    """Every field of either version (the newer's order first), with its values and
    the values a configuration states it with (a list field: each item alone, and all)."""
    out = {}
    for m in (new, old):
        for name, spec in m.fields.items():
            ids = [v["id"] for v in spec["values"]]
            entry = out.setdefault(name, {"type": spec["type"], "values": [], "default": spec.get("default")})
            entry["values"].extend(i for i in ids if i not in entry["values"])
    for name, entry in out.items():
        ids = entry["values"]
        if entry["type"] == "boolean":
            entry["variants"] = [True, False]
        elif entry["type"] == "multi":
            lists = [(i,) for i in ids] + ([tuple(ids)] if len(ids) > 1 else [])
            default = tuple(entry["default"] or ())
            entry["variants"] = [v for v in lists if v != default]
        else:
            entry["variants"] = list(ids)
    return out


_UNKNOWN = object()
_NO_ANSWER = (None, frozenset())


def _known(m: Matrix, name: str, value):
    """The value as version `m` can take it, or _UNKNOWN (a field or value it lacks)."""
    spec = m.fields.get(name)
    if spec is None:
        return _UNKNOWN
    allowed = {v["id"] for v in spec["values"]}
    if spec["type"] == "boolean":
        return value if isinstance(value, bool) else _UNKNOWN
    if spec["type"] == "multi":
        kept = [v for v in value if v in allowed] if isinstance(value, (list, tuple)) else []
        return kept or _UNKNOWN
    return value if isinstance(value, str) and value in allowed else _UNKNOWN


# -- the whole diff ----------------------------------------------------------------
@dataclass
class Diff:
    old: Version
    new: Version
    languages: tuple
    verdicts: list[VerdictLine]
    checked: int
    moved: int
    entries: Keyed
    entry_refs: dict
    questions: Keyed
    sources: Keyed
    pages: Keyed
    changelog: Keyed
    facts: Change | None
    strings: list[Change]

    def other_changes(self) -> list[str]:
        return [name for name in ("questions", "sources", "facts", "pages", "strings", "changelog")
                if getattr(self, name)]


def diff(old: Version, new: Version) -> Diff:
    langs = tuple(dict.fromkeys(new.loaded.languages + old.loaded.languages))
    verdicts = _Verdicts(old.matrix, new.matrix)
    old_entries, new_entries = _entries(old.loaded), _entries(new.loaded)
    entries = Keyed()
    entries.added = [(k, v[1]) for k, v in new_entries.items() if k not in old_entries]
    entries.removed = [(k, v[1]) for k, v in old_entries.items() if k not in new_entries]
    for k, (ref, entry) in new_entries.items():
        if k in old_entries:
            before_ref, before = old_entries[k]
            changes = []
            where_old, where_new = f"{before_ref.page}/{before_ref.section}", f"{ref.page}/{ref.section}"
            if where_old != where_new:
                changes.append(Change("section", "value", where_old, where_new))
            changes += compare(before, entry, "", langs)
            if changes:
                entries.changed.append((k, changes))
    refs = {k: v[0] for k, v in old_entries.items()}
    refs.update({k: v[0] for k, v in new_entries.items()})

    def pages(loaded):
        return [{"id": p["page"]["id"], **{k: v for k, v in p["page"].items() if k != "id"},
                 "sections": [{k: v for k, v in s.items() if k != "entries"} for s in p["sections"]]}
                for _doc, p in loaded.pages]

    facts = compare(old.loaded.facts, new.loaded.facts, "facts", langs)
    return Diff(
        old=old,
        new=new,
        languages=langs,
        verdicts=verdicts.lines(),
        checked=len(verdicts.keys),
        moved=len(verdicts.changed),
        entries=entries,
        entry_refs=refs,
        questions=_keyed(old.loaded.questions, new.loaded.questions, "id", langs),
        sources=_keyed(old.loaded.sources, new.loaded.sources, "id", langs),
        pages=_keyed(pages(old.loaded), pages(new.loaded), "id", langs),
        changelog=_keyed(old.loaded.changelog, new.loaded.changelog, "date", langs),
        facts=next((c for c in facts if c.kind == "items"), None),
        strings=compare(old.loaded.strings, new.loaded.strings, "", langs),
    )


# -- words ---------------------------------------------------------------------------
# The diff's own words live in matrix/strings.yaml with the other interface
# strings (keys "diff.*"); read here from the compiled rules of this checkout.
WORDS = {key[len("diff."):]: texts for key, texts in load_matrix().strings.items() if key.startswith("diff.")}


def word(key: str, lang: str, **values) -> str:
    text = WORDS[key][lang]
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


# -- output --------------------------------------------------------------------------
def _value_label(d: Diff, name: str, value, lang: str) -> str:
    """A value as the newer questions label it, else the older ones, else its id."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        key = ("true" if item else "false") if isinstance(item, bool) else str(item)
        for m in (d.new.matrix, d.old.matrix):
            spec = m.fields.get(name)
            if spec and any(v["id"] == key for v in spec["values"]):
                out.append(m.value_label(name, item, lang))
                break
        else:
            out.append(key)
    return " + ".join(out)


def _status(d: Diff, status: str | None, lang: str) -> str:
    if status is None:
        return word("no_answer", lang)
    return d.new.matrix.text("status." + status, lang)


def line_text(d: Diff, line: VerdictLine, lang: str) -> str:
    """One line in words: ``Exchange Online, Online (cloud), with tenant = Another tenant:
    Not supported → Limited support (28 configurations)``."""
    return _words(d, line.config, {}, [line.old], line.new, line.configs, lang)


def merged_lines(d: Diff, lang: str) -> list[str]:
    """The lines as people read them: lines for any setup that differ only in the old
    status, and lines of one setup that differ only in the value of their one stated
    field, are said once."""
    groups: dict[str, list[VerdictLine]] = {}
    for line in d.verdicts:
        stated = [name for name in line.config if name not in PAIR]
        if "email_system" not in line.config:
            key = ("any", json.dumps(line.config, sort_keys=True), line.new)
        elif len(stated) == 1:
            key = ("one", line.config["deployment"], line.config["email_system"], stated[0], line.old, line.new)
        else:
            key = ("line", id(line))
        groups.setdefault(json.dumps(key), []).append(line)
    out = []
    for lines in groups.values():
        first = lines[0]
        if len(lines) > 1 and "email_system" in first.config:
            name = next(n for n in first.config if n not in PAIR)
            values = {name: [line.config[name] for line in lines]}
        else:
            values = {}
        out.append(_words(d, first.config, values, [line.old for line in lines], first.new,
                          sum(line.configs for line in lines), lang))
    return out


def _words(d: Diff, config: dict, values: dict, olds: list, new, count: int, lang: str) -> str:
    def shown(name):
        options = values.get(name, [config[name]])
        return f" {word('or', lang)} ".join(_value_label(d, name, v, lang) for v in options)

    stated = [f"{name} = {shown(name)}" for name in config if name not in PAIR]
    joined = f" {word('and', lang)} ".join(stated)
    if "email_system" in config:
        head = f"{shown('email_system')}, {shown('deployment')}"
        head += f", {word('with', lang)} {joined}" if stated else ""
    else:
        head = f"{word('any', lang)} {word('with', lang)} {joined}"
    before = " / ".join(_status(d, old, lang) for old in dict.fromkeys(olds))
    many = word("configs.one", lang) if count == 1 else word("configs.many", lang, count=count)
    return f"{head}: {before} → {_status(d, new, lang)} ({many})"


def to_json(d: Diff, lang: str) -> dict:
    """The diff for scripts; the keys are documented in README.md."""

    def keyed(k: Keyed, describe) -> dict:
        return {"added": [describe(i, v) for i, v in k.added],
                "removed": [describe(i, v) for i, v in k.removed],
                "changed": [{**describe(i, None), "changes": [c.to_dict() for c in cs]} for i, cs in k.changed]}

    def entry(i, _item):
        ref = d.entry_refs[i]
        return {"id": i, "page": ref.page, "section": ref.section, "title": ref.title.get(lang)}

    return {
        "old": d.old.name,
        "new": d.new.name,
        "lang": lang,
        "summary": {
            "verdict_changes": len(d.verdicts),
            "configurations_changed": d.moved,
            "configurations_checked": d.checked,
            "entries_added": len(d.entries.added),
            "entries_removed": len(d.entries.removed),
            "entries_changed": len(d.entries.changed),
            "also_changed": d.other_changes(),
        },
        "verdicts": [{"config": v.config, "old": v.old, "new": v.new, "configs": v.configs,
                      "text": line_text(d, v, lang)} for v in d.verdicts],
        "entries": keyed(d.entries, entry),
        "questions": keyed(d.questions, lambda i, _v: {"id": i}),
        "sources": keyed(d.sources, lambda i, _v: {"id": i}),
        "pages": keyed(d.pages, lambda i, _v: {"id": i}),
        "facts": {"added": list(d.facts.added) if d.facts else [],
                  "removed": list(d.facts.removed) if d.facts else []},
        "strings": [c.to_dict() for c in d.strings],
        "changelog": keyed(d.changelog, lambda i, _v: {"date": i}),
    }


def render_text(d: Diff, lang: str, show_texts: bool = False) -> str:
    """For people: a one-line summary, the verdict changes, then what changed in the data."""
    summary = word("summary", lang, old=d.old.name, new=d.new.name, moved=d.moved,
                   checked=d.checked, added=len(d.entries.added), removed=len(d.entries.removed),
                   changed=len(d.entries.changed))
    if d.other_changes():
        summary += word("also", lang, what=", ".join(word(k, lang).lower() for k in d.other_changes()))
    out = [summary, "", word("verdicts", lang)]
    out += [f"  {text}" for text in merged_lines(d, lang)] or [f"  {word('no_verdicts', lang)}"]

    def block(title, keyed: Keyed, describe):
        if not keyed:
            return
        out.extend(["", word(title, lang)])
        for i, item in keyed.added:
            out.append(f"  + {describe(i, lang)}")
        for i, item in keyed.removed:
            out.append(f"  - {describe(i, lang)}")
        for i, changes in keyed.changed:
            out.append(f"  ~ {describe(i, lang)}")
            for c in changes:
                out.extend("      " + text for text in _change_lines(c, lang, show_texts))

    def entry(i, lang):
        ref = d.entry_refs[i]
        return f"{i} ({ref.page}/{ref.section}): {ref.title.get(lang, '')}"

    block("entries", d.entries, entry)
    block("questions", d.questions, lambda i, _l: i)
    block("sources", d.sources, lambda i, _l: i)
    if d.facts:
        out.extend(["", word("facts", lang), "  " + _items(d.facts)])
    block("pages", d.pages, lambda i, _l: i)
    if d.strings:
        out.extend(["", word("strings", lang)])
        for c in d.strings:
            out.extend("  " + text for text in _change_lines(c, lang, show_texts))
    block("changelog", d.changelog, lambda i, _l: i)
    return "\n".join(out)


def _items(c: Change) -> str:
    return ", ".join([f"+ {_fmt(v)}" for v in c.added] + [f"- {_fmt(v)}" for v in c.removed])


def _change_lines(c: Change, lang: str, show_texts: bool) -> list[str]:
    if c.kind == "items":
        return [f"{c.path}: {_items(c)}"]
    if c.kind == "order":
        return [f"{c.path}: {word('order', lang)}"]
    if c.kind == "text":
        lines = [f"{c.path} ({', '.join(c.languages)}): {word('changed', lang)}"]
        if show_texts:
            for language in c.languages:
                lines.append(f"  {language} - {c.old.get(language, '')}")
                lines.append(f"  {language} + {c.new.get(language, '')}")
        return lines
    if c.kind in ("added", "removed"):
        value = c.new if c.kind == "added" else c.old
        what = f" ({value['severity']})" if isinstance(value, dict) and "severity" in value else (
            f" ({_fmt(value)})" if _scalar(value) else "")
        return [f"{c.path}: {word(c.kind, lang)}{what}"]
    if isinstance(c.old, dict) or isinstance(c.new, dict):
        return [f"{c.path}:", f"  - {_fmt(c.old)}", f"  + {_fmt(c.new)}"]
    return [f"{c.path}: {_fmt(c.old)} → {_fmt(c.new)}"]


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        if "all" in value or "any" in value or "field" in value:
            return render_condition(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def render_condition(cond: dict, top: bool = True) -> str:
    """A condition on one line: ``deployment in [online] and (tenant in [other] or tenant absent)``."""
    if "all" in cond or "any" in cond:
        joiner = " and " if "all" in cond else " or "
        text = joiner.join(render_condition(c, False) for c in cond.get("all") or cond["any"])
        return text if top else f"({text})"
    if "absent" in cond:
        return f"{cond['field']} absent"
    op = "in" if "in" in cond else "not in"
    return f"{cond['field']} {op} {_fmt(cond['in'] if 'in' in cond else cond['not_in'])}"
