"""The rule engine: checks a configuration against the compiled matrix.

Standard library only, so the same module runs on CPython and in the browser
under Pyodide. The rules come from ``rules.json``, compiled from ``matrix/``;
this module interprets them and never executes anything taken from the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = [
    "ConfigError",
    "Finding",
    "Matrix",
    "Problem",
    "Verdict",
    "evaluate",
    "evaluate_json",
    "load_matrix",
]

# Worst first. "info" never decides the status (lifecycle notices and the like).
SEVERITY_RANK = {"unsupported": 4, "unknown": 3, "limited": 2, "supported": 1, "info": 0}
STATUSES = ("supported", "limited", "unsupported", "unknown")

_MISSING = object()


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

    # -- text ---------------------------------------------------------------
    def text(self, key: str, lang: str, **values: str) -> str:
        template = self.strings[key][lang]
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template

    def value_label(self, field: str, value, lang: str) -> str:
        spec = self.fields[field]
        key = _value_key(value)
        for item in spec["values"]:
            if item["id"] == key:
                return item["label"][lang]
        return key

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
        for key, value in obj.items():
            if not isinstance(key, str) or key not in self.fields:
                problems.append(self._problem(str(key), "unknown_field", lang, None, field_names))
                continue
            problem = self._check_value(key, value, lang)
            if problem is None:
                config[key] = list(value) if isinstance(value, list) else value
            else:
                problems.append(problem)
        for name, spec in self.fields.items():
            if name in obj:
                continue
            if spec["required"]:
                problems.append(
                    self._problem(name, "required", lang, None, _allowed(spec))
                )
            elif spec.get("default") is not None:
                config[name] = list(spec["default"]) if spec["type"] == "multi" else spec["default"]
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
        findings = [
            self._finding(rule, config, lang)
            for rule in self.rules
            if _holds(rule["when"], config)
        ]
        findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])  # stable: matrix order kept
        deciding = [f.severity for f in findings if f.severity != "info"]
        # No deciding finding means the matrix said nothing about this setup.
        status = max(deciding, key=SEVERITY_RANK.__getitem__) if deciding else "unknown"
        return Verdict(status, tuple(findings))

    def _finding(self, rule: dict, config: dict, lang: str) -> Finding:
        fill = {
            name: self._label_of(name, value, lang) for name, value in config.items()
        }
        remedy = rule.get("remedy")
        return Finding(
            rule=rule["id"],
            severity=rule["severity"],
            facts=tuple(rule["facts"]),
            message=_fill(rule["message"][lang], fill),
            remedy=_fill(remedy[lang], fill) if remedy else None,
            link=rule["link"][lang],
        )

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


def _same(item, values: list) -> bool:
    # Compare with types: True must not match 1, nor "true" match True.
    return any(type(item) is type(v) and item == v for v in values)


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _allowed(spec: dict) -> tuple[str, ...]:
    return tuple(item["id"] for item in spec["values"])


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


@lru_cache(maxsize=1)
def load_matrix() -> Matrix:
    """The matrix packed with this package (``checker/rules.json``)."""
    raw = resources.files(__package__).joinpath("rules.json").read_text(encoding="utf-8")
    return Matrix(json.loads(raw))


def evaluate(config, lang: str | None = None, matrix: Matrix | None = None) -> Verdict:
    """Evaluate a configuration (a mapping); raises ConfigError on bad input."""
    return (matrix or load_matrix()).evaluate(config, lang)


def evaluate_json(request: str) -> str:
    """JSON in, JSON out: the browser's entry point.

    ``request`` is ``{"config": {...}, "lang": "en"}``; the answer is the
    verdict as the contract defines it, or ``{"errors": [...]}``.
    """
    matrix = load_matrix()
    try:
        payload = json.loads(request)
    except ValueError:
        # The parser's own wording differs between Python versions; ours does not.
        message = matrix.text("error.bad_json", matrix.default_language)
        problem = Problem("request", "bad_json", None, (), message)
        return json.dumps({"errors": [problem.to_dict()]}, ensure_ascii=False)
    if not isinstance(payload, dict):
        payload = {"config": payload}
    lang = payload.get("lang")
    try:
        verdict = matrix.evaluate(payload.get("config"), lang if isinstance(lang, str) else None)
    except ConfigError as exc:
        return json.dumps({"errors": [p.to_dict() for p in exc.problems]}, ensure_ascii=False)
    return json.dumps(verdict.to_dict(), ensure_ascii=False)
