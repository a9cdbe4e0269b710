"""The rule engine: checks a configuration against the compiled matrix.

Standard library only, so the same module runs on CPython and in the browser
under Pyodide. The rules come from ``rules.json``, compiled from ``matrix/``;
this module interprets them and never executes anything taken from the data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources

# Imported here, not when first needed: the page restores a memory snapshot
# taken after this import, without the package's files.
from .inputs import MAX_BYTES, MAX_DEPTH, InputError, check_list_sizes, limits_for, load_json

__all__ = [
    "ConfigError",
    "Finding",
    "Matrix",
    "Problem",
    "Verdict",
    "evaluate",
    "evaluate_json",
    "fill_placeholders",
    "load_matrix",
    "use_rules",
]

# Worst first. "info" never decides the status (lifecycle notices and the like).
SEVERITY_RANK = {"unsupported": 4, "unknown": 3, "limited": 2, "supported": 1, "info": 0}
STATUSES = ("supported", "limited", "unsupported", "unknown")

_MISSING = object()
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    facts: tuple[str, ...]
    message: str
    remedy: str | None
    link: str

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "facts": list(self.facts),
            "message": self.message,
            "remedy": self.remedy,
            "link": self.link,
        }


@dataclass(frozen=True)
class Verdict:
    status: str
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict:
        return {"status": self.status, "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: which field, what was given, what is allowed."""

    field: str
    code: str
    given: str | None
    allowed: tuple[str, ...]
    message: str

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "code": self.code,
            "given": self.given,
            "allowed": list(self.allowed),
            "message": self.message,
        }


class ConfigError(ValueError):
    """The configuration is not one the contract allows; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


class Matrix:
    """The compiled rules and questions, ready to evaluate configurations."""

    def __init__(self, data: dict):
        self.data = data
        self.languages: tuple[str, ...] = tuple(data["languages"])
        self.default_language: str = data["default_language"]
        self.fields: dict[str, dict] = {f["id"]: f for f in data["fields"]}
        self.rules: list[dict] = data["rules"]
        self.strings: dict[str, dict[str, str]] = data["strings"]
        # Precomputed once, so an evaluation is lookups and small closures.
        self._allowed = {name: frozenset(_allowed(spec)) for name, spec in self.fields.items()}
        self._lists = frozenset(n for n, spec in self.fields.items() if spec["type"] == "multi")
        self._kinds = {name: (spec["type"], self._allowed[name]) for name, spec in self.fields.items()}
        self._labels = {
            lang: {name: {item["id"]: item["label"][lang] for item in spec["values"]}
                   for name, spec in self.fields.items()}
            for lang in self.languages
        }
        self._defaults = [
            (name, spec["type"] == "multi", spec["default"])
            for name, spec in self.fields.items()
            if not spec["required"] and spec.get("default") is not None
        ]
        self._required = [name for name, spec in self.fields.items() if spec["required"]]
        self._plans: dict[tuple, list] = {}
        self._findings: dict[tuple, Finding] = {}
        self._placeholders: dict[tuple, tuple] = {}

    # -- text ---------------------------------------------------------------
    def text(self, key: str, lang: str, **values: str) -> str:
        return fill_placeholders(self.strings[key][lang], values)

    def value_label(self, field: str, value, lang: str) -> str:
        key = _value_key(value)
        return self._labels[lang][field].get(key, key)

    # -- input --------------------------------------------------------------
    def parse(self, obj, lang: str) -> dict:
        """Return the configuration with defaults applied, or raise ConfigError."""
        problems: list[Problem] = []
        field_names = tuple(self.fields)
        if not isinstance(obj, dict):
            raise ConfigError(
                [self._problem("configuration", "not_mapping", lang, obj, field_names)]
            )
        config: dict = {}
        kinds = self._kinds
        for key, value in obj.items():
            spec = kinds.get(key) if type(key) is str else None
            if spec is None:
                problems.append(self._problem(str(key), "unknown_field", lang, None, field_names))
                continue
            kind, allowed = spec
            # The common, valid case first; anything else gets its precise problem.
            if kind == "choice":
                if type(value) is str and value in allowed:
                    config[key] = value
                    continue
            elif kind == "boolean":
                if type(value) is bool:
                    config[key] = value
                    continue
            elif (type(value) is list and value and len(set(map(str, value))) == len(value)
                  and all(type(v) is str and v in allowed for v in value)):
                config[key] = list(value)
                continue
            problems.append(self._check_value(key, value, lang))
        for name in self._required:
            if name not in obj:
                problems.append(self._problem(name, "required", lang, None, _allowed(self.fields[name])))
        for name, is_list, default in self._defaults:
            if name not in obj:
                config[name] = list(default) if is_list else default
        if problems:
            raise ConfigError(problems)
        return config

    def _check_value(self, name: str, value, lang: str) -> Problem | None:
        spec = self.fields[name]
        allowed = _allowed(spec)
        kind = spec["type"]
        if value is None:
            return self._problem(name, "null", lang, value, allowed)
        if kind == "boolean":
            if not isinstance(value, bool):
                return self._problem(name, "not_boolean", lang, value, allowed)
            return None
        if kind == "choice":
            if isinstance(value, (list, dict)):
                return self._problem(name, "not_single", lang, value, allowed)
            if not isinstance(value, str) or value not in allowed:
                return self._problem(name, "unknown_value", lang, value, allowed)
            return None
        # multi: a non-empty list of distinct allowed values
        if not isinstance(value, list):
            return self._problem(name, "not_list", lang, value, allowed)
        if not value:
            return self._problem(name, "empty_list", lang, value, allowed)
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                return self._problem(name, "unknown_value", lang, item, allowed)
        if len(set(value)) != len(value):
            return self._problem(name, "duplicate", lang, value, allowed)
        return None

    def _problem(self, field: str, code: str, lang: str, given, allowed) -> Problem:
        shown = None if code in ("unknown_field", "required") else _show(given)
        message = self.text(
            "error." + code,
            lang,
            field=field,
            given=shown if shown is not None else "",
            allowed=", ".join(allowed),
        )
        return Problem(field, code, shown, tuple(allowed), message)

    # -- evaluation ---------------------------------------------------------
    def evaluate(self, obj, lang: str | None = None) -> Verdict:
        lang = self._lang(lang)
        config = self.parse(obj, lang)
        always, by_field = self._plan(config["deployment"], config["email_system"])
        fired = [item for item in always if item[2](config)]
        for name in config:
            for item in by_field.get(name, ()):
                if item[2](config):
                    fired.append(item)
        fired.sort()  # severity first (worst first), then matrix order
        findings = tuple([
            fixed[lang] if fixed is not None else self._finding(rule, config, lang)
            for _order, rule, _test, fixed in fired
        ])
        # Worst first and "info" ranks last: the first finding decides, unless
        # there is none that decides (the matrix said nothing about this setup).
        status = findings[0].severity if findings else "unknown"
        return Verdict("unknown" if status == "info" else status, findings)

    def _plan(self, deployment: str, email_system: str):
        """The rules that can fire for this deployment and email system, each
        with its condition specialized to them and compiled to a closure, and
        filed under one field the condition needs stated (an anchor), so an
        evaluation only tests the rules whose anchor the configuration states."""
        key = (deployment, email_system)
        plan = self._plans.get(key)
        if plan is None:
            fixed = {"deployment": deployment, "email_system": email_system}
            always, by_field = [], {}
            for index, rule in enumerate(self.rules):
                cond = _specialize(rule["when"], fixed)
                if cond is False:
                    continue
                item = ((-SEVERITY_RANK[rule["severity"]], index), rule, _compile(cond, self._lists),
                        self._fixed_findings(rule, fixed))
                needed = sorted(_stated_by(cond)) if cond is not True else []
                if needed:
                    by_field.setdefault(needed[0], []).append(item)
                else:
                    always.append(item)
            plan = self._plans[key] = (always, by_field)
        return plan

    def _fixed_findings(self, rule: dict, fixed: dict):
        """A rule whose placeholders only name the plan's fixed fields gives the
        same finding every time: render it once per language (None otherwise)."""
        if not all(set(self._placeholder_names(rule, lang)) <= set(fixed) for lang in self.languages):
            return None
        return {lang: self._finding(rule, fixed, lang) for lang in self.languages}

    def _finding(self, rule: dict, config: dict, lang: str) -> Finding:
        """The finding a rule gives; its text depends only on the values its
        placeholders name, so each distinct one is rendered once and reused."""
        names = self._placeholder_names(rule, lang)
        key = (rule["id"], lang, *[_hashable(config.get(n)) for n in names])
        finding = self._findings.get(key)
        if finding is None:
            fill = {n: self._label_of(n, config[n], lang) for n in names if n in config}
            remedy = rule.get("remedy")
            finding = self._findings[key] = Finding(
                rule=rule["id"],
                severity=rule["severity"],
                facts=tuple(rule["facts"]),
                message=fill_placeholders(rule["message"][lang], fill),
                remedy=fill_placeholders(remedy[lang], fill) if remedy else None,
                link=rule["link"][lang],
            )
        return finding

    def _placeholder_names(self, rule: dict, lang: str) -> tuple[str, ...]:
        """The fields a rule's message and remedy name in one language."""
        names = self._placeholders.get((rule["id"], lang))
        if names is None:
            texts = rule["message"][lang] + (rule["remedy"][lang] if rule.get("remedy") else "")
            names = self._placeholders[rule["id"], lang] = tuple(sorted(set(_PLACEHOLDER.findall(texts))))
        return names

    def _label_of(self, name: str, value, lang: str) -> str:
        if isinstance(value, list):
            return ", ".join(self.value_label(name, v, lang) for v in value)
        return self.value_label(name, value, lang)

    def _lang(self, lang: str | None) -> str:
        if lang is None:
            return self.default_language
        if lang not in self.languages:
            raise ConfigError(
                [
                    Problem(
                        "lang",
                        "unknown_language",
                        _show(lang),
                        self.languages,
                        self.text(
                            "error.unknown_language",
                            self.default_language,
                            given=_show(lang),
                            allowed=", ".join(self.languages),
                        ),
                    )
                ]
            )
        return lang


def _holds(cond: dict, config: dict) -> bool:
    """Interpret one condition. A field that is not stated never satisfies
    ``in``/``not_in``: rules do not fire on a guess."""
    if "all" in cond:
        return all(_holds(c, config) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, config) for c in cond["any"])
    value = config.get(cond["field"], _MISSING)
    if "absent" in cond:
        return value is _MISSING
    if value is _MISSING:
        return False
    items = value if isinstance(value, list) else [value]
    if "in" in cond:
        return any(_same(item, cond["in"]) for item in items)
    return any(not _same(item, cond["not_in"]) for item in items)


def _specialize(cond: dict, fixed: dict):
    """Partially evaluate a condition for known field values: True, False, or
    what is left to test."""
    if "all" in cond or "any" in cond:
        is_all = "all" in cond
        rest = []
        for sub in cond["all" if is_all else "any"]:
            part = _specialize(sub, fixed)
            if part is (not is_all):  # False in an all, True in an any: decided
                return part
            if part is not is_all:    # undecided: keep it
                rest.append(part)
        if not rest:
            return is_all
        return rest[0] if len(rest) == 1 else {"all" if is_all else "any": rest}
    if cond["field"] in fixed:
        return _holds(cond, fixed)
    return cond


def _stated_by(cond: dict) -> set:
    """Fields that are certainly stated whenever the condition holds."""
    if "all" in cond:
        return set().union(*(_stated_by(c) for c in cond["all"]))
    if "any" in cond:
        return set.intersection(*(_stated_by(c) for c in cond["any"]))
    return set() if "absent" in cond else {cond["field"]}


def _compile(cond, lists: frozenset):
    """A closure that tests a specialized condition on a validated configuration
    (values there have the field's type, so set membership is exact). `lists`
    names the fields whose value is a list."""
    if cond is True:
        return _always
    if "all" in cond or "any" in cond:
        parts = [_compile(c, lists) for c in cond.get("all") or cond["any"]]
        join = _both if "all" in cond else _either
        test = parts[0]
        for part in parts[1:]:
            test = join(test, part)
        return test
    field = cond["field"]
    if "absent" in cond:
        return lambda config: field not in config
    if field in lists:
        if "in" in cond:
            values = frozenset(cond["in"])
            return lambda config: any(v in values for v in config.get(field, ()))
        values = frozenset(cond["not_in"])
        return lambda config: any(v not in values for v in config.get(field, ()))
    if "in" in cond:
        values = frozenset(cond["in"])
        return lambda config: config.get(field, _MISSING) in values
    values = frozenset(cond["not_in"]) | {_MISSING}
    return lambda config: config.get(field, _MISSING) not in values


def _always(config) -> bool:
    return True


def _both(a, b):
    return lambda config: a(config) and b(config)


def _either(a, b):
    return lambda config: a(config) or b(config)


def _same(item, values: list) -> bool:
    # Compare with types: True must not match 1, nor "true" match True.
    return any(type(item) is type(v) and item == v for v in values)


def fill_placeholders(template: str, values: dict[str, str]) -> str:
    """Put each value in place of its ``{name}``, in one pass: a value that
    itself looks like ``{name}`` (text a user typed) is never expanded; other
    braces stay as they are."""
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _allowed(spec: dict) -> tuple[str, ...]:
    return tuple(item["id"] for item in spec["values"])


def _hashable(value):
    return tuple(value) if type(value) is list else value


def _value_key(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(value) -> str:
    """A short, plain-text rendering of what the user gave (never markup)."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_current: Matrix | None = None


def load_matrix() -> Matrix:
    """The rules in use: those packed with this package (``checker/rules.json``)
    unless ``use_rules`` gave others."""
    global _current
    if _current is None:
        raw = resources.files(__package__).joinpath("rules.json").read_text(encoding="utf-8")
        _current = Matrix(json.loads(raw))
    return _current


def use_rules(text: str) -> None:
    """Evaluate with these compiled rules from now on. The site serves its
    current rules beside the wheel, so an edit to the matrix needs no new wheel."""
    global _current
    _current = Matrix(json.loads(text))


def evaluate(config, lang: str | None = None, matrix: Matrix | None = None) -> Verdict:
    """Evaluate a configuration (a mapping); raises ConfigError on bad input."""
    return (matrix or load_matrix()).evaluate(config, lang)


def evaluate_json(request: str) -> str:
    """JSON in, JSON out: the browser's entry point.

    ``request`` is ``{"config": {...}, "lang": "en"}``; the answer is the
    verdict as the contract defines it, or ``{"errors": [...]}``. The request
    is read within the same bounds as the command line's input (size, depth,
    entries, duplicate keys: see checker.inputs).
    """
    matrix = load_matrix()
    lang = matrix.default_language
    try:
        if not isinstance(request, str):
            raise InputError("bad_json")
        if len(request) > MAX_BYTES:
            raise InputError("too_large", None, limit=f"{MAX_BYTES // (1024 * 1024)} MB")
        max_items, sizes = limits_for(matrix.fields)
        # The request wraps the configuration in one more mapping.
        payload = load_json(request, max_depth=MAX_DEPTH + 1, max_items=max_items)
        if isinstance(payload, dict) and isinstance(payload.get("lang"), str) and payload["lang"] in matrix.languages:
            lang = payload["lang"]
        check_list_sizes(payload.get("config") if isinstance(payload, dict) else payload, sizes)
    except InputError as exc:
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and isinstance(data.get("lang"), str) and data["lang"] in matrix.languages:
            lang = data["lang"]
        # The parser's own wording differs between Python versions; ours does not.
        code = "bad_json" if exc.code == "invalid_json" else exc.code
        message = matrix.text("error." + code, lang, **exc.values)
        field = exc.values.get("field", "request")
        problem = Problem(field, code, None, (), message)
        return json.dumps({"errors": [problem.to_dict()]}, ensure_ascii=False)
    if not isinstance(payload, dict):
        payload = {"config": payload}
    lang = payload.get("lang")
    try:
        verdict = matrix.evaluate(payload.get("config"), lang if isinstance(lang, str) else None)
    except ConfigError as exc:
        return json.dumps({"errors": [p.to_dict() for p in exc.problems]}, ensure_ascii=False)
    return verdict_json(verdict)


_finding_json: dict[Finding, str] = {}


def verdict_json(verdict: Verdict) -> str:
    """``json.dumps(verdict.to_dict(), ensure_ascii=False)``, with each finding
    serialized once: findings repeat across evaluations, their text is long."""
    parts = []
    for finding in verdict.findings:
        text = _finding_json.get(finding)
        if text is None:
            text = _finding_json[finding] = json.dumps(finding.to_dict(), ensure_ascii=False)
        parts.append(text)
    return '{"status": ' + json.dumps(verdict.status) + ', "findings": [' + ", ".join(parts) + "]}"
