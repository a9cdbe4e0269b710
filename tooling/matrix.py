"""Maintainer tooling: load ``matrix/*.yaml``, validate it, compile the rules.

Not part of the browser runtime: it needs PyYAML and jsonschema, which the
engine does not. Every problem is collected and reported at once as
``matrix/FILE.yaml:LINE: path: what is wrong; what is allowed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from checker.engine import _PLACEHOLDER as PLACEHOLDER
from checker.engine import PREPOSITIONS, SEVERITY_RANK, STATUSES, Matrix, _holds, _stated_by

__all__ = ["Issue", "MatrixInvalid", "Loaded", "load", "compile_rules", "export", "REPO"]

REPO = Path(__file__).resolve().parent.parent
MATRIX_DIR = REPO / "matrix"
RULES_JSON = REPO / "checker" / "rules.json"  # what the engine (package checker) reads
GENERATED_NOTE = (
    "Generated from matrix/*.yaml by `python -m checker compile`; do not edit by hand."
)


@dataclass(frozen=True)
class Issue:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        from checker.inputs import printable  # keys and values from the file are shown escaped

        where = f"{self.file}:{self.line}" if self.line else self.file
        return printable(f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}")


class MatrixInvalid(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__(f"{len(issues)} problem(s) in the matrix")


@dataclass
class Doc:
    """One YAML file: its data and the line of every node, by path."""

    name: str
    data: object
    lines: dict[tuple, int]

    def line(self, path: tuple) -> int:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, path: tuple) -> str:
        """A path that names list items by id where they have one."""
        out, node = "", self.data
        for step in path:
            if isinstance(step, int):
                item = node[step] if isinstance(node, list) and step < len(node) else None
                ident = item.get("id") if isinstance(item, dict) else None
                out += f"[{ident}]" if isinstance(ident, str) else f"[{step}]"
                node = item
            else:
                out += ("." if out else "") + str(step)
                node = node.get(step) if isinstance(node, dict) else None
        return out


@dataclass
class Loaded:
    """The matrix as loaded from a folder, with its documents kept for line numbers."""

    root: Path
    docs: list[Doc]
    languages: tuple[str, ...] = ()
    questions: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    strings: dict = field(default_factory=dict)
    pages: list[tuple[Doc, dict]] = field(default_factory=list)
    changelog: list[dict] = field(default_factory=list)
    dataverse: tuple | None = None  # (Doc, data) of matrix/dataverse.yaml, if any
    errors: tuple | None = None  # (Doc, data) of matrix/errors.yaml, if any
    error_ids: set = field(default_factory=set)  # its ids, when read as an older version


# -- YAML with line numbers ---------------------------------------------------
# Bounds on a matrix file, checked on YAML's event stream before anything is
# built: the matrix nests about 15 deep today, and never needs anchors.
MAX_DEPTH = 40
MAX_BYTES = 8 * 1024 * 1024
_ALLOWED_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "bool", "int", "float", "null", "map", "seq", "timestamp")}


def _read_yaml(path: Path, display: str, issues: list[Issue]) -> Doc | None:
    import yaml

    from checker.inputs import InputError, check_yaml_events, printable

    try:
        if path.is_symlink() or not path.is_file():
            issues.append(Issue(display, 0, "", "not a regular file; a matrix file is a plain YAML file in matrix/"))
            return None
        if path.stat().st_size > MAX_BYTES:
            issues.append(Issue(display, 0, "", f"larger than {MAX_BYTES // (1024 * 1024)} MB; split it"))
            return None
        text = path.read_text(encoding="utf-8")
        check_yaml_events(text, MAX_DEPTH)
        # libyaml's parser when PyYAML has it (its wheels do): several times faster,
        # and its nodes carry the same line marks.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except InputError as exc:
        message = {
            "yaml_alias": "YAML anchors and aliases (&name, *name) are not allowed; write each value out",
            "too_deep": f"nested more than {MAX_DEPTH} levels deep; the matrix never needs that many",
        }[exc.code]
        issues.append(Issue(display, exc.line or 0, "", message))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        issues.append(Issue(display, line, "", f"invalid YAML: {printable(str(exc.problem))}; fix the syntax"))
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        issues.append(Issue(display, 0, "", f"cannot read: {printable(str(exc))}"))
        return None
    lines: dict[tuple, int] = {}
    constructor = yaml.SafeLoader("")

    def scalar(n, path: tuple):
        if n.tag not in _ALLOWED_TAGS:
            issues.append(Issue(display, n.start_mark.line + 1, _fmt(path),
                                f"YAML tag {printable(n.tag)} is not allowed; write plain values"))
            return None
        if n.tag == "tag:yaml.org,2002:timestamp":
            return n.value  # dates stay text: the schema checks their shape
        try:
            return constructor.construct_object(n, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or exc
            issues.append(Issue(display, n.start_mark.line + 1, _fmt(path), f"invalid value: {printable(str(problem))}"))
            return None

    def build(n, path: tuple):
        lines[path] = n.start_mark.line + 1
        if isinstance(n, (yaml.MappingNode, yaml.SequenceNode)) and n.tag not in _ALLOWED_TAGS:
            return scalar(n, path)  # reports the tag
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    issues.append(Issue(display, key_node.start_mark.line + 1, _fmt(path),
                                        "a key must be plain text, not a list or a mapping"))
                    continue
                key = scalar(key_node, path)
                if key in out:
                    issues.append(
                        Issue(display, key_node.start_mark.line + 1, _fmt(path + (key,)),
                              "duplicate key; each key appears once in a mapping")
                    )
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        return scalar(n, path)

    count = len(issues)
    data = build(node, ()) if node is not None else None
    if len(issues) > count:
        return None
    return Doc(display, data, lines)


def _fmt(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + str(p)
                   for i, p in enumerate(path))


# -- loading and validation ---------------------------------------------------
def load(root: Path = MATRIX_DIR, older: bool = False) -> Loaded:
    """Load and validate every file of the matrix; raise MatrixInvalid with all problems.

    `older`: the folder is an earlier version (read by the diff): interface
    strings that later versions added are taken from this checkout's matrix,
    so a version is judged by what it says, not by strings it could not know."""
    import jsonschema

    root = Path(root)
    issues: list[Issue] = []
    schema_path = root / "schema.json"
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MatrixInvalid([Issue(_display(root, schema_path), 0, "", f"cannot read the schema: {exc}")]) from None
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    loaded = Loaded(root, [], tuple(schema["$defs"]["localized"]["required"]))
    for path in sorted(root.glob("*.yaml")):
        if older and path.name in ("dataverse.yaml", "errors.yaml"):
            # the organization check's mapping and the alerts' explanations: not part
            # of what versions are compared on (they follow today's entries); the
            # changelog may still name an explanation
            if path.name == "errors.yaml":
                doc = _read_yaml(path, _display(root, path), [])
                items = doc.data.get("errors") if doc and isinstance(doc.data, dict) else None
                loaded.error_ids = {e["id"] for e in items or [] if isinstance(e, dict) and isinstance(e.get("id"), str)}
            continue
        doc = _read_yaml(path, _display(root, path), issues)
        if doc is None:
            continue
        schema_errors = sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path)))
        for err in _leaf_errors(schema_errors):
            where = tuple(err.absolute_path)
            issues.append(Issue(doc.name, doc.line(where), doc.where(where) or "(top)", _explain(err)))
        if schema_errors:
            continue
        loaded.docs.append(doc)
        kind = doc.data["kind"]
        if kind == "questions":
            loaded.questions.extend(doc.data["questions"])
        elif kind == "sources":
            loaded.sources.extend(doc.data["sources"])
        elif kind == "facts":
            loaded.facts.extend(doc.data["facts"])
        elif kind == "strings":
            loaded.strings.update(doc.data["strings"])
        elif kind == "page":
            loaded.pages.append((doc, doc.data))
        elif kind == "changelog":
            loaded.changelog.extend(doc.data["changes"])
        elif kind == "dataverse" and not older:
            # The organization check's mapping follows the current questions
            # and rules; an earlier version of the matrix is read without it.
            loaded.dataverse = (doc, doc.data)
        elif kind == "errors":
            loaded.errors = (doc, doc.data)  # alerts and error codes explained (tooling/errors.py)
    if older and not issues:
        for key, text in _current_strings().items():
            loaded.strings.setdefault(key, text)
    if not issues:
        issues.extend(_cross_check(loaded))
    if issues:
        raise MatrixInvalid(issues)
    order = page_order()
    loaded.pages.sort(key=lambda p: order.index(p[1]["page"]["id"]) if p[1]["page"]["id"] in order else len(order))
    return loaded


def _current_strings() -> dict:
    import yaml

    path = MATRIX_DIR / "strings.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return data["strings"]


MKDOCS_YML = REPO / "mkdocs.yml"


def page_order(config: Path = MKDOCS_YML) -> list[str]:
    """The page ids in the order of the site's navigation: ``nav`` in mkdocs.yml
    is the one place that order is set. A page it does not list goes last."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml names Python objects (!!python/name:...); only nav matters here.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    try:
        nav = yaml.load(config.read_text(encoding="utf-8"), Loader=Loader).get("nav") or []
    except (OSError, yaml.YAMLError):
        return []
    order = []
    for item in nav:
        target = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(target, str) and target.endswith(".md"):
            order.append(target[:-len(".md")])
    return order


PAGE_ORDER = page_order()  # the order at import time, for readers of the constant


def _display(root: Path, path: Path) -> str:
    """How a file is named in messages: ``matrix/FILE.yaml``, wherever the folder is."""
    return f"{root.name}/{path.name}"


def _leaf_errors(errors):
    """Report the most specific schema errors, not every failed branch of a oneOf."""
    out = []
    for err in errors:
        if err.context:
            best = max(err.context, key=lambda e: len(e.absolute_path))
            deepest = [e for e in err.context if len(e.absolute_path) == len(best.absolute_path)]
            out.extend(_leaf_errors(deepest[:1]))
        else:
            out.append(err)
    return out


def _explain(err) -> str:
    v = err.validator
    if v == "required":
        return err.message.replace("is a required property", "is missing; it is required here")
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        return f"{err.message}; allowed: {', '.join(allowed)}" if allowed else err.message
    if v == "enum":
        return f"{err.instance!r} is not allowed; allowed: {', '.join(map(str, err.validator_value))}"
    if v == "pattern":
        return f"{err.instance!r} has the wrong form; it must match {err.validator_value}"
    if v == "type":
        return f"{err.instance!r} is a {type(err.instance).__name__}; expected {err.validator_value}"
    if v == "minLength":
        return "is empty; write the text"
    return err.message


class _Checker:
    """Cross-reference checks that a schema cannot express."""

    def __init__(self, loaded: Loaded):
        self.m = loaded
        self.issues: list[Issue] = []
        self.fields = {q["id"]: q for q in loaded.questions}
        self.qdoc = next((d for d in loaded.docs if d.data["kind"] == "questions"), None)

    def add(self, doc: Doc, path: tuple, message: str) -> None:
        self.issues.append(Issue(doc.name, doc.line(path), doc.where(path), message))

    # -- conditions --
    def domain(self, name: str) -> list:
        spec = self.fields[name]
        if spec["type"] == "boolean":
            return [True, False]
        return [v["id"] for v in spec["values"]]

    def check_condition(self, doc: Doc, path: tuple, cond: dict) -> None:
        if "all" in cond or "any" in cond:
            key = "all" if "all" in cond else "any"
            for i, sub in enumerate(cond[key]):
                self.check_condition(doc, path + (key, i), sub)
            return
        name = cond["field"]
        if name not in self.fields:
            self.add(doc, path + ("field",), f"unknown field {name!r}; fields: {', '.join(self.fields)}")
            return
        if "absent" in cond:
            if self.fields[name]["required"] or self.fields[name].get("default"):
                self.add(doc, path + ("absent",), f"{name} always has a value, so `absent` can never hold")
            return
        op = "in" if "in" in cond else "not_in"
        domain = self.domain(name)
        for i, value in enumerate(cond[op]):
            if not any(type(value) is type(d) and value == d for d in domain):
                self.add(doc, path + (op, i),
                         f"{value!r} is not a value of {name}; values: {', '.join(map(_yaml_word, domain))}")

    def satisfiable(self, cond: dict) -> bool:
        names = sorted(_fields_of(cond))
        options = []
        for name in names:
            spec = self.fields[name]
            if spec["type"] == "multi":
                vals = self.domain(name)
                opts = [[v] for v in vals] + [vals]
            else:
                opts = list(self.domain(name))
            if not spec["required"] and not spec.get("default"):
                opts.append(_ABSENT)
            options.append(opts)
        for combo in product(*options):
            config = {n: v for n, v in zip(names, combo) if v is not _ABSENT}
            if _holds(cond, config):
                return True
        return False

    # -- the whole matrix --
    def run(self) -> list[Issue]:
        m = self.m
        self.check_questions()
        source_ids = _unique(self, m, "sources", [(d, ("sources", i), s["id"]) for d in m.docs if d.data["kind"] == "sources" for i, s in enumerate(d.data["sources"])])
        fact_ids = set(m.facts)
        facts_doc = next((d for d in m.docs if d.data["kind"] == "facts"), None)
        for i, f in enumerate(m.facts):
            if m.facts.index(f) != i:
                self.add(facts_doc, ("facts", i), f"fact {f} is listed twice")
        cited: set[str] = set()
        entry_ids: list = []
        rule_ids: list = []
        page_ids: list = []
        for doc, page in m.pages:
            page_ids.append((doc, ("page", "id"), page["page"]["id"]))
            anchors = [(doc, ("sections", i, "id"), s["id"]) for i, s in enumerate(page["sections"])]
            for si, section in enumerate(page["sections"]):
                for ei, entry in enumerate(section["entries"]):
                    epath = ("sections", si, "entries", ei)
                    entry_ids.append((doc, epath + ("id",), entry["id"]))
                    anchors.append((doc, epath + ("id",), entry["id"]))
                    self.check_entry(doc, epath, entry, source_ids, fact_ids, cited, rule_ids)
            _unique(self, m, "anchors on this page", anchors)
        _unique(self, m, "entries", entry_ids)
        _unique(self, m, "rules", rule_ids)
        _unique(self, m, "pages", page_ids)
        for f in m.facts:
            if f not in cited:
                self.add(facts_doc, ("facts", m.facts.index(f)), f"fact {f} is carried by no entry; cite it in the entry that states it")
        entry_set = {e[2] for e in entry_ids}
        if m.errors:  # a change may name an error explanation as well as an entry
            entry_set |= {e["id"] for e in m.errors[1]["errors"]}
        entry_set |= m.error_ids
        for d in m.docs:
            if d.data["kind"] == "changelog":
                dates = [c["date"] for c in d.data["changes"]]
                for i in range(1, len(dates)):
                    if dates[i] >= dates[i - 1]:
                        self.add(d, ("changes", i, "date"), f"{dates[i]} is not older than the change above it ({dates[i - 1]}); list changes newest first, one per date")
                for i, change in enumerate(d.data["changes"]):
                    for j, eid in enumerate(change["entries"]):
                        if eid not in entry_set:
                            self.add(d, ("changes", i, "entries", j), f"unknown entry {eid!r}; entries: see the page files")
        self.check_strings()
        if m.errors:
            from . import errors
            errors.check(self, m.errors[0], {e[2] for e in entry_ids}, _entry_pages(m))
        self.check_plain_text()
        self.check_used_strings()
        if m.dataverse:  # the organization check's mapping (tooling/orgmatrix.py)
            from . import orgmatrix
            orgmatrix.check(self, m.dataverse[0], {r[2] for r in rule_ids})
        if not self.issues:
            self.check_coverage()
        return self.issues

    def check_questions(self) -> None:
        doc = self.qdoc
        if doc is None:
            self.issues.append(Issue("matrix/", 0, "", "no file of kind `questions`; the checker needs its fields"))
            return
        _unique(self, self.m, "questions", [(doc, ("questions", i, "id"), q["id"]) for i, q in enumerate(self.m.questions)])
        for i, q in enumerate(self.m.questions):
            ids = [v["id"] for v in q["values"]]
            path = ("questions", i)
            for j, v in enumerate(ids):
                if ids.index(v) != j:
                    self.add(doc, path + ("values", j, "id"), f"value {v!r} is listed twice")
            if q["type"] == "boolean" and sorted(ids) != ["false", "true"]:
                self.add(doc, path + ("values",), "a boolean question has exactly the values 'true' and 'false'")
            if "default" in q:
                if q["type"] != "multi" or q["required"]:
                    self.add(doc, path + ("default",), "only an optional `multi` question takes a default")
                for j, v in enumerate(q.get("default", [])):
                    if v not in ids:
                        self.add(doc, path + ("default", j), f"{v!r} is not a value of {q['id']}; values: {', '.join(ids)}")
            if "show_when" in q:
                self.check_condition(doc, path + ("show_when",), q["show_when"])
            for j, guard in enumerate(q.get("only_with", [])):
                self.check_condition(doc, path + ("only_with", j), guard)
                if guard.get("field") == q["id"]:
                    self.add(doc, path + ("only_with", j), "a field cannot belong to answers of itself")
            if "implied" in q:
                by = q["implied"]["by"]
                if by not in self.fields or self.fields[by]["type"] != "choice" or not self.fields[by]["required"]:
                    self.add(doc, path + ("implied", "by"), f"{by!r} is not a required choice question; a value can only be implied by one")
                else:
                    for key, value in q["implied"]["values"].items():
                        if key not in self.domain(by):
                            self.add(doc, path + ("implied", "values", key), f"{key!r} is not a value of {by}; values: {', '.join(self.domain(by))}")
                        if value not in ids:
                            self.add(doc, path + ("implied", "values", key), f"{value!r} is not a value of {q['id']}; values: {', '.join(ids)}")
                for j, value in enumerate(q["implied"].get("also_allowed", [])):
                    if value not in ids:
                        self.add(doc, path + ("implied", "also_allowed", j), f"{value!r} is not a value of {q['id']}; values: {', '.join(ids)}")
            for j, v in enumerate(q["values"]):
                for key in ("incoming", "outgoing"):
                    name = f"{key}_protocol"
                    for k, proto in enumerate(v.get("protocols", {}).get(key, [])):
                        if name in self.fields and proto not in self.domain(name):
                            self.add(doc, path + ("values", j, "protocols", key, k), f"{proto!r} is not a value of {name}; values: {', '.join(self.domain(name))}")

    def check_entry(self, doc, epath, entry, source_ids, fact_ids, cited, rule_ids) -> None:
        if entry["source"] not in source_ids:
            self.add(doc, epath + ("source",), f"unknown source {entry['source']!r}; sources: {', '.join(sorted(source_ids))}")
        for j, f in enumerate(entry["facts"]):
            if f not in fact_ids:
                self.add(doc, epath + ("facts", j), f"unknown fact id {f}; fact ids are listed in matrix/facts.yaml")
            cited.add(f)
        rules = entry.get("rules", [])
        if not entry["facts"] and any(r["severity"] != "unknown" for r in rules):
            self.add(doc, epath + ("facts",), "an entry without fact ids may only hold `unknown` rules; cite the facts it states")
        row = entry.get("row")
        if row:
            self.check_row(doc, epath + ("row",), row)
        derived = [r.get("derive") for r in rules if "derive" in r and r["derive"] != "profile"]
        if row:
            wanted = {"coverage", "protocol"} | ({"sync"} if not all(row["sync"].values()) else set())
            for missing in sorted(wanted - set(derived)):
                self.add(doc, epath + ("rules",), f"the row needs a rule with `derive: {missing}`")
        for k, rule in enumerate(rules):
            rpath = epath + ("rules", k)
            rule_ids.append((doc, rpath + ("id",), rule["id"]))
            for j, f in enumerate(rule.get("facts", [])):
                if f not in fact_ids:
                    self.add(doc, rpath + ("facts", j), f"unknown fact id {f}; fact ids are listed in matrix/facts.yaml")
                cited.add(f)
            if "remedy_source" in rule and not rule.get("remedy"):
                self.add(doc, rpath + ("remedy_source",), "`remedy_source` goes with a `remedy`; remove it or write the remedy")
            if rule.get("derive") == "profile" or "profiles" in rule:
                if rule.get("derive") != "profile" or "profiles" not in rule:
                    self.add(doc, rpath, "`derive: profile` and `profiles` go together")
                    continue
                before = len(self.issues)
                self.check_profiles(doc, rpath + ("profiles",), rule["profiles"])
                if len(self.issues) > before:
                    continue
                when = derive_condition("profile", row, rule, self.m.questions)
            elif "derive" in rule:
                if not row:
                    self.add(doc, rpath + ("derive",), "`derive` needs a `row` in the same entry; write a `when` instead")
                    continue
                if derived.count(rule["derive"]) > 1:
                    self.add(doc, rpath + ("derive",), f"more than one rule derives {rule['derive']!r} from this row")
                if rule["derive"] == "sync" and all(row["sync"].values()):
                    self.add(doc, rpath + ("derive",), "the row syncs everything, so a `sync` rule can never fire")
                if self.issues:
                    continue
                when = derive_condition(rule["derive"], row, rule, self.m.questions)
            else:
                when = rule["when"]
                before = len(self.issues)
                self.check_condition(doc, rpath + ("when",), when)
                if len(self.issues) > before:
                    continue
            if rule["severity"] == "unsupported" and _uses_absent(when):
                self.add(doc, rpath + ("when",), "an `unsupported` rule cannot test `absent`: stating more would then make a setup supported")
            if not self.satisfiable(when):
                self.add(doc, rpath + ("when",), "this condition can never hold; check its fields and values")
            if "fix" in rule:
                for j, option in enumerate(_fix_options(rule)):
                    opath = rpath + ("fix", j) if isinstance(rule["fix"], list) else rpath + ("fix",)
                    if "when" in option:
                        self.check_condition(doc, opath + ("when",), option["when"])
                    self.check_fix(doc, opath + ("set",) if isinstance(rule["fix"], list) else opath, option["set"])
            stated = _stated_by(when) | {n for n, q in self.fields.items() if q["required"] or q.get("default")}
            for key in ("message", "remedy"):
                texts = rule.get(key) or (entry.get("remedy") if key == "remedy" else None) or {}
                for lang, text in texts.items():
                    for prep, name in PLACEHOLDER.findall(text):
                        if name not in stated:
                            self.add(doc, rpath + (key, lang),
                                     f"placeholder {{{name}}} names a field the condition does not guarantee; use one of: {', '.join(sorted(stated))}")
                        if prep and prep.lower() not in PREPOSITIONS:
                            self.add(doc, rpath + (key, lang),
                                     f"{{{prep}:{name}}}: {prep!r} is not a preposition the engine contracts; use one of: {', '.join(PREPOSITIONS)}")

    def check_values(self, doc, path, name: str, values) -> None:
        domain = self.domain(name)
        for j, v in enumerate(values):
            if not any(type(v) is type(d) and v == d for d in domain):
                self.add(doc, path + (j,), f"{v!r} is not a value of {name}; values: {', '.join(map(_yaml_word, domain))}")

    def check_profiles(self, doc, path, blocks) -> None:
        for i, block in enumerate(blocks):
            bpath = path + (i,)
            self.check_values(doc, bpath + ("deployments",), "deployment", block["deployments"])
            self.check_values(doc, bpath + ("email_systems",), "email_system", block["email_systems"])
            self.check_values(doc, bpath + ("mailbox_location",), "mailbox_location", block.get("mailbox_location", []))
            self.check_values(doc, bpath + ("not_fit",), "server_profile", block["not_fit"])
            self.check_values(doc, bpath + ("use",), "server_profile", [block["use"]])
            if block["use"] in block["not_fit"]:
                self.add(doc, bpath + ("use",), f"{block['use']!r} is listed in `not_fit`; `use` names a profile that fits")

    def check_fix(self, doc, path, fix: dict) -> None:
        for name, value in fix.items():
            if name not in self.fields:
                self.add(doc, path + (name,), f"unknown field {name!r}; fields: {', '.join(self.fields)}")
                continue
            spec = self.fields[name]
            if spec["type"] == "multi":
                if not isinstance(value, list) or not value:
                    self.add(doc, path + (name,), f"{name} takes a list of values; values: {', '.join(self.domain(name))}")
                    continue
                self.check_values(doc, path + (name,), name, value)
            else:
                self.check_values(doc, path, name, [value])

    def check_row(self, doc, path, row) -> None:
        checks = [("deployment", [row["deployment"]], "deployment"),
                  ("email_systems", row["email_systems"], "email_system"),
                  ("incoming", row["incoming"], "incoming_protocol"),
                  ("outgoing", row["outgoing"], "outgoing_protocol"),
                  ("sync", list(row["sync"]), "sync")]
        for key, values, name in checks:
            if name not in self.fields:
                self.add(doc, path + (key,), f"the questions have no field {name!r}")
                continue
            domain = self.domain(name)
            for j, v in enumerate(values):
                if v not in domain:
                    where = path + (key,) if key in ("deployment", "sync") else path + (key, j)
                    self.add(doc, where, f"{v!r} is not a value of {name}; values: {', '.join(map(str, domain))}")

    def check_strings(self) -> None:
        doc = next((d for d in self.m.docs if d.data["kind"] == "strings"), None)
        needed = (
            [f"status.{s}" for s in STATUSES]
            + [f"status.explain.{s}" for s in STATUSES]
            + [f"severity.{s}" for s in SEVERITY_RANK]
            + [f"error.{c}" for c in ERROR_CODES]
        )
        for key in needed:
            if key not in self.m.strings:
                if doc is None:
                    self.issues.append(Issue("matrix/", 0, "", f"no strings file; string {key!r} is needed"))
                else:
                    self.add(doc, ("strings",), f"string {key!r} is missing; the checker uses it")

    def check_plain_text(self) -> None:
        """Matrix text is text: no HTML tag in any string a reader sees (titles also
        reach the theme's navigation and <title>, which do not escape them; see
        sitegen/text.py for the two Markdown forms a text may carry)."""
        languages = set(self.m.languages)

        def walk(doc, node, path):
            if isinstance(node, dict):
                if node and set(node) <= languages and all(isinstance(v, str) for v in node.values()):
                    for lang, text in node.items():
                        self._plain(doc, path + (lang,), text)
                    return
                for key, value in node.items():
                    walk(doc, value, path + (key,))
            elif isinstance(node, list):
                for i, item in enumerate(node):
                    walk(doc, item, path + (i,))

        for doc in self.m.docs:
            walk(doc, doc.data, ())

    def _plain(self, doc, path, text: str) -> None:
        found = _HTML_TAG.search(text)
        if found:
            tag = re.match(r"<\s*[/!?]?[A-Za-z0-9-]*", text[found.start():]).group(0)
            self.add(doc, path, f"HTML markup ({tag!r}...) is not allowed in matrix text; "
                                f"write plain text (links as [label](https://...))")

    def check_used_strings(self) -> None:
        """Every interface string the code names exists, in every language.

        The keys are found in the code itself (USING_STRINGS): each quoted
        literal shaped like a key of matrix/strings.yaml, ``page.checker.title``,
        whose first part is one the strings file uses. A key built at run time
        (``"status." + status``) is covered by check_strings, and an admonition's
        title by the entries that ask for one."""
        doc = next((d for d in self.m.docs if d.data["kind"] == "strings"), None)
        if doc is None:
            return
        strings = self.m.strings
        namespaces = {key.split(".", 1)[0] for key in strings}
        used: dict[str, str] = {}
        for path in _code_files():
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            found = [(m.group(1), m.start()) for m in _STRING_KEY.finditer(source)]
            if path.name == "diff.py":  # the diff reads its words by their last part: word(added) is diff.added
                found += [("diff." + m.group(1), m.start()) for m in _DIFF_WORD.finditer(source)]
            for key, start in found:
                if key.split(".", 1)[0] in namespaces and not key.endswith(_FILE_SUFFIXES):
                    line = source.count("\n", 0, start) + 1
                    used.setdefault(key, f"{path.relative_to(REPO)}:{line}")
        for _page, _section, entry in iter_entries(self.m):
            if entry.get("admonition"):
                used.setdefault(f"page.admonition.{entry['admonition']}", "sitegen/templates/_macros.j2")
        # matrix/errors.yaml keeps the strings of the explanations beside them:
        # tooling/errors.py requires each of them in every language when the file
        # is there, and a matrix without it (an older version) has no explanations.
        from checker.explain import STRING_KEYS as own
        for key, where in sorted(used.items()):
            if key in own and key not in strings:
                continue
            missing = [lang for lang in self.m.languages if not (strings.get(key) or {}).get(lang)]
            if missing:
                self.add(doc, ("strings",),
                         f"string {key!r} is missing{' in ' + ', '.join(missing) if key in strings else ''}; "
                         f"{where} uses it")

    def check_coverage(self) -> None:
        """Every deployment and email system must get an answer from some rule."""
        matrix = Matrix(compile_rules(self.m))
        doc = self.qdoc
        for dep, system in product(self.domain("deployment"), self.domain("email_system")):
            verdict = matrix.evaluate({"deployment": dep, "email_system": system})
            if not any(f.severity != "info" for f in verdict.findings):
                i = next(i for i, q in enumerate(self.m.questions) if q["id"] == "email_system")
                self.add(doc, ("questions", i), f"no rule answers for deployment {dep!r} with email_system {system!r}; add it to a row or give it a rule")


# Where the code that shows interface strings lives: the engine and CLI, the
# site's generator, templates, hooks and scripts.
USING_STRINGS = ("checker/*.py", "tooling/*.py", "sitegen/*.py", "sitegen/templates/*.j2", "hooks/*.py", "overrides/**/*.html",
                 "docs/javascripts/*.js", "docs/javascripts/*.mjs")
_STRING_KEY = re.compile(r"""["'`]([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["'`]""")
_DIFF_WORD = re.compile(r"""\bword\(\s*["']([a-z0-9_.]+)["']""")
_FILE_SUFFIXES = (".py", ".j2", ".md", ".json", ".yaml", ".yml", ".js", ".mjs", ".html", ".css", ".txt", ".whl",
                  ".gz", ".zip", ".atom", ".svg", ".wasm", ".toml")


def _code_files() -> list[Path]:
    return sorted({path for pattern in USING_STRINGS for path in REPO.glob(pattern) if path.is_file()})


# "<" opening a tag, an end tag, a comment or a declaration.
_HTML_TAG = re.compile(r"<\s*[A-Za-z/!?]")

ERROR_CODES = ("not_mapping", "unknown_field", "required", "null", "not_boolean", "not_single",
               "unknown_value", "not_list", "empty_list", "duplicate", "unknown_language", "bad_json",
               "conflict")
_ABSENT = object()


def _yaml_word(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _unique(checker: _Checker, m: Loaded, what: str, items: list) -> set:
    seen: dict = {}
    for doc, path, ident in items:
        if ident in seen:
            first = seen[ident]
            checker.add(doc, path, f"id {ident!r} is used twice among {what} (first at {first[0].name}:{first[0].line(first[1])}); ids are unique")
        else:
            seen[ident] = (doc, path)
    return set(seen)


def _fields_of(cond: dict) -> set:
    if "all" in cond or "any" in cond:
        return set().union(*(_fields_of(c) for c in cond.get("all") or cond.get("any")))
    return {cond["field"]}


def _uses_absent(cond: dict) -> bool:
    if "all" in cond or "any" in cond:
        return any(_uses_absent(c) for c in cond.get("all") or cond.get("any"))
    return "absent" in cond


def _cross_check(loaded: Loaded) -> list[Issue]:
    return _Checker(loaded).run()


# -- compiling ------------------------------------------------------------------
def derive_condition(kind: str, row: dict | None, rule: dict | None = None, questions=()) -> dict:
    """The condition a row (or a rule's profile table) implies: which setups it
    covers, and what falls outside it."""
    if kind == "profile":
        return _any([_profile_block(block, {"field": "server_profile", "in": list(block["not_fit"])})
                     for block in rule["profiles"]])
    covers = [
        {"field": "deployment", "in": [row["deployment"]]},
        {"field": "email_system", "in": list(row["email_systems"])},
    ]
    if kind == "coverage":
        return {"all": covers}
    if kind == "sync":
        missing = [item for item, yes in row["sync"].items() if not yes]
        return {"all": covers + [{"field": "sync", "in": missing}]}
    # A mailbox that does not live where its email system implies (an Exchange
    # mailbox pointed at an external server) is not synchronized by this row.
    where = _implied_locations(row["email_systems"], questions)
    return {"all": covers + where + [{"any": [
        {"field": "incoming_protocol", "not_in": list(row["incoming"])},
        {"field": "outgoing_protocol", "not_in": list(row["outgoing"])},
    ]}]}


def _fix_options(rule: dict) -> list:
    fix = rule.get("fix")
    if fix is None:
        return []
    return fix if isinstance(fix, list) else [{"set": fix}]


def derive_fix(kind: str | None, row: dict | None, rule: dict) -> list:
    """The fix a rule's remedy asks for, as options tried in order: the rule's
    own `fix`, or what its row or profile table says fits."""
    if not kind:
        return _fix_options(rule)
    # A derived rule's own `fix`: a mapping adds to what the row says; a list of
    # options, each tried first, adds to it where its condition holds.
    extra = dict(rule.get("fix") or {}) if not isinstance(rule.get("fix"), list) else {}
    if kind == "profile":
        derived = [{"when": _profile_block(block, None), "set": {"server_profile": block["use"], **extra}}
                   for block in rule["profiles"]]
    elif kind == "protocol":
        derived = [{"set": {"incoming_protocol": row["incoming"][0], "outgoing_protocol": row["outgoing"][0], **extra}}]
    elif kind == "sync":
        derived = [{"set": {"sync": [item for item, yes in row["sync"].items() if yes], **extra}}]
    else:
        return [{"set": extra}] if extra else []
    if isinstance(rule.get("fix"), list):
        out = []
        for base in derived:
            for option in rule["fix"]:
                when = [c for c in (base.get("when"), option.get("when")) if c]
                out.append({**({"when": when[0] if len(when) == 1 else {"all": when}} if when else {}),
                            "set": {**base["set"], **option["set"]}})
            out.append(base)
        return out
    return derived



def _profile_block(block: dict, then: dict | None) -> dict:
    parts = [{"field": "deployment", "in": list(block["deployments"])},
             {"field": "email_system", "in": list(block["email_systems"])}]
    if then is not None:
        if "mailbox_location" in block:
            parts.append({"field": "mailbox_location", "in": list(block["mailbox_location"])})
        parts.append(then)
    return {"all": parts}


def _any(conds: list) -> dict:
    return conds[0] if len(conds) == 1 else {"any": conds}


def _only_with(when: dict, questions) -> dict:
    """The condition, guarded by the `only_with` of each field it reads: a rule
    about a field that belongs to one profile does not fire on another."""
    guards = []
    read = _fields_of(when)
    for q in questions:
        if q["id"] in read:
            for guard in q.get("only_with", ()):
                if guard["field"] in read and _fields_of(guard) <= {guard["field"]} and guard in guards:
                    continue
                if guard not in guards:
                    guards.append(guard)
    if not guards:
        return when
    return {"all": [when] + [{"any": [{"field": g["field"], "absent": True},
                                      {"field": g["field"], "in": list(g["in"])}]} for g in guards]}


def _implied_locations(systems, questions) -> list:
    """A condition that the mailbox lives where these email systems imply, when
    every one of them implies a location; none otherwise."""
    for q in questions:
        implied = q.get("implied")
        if implied and implied["by"] == "email_system":
            places = [implied["values"].get(s) for s in systems]
            if all(places):
                return [{"field": q["id"], "in": sorted(set(places))}]
    return []


def lang_prefix(lang: str, languages) -> str:
    """Where a language's pages live: the first language at the root, others under their code."""
    return "" if lang == languages[0] else lang.split("-")[0].lower() + "/"


def page_link(page_id: str, anchor: str, lang: str, languages: tuple[str, ...]) -> str:
    """Site-relative link to an anchor of a page in one language."""
    return f"{lang_prefix(lang, languages)}{page_id}/#{anchor}"


def iter_entries(loaded: Loaded):
    for _doc, page in loaded.pages:
        for section in page["sections"]:
            for entry in section["entries"]:
                yield page, section, entry


def compile_rules(loaded: Loaded) -> dict:
    """The engine's input: fields, strings and rules, with every condition explicit."""
    langs = loaded.languages
    rules = []
    for page, _section, entry in iter_entries(loaded):
        for rule in entry.get("rules", []):
            kind = rule.get("derive")
            when = derive_condition(kind, entry.get("row"), rule, loaded.questions) if kind else rule["when"]
            when = _only_with(when, loaded.questions)
            remedy = rule.get("remedy") or entry.get("remedy")
            rules.append({
                "id": rule["id"],
                "severity": rule["severity"],
                "facts": list(rule.get("facts") or entry["facts"]),
                "when": when,
                "message": rule["message"],
                "remedy": remedy,
                "remedy_source": (rule.get("remedy_source") or entry.get("remedy_source")) if remedy else None,
                "fix": derive_fix(kind, entry.get("row"), rule) or None,
                "link": {lang: page_link(page["page"]["id"], entry["id"], lang, langs) for lang in langs},
            })
    fields = []
    for q in loaded.questions:
        spec = {
            "id": q["id"],
            "type": q["type"],
            "required": q["required"],
            "default": q.get("default"),
            "label": q["label"],
            "help": q["help"],
            "values": q["values"],
        }
        if "show_when" in q:
            spec["show_when"] = q["show_when"]
        if "implied" in q:
            spec["implied"] = q["implied"]
        if "only_with" in q:
            spec["only_with"] = q["only_with"]
        fields.append(spec)
    return {
        "_generated": GENERATED_NOTE,
        "languages": list(langs),
        "default_language": langs[0],
        "fields": fields,
        "strings": loaded.strings,
        "rules": rules,
        "implications": implications(loaded.questions),
        **({"dataverse": _compile_dataverse(loaded)} if loaded.dataverse else {}),
        **({"errors": _compile_errors(loaded)} if loaded.errors else {}),
    }


def _entry_pages(loaded: Loaded) -> dict:
    """Entry id -> the id of the page that holds it."""
    return {entry["id"]: page["page"]["id"] for page, _section, entry in iter_entries(loaded)}


def _compile_errors(loaded: Loaded) -> dict:
    from . import errors
    return errors.compile_errors(loaded.errors[1], loaded.languages, _entry_pages(loaded), page_link)


def implications(questions) -> list:
    """What one answer says of another, as the questions state it: for each
    value of `by`, the values of `field` that fit (`allowed`) and the one that
    follows when the field is left out (`implied`, where exactly one does).

    Two kinds: a question's `implied` (the mailbox location, from the email
    system; `also_allowed` names the other values that may be stated), and the
    `protocols` of a value (a server profile's incoming and outgoing protocols)."""
    out = []
    domains = {q["id"]: [v["id"] for v in q["values"]] for q in questions}
    for q in questions:
        implied = q.get("implied")
        if implied:
            also = list(implied.get("also_allowed", []))
            # an answer of `by` without an implied value allows `also_allowed` alone
            out.append({"field": q["id"], "by": implied["by"],
                        "allowed": {by: ([implied["values"][by]] if by in implied["values"] else [])
                                    + [a for a in also if a != implied["values"].get(by)]
                                    for by in domains.get(implied["by"], implied["values"])},
                        "implied": dict(implied["values"])})
    for q in questions:
        for key in ("incoming", "outgoing"):
            allowed = {v["id"]: list(v["protocols"][key]) for v in q["values"]
                       if key in v.get("protocols", {})}
            if allowed:
                out.append({"field": f"{key}_protocol", "by": q["id"], "allowed": allowed,
                            "implied": {by: vals[0] for by, vals in allowed.items() if len(vals) == 1}})
    return out


def _compile_dataverse(loaded: Loaded) -> dict:
    from . import orgmatrix
    return orgmatrix.compile_mapping(loaded.dataverse[1], loaded.languages, page_link)


def export(loaded: Loaded, compiled: dict | None = None) -> dict:
    """The whole matrix as data, for the site's JSON export."""
    compiled = compiled or compile_rules(loaded)
    return {
        "_generated": "Generated from matrix/*.yaml by build.py; do not edit by hand.",
        "languages": compiled["languages"],
        "default_language": compiled["default_language"],
        "sources": loaded.sources,
        "facts": loaded.facts,
        "questions": compiled["fields"],
        "pages": [page for _doc, page in loaded.pages],
        "changelog": loaded.changelog,
        "rules": compiled["rules"],
        "strings": compiled["strings"],
        **({"dataverse": compiled["dataverse"]} if "dataverse" in compiled else {}),
        **({"errors": compiled["errors"]} if "errors" in compiled else {}),
    }


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def configuration_schema(loaded: Loaded) -> dict:
    """A JSON Schema for a configuration, its enumerations taken from the questions."""
    props = {}
    for q in loaded.questions:
        values = [v["id"] for v in q["values"]]
        desc = q["label"]["en"]
        if q["type"] == "boolean":
            props[q["id"]] = {"type": "boolean", "description": desc}
        elif q["type"] == "multi":
            props[q["id"]] = {"type": "array", "items": {"enum": values}, "minItems": 1,
                              "uniqueItems": True, "description": desc}
        else:
            props[q["id"]] = {"enum": values, "description": desc}
    return {
        "type": "object",
        "description": "A configuration to check; generated from matrix/questions.yaml by `python -m checker compile`.",
        "properties": props,
        "required": [q["id"] for q in loaded.questions if q["required"]],
        "additionalProperties": False,
    }


def synced_schema(loaded: Loaded) -> str:
    """matrix/schema.json with its generated parts (field ids, the configuration) current."""
    schema = json.loads((loaded.root / "schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["field_id"] = {
        "description": "A configuration field; generated from matrix/questions.yaml.",
        "enum": [q["id"] for q in loaded.questions],
    }
    schema["$defs"]["configuration"] = configuration_schema(loaded)
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def outputs(loaded: Loaded, compiled: dict | None = None) -> dict[Path, str]:
    """Every file `compile` writes, with its expected text."""
    return {RULES_JSON: dumps(compiled or compile_rules(loaded)), loaded.root / "schema.json": synced_schema(loaded)}


def write_text_if_changed(path: Path, text: str) -> bool:
    """Write only a change, and atomically, so a reader never sees half a file
    (and a watching server does not rebuild for nothing)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def write_outputs(loaded: Loaded, texts: dict[Path, str] | None = None) -> list[Path]:
    """Write the compiled files that changed."""
    return [target for target, text in (texts or outputs(loaded)).items() if write_text_if_changed(target, text)]


def stale_outputs(loaded: Loaded) -> list[Path]:
    return [t for t, text in outputs(loaded).items()
            if not t.exists() or t.read_text(encoding="utf-8") != text]
