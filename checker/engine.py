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
    "OpenQuestion",
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
# `{field}`, or `{de:field}`: the value with a pt-BR preposition and its article
# ("do Exchange Server 2016"); a capital letter starts the sentence ("Com o Gmail").
_PLACEHOLDER = re.compile(r"\{(?:([A-Za-z]+):)?([a-z0-9_]+)\}")
# Preposition + article, as pt-BR contracts them.
_CONTRACTIONS = {
    "o": {"o": "o", "a": "a", "os": "os", "as": "as"},
    "de": {"o": "do", "a": "da", "os": "dos", "as": "das"},
    "em": {"o": "no", "a": "na", "os": "nos", "as": "nas"},
    "a": {"o": "ao", "a": "à", "os": "aos", "as": "às"},
    "por": {"o": "pelo", "a": "pela", "os": "pelos", "as": "pelas"},
    "com": {"o": "com o", "a": "com a", "os": "com os", "as": "com as"},
    "para": {"o": "para o", "a": "para a", "os": "para os", "as": "para as"},
}
PREPOSITIONS = tuple(_CONTRACTIONS)
# How far an open question's outcome reaches: worse first.
_OPEN_RANK = {"unsupported": 3, "unknown": 2, "limited": 1, "supported": 0}
_STATUS_OF_RANK = {4: "unsupported", 3: "unknown", 2: "limited", 1: "supported"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    facts: tuple[str, ...]
    message: str
    remedy: str | None
    link: str
    # The change of answers the remedy asks for, as (field, value) pairs (a
    # list value as a tuple), or None when the remedy is not a change of answers.
    fix: tuple | None = None
    # "fact": the remedy follows from the cited facts; "project": our own suggestion.
    remedy_source: str | None = None
    # A finding that applies for some values of a field left unstated, found
    # because every value of that field gives the same status (entailment):
    # ((field, (value, ...)),); None for a finding of the answers as given.
    applies_if: tuple | None = None
    # What the fix takes away from the answers given: ((field, (value, ...)),),
    # a sync item asked for that the fix does not keep; None when nothing.
    drops: tuple | None = None

    def fix_dict(self) -> dict | None:
        if self.fix is None:
            return None
        return {name: list(value) if type(value) is tuple else value for name, value in self.fix}

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "facts": list(self.facts),
            "message": self.message,
            "remedy": self.remedy,
            "remedy_source": self.remedy_source,
            "fix": self.fix_dict(),
            "link": self.link,
            "fix_drops": None if self.drops is None else [
                {"field": name, "values": list(values)} for name, values in self.drops],
            "applies_if": None if self.applies_if is None else [
                {"field": name, "values": [_value_key(v) for v in values]} for name, values in self.applies_if],
        }


@dataclass(frozen=True)
class OpenQuestion:
    """An unstated field whose answer would change the status: each value's status."""

    field: str
    outcomes: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict:
        return {"field": self.field, "outcomes": dict(self.outcomes)}


@dataclass(frozen=True)
class Verdict:
    status: str
    findings: tuple[Finding, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    # Answers that follow from others: ((field, value, by, by_value), ...), in field order.
    implied: tuple = ()

    def implied_list(self) -> list[dict]:
        return [{"field": f, "value": _value_key(v), "by": by, "by_value": _value_key(bv)}
                for f, v, by, bv in self.implied]

    def holds_if(self) -> list[dict]:
        """Under which answers the status holds: for each open question, in its
        order (the one that could make things worst first), the values that keep it."""
        return [{"field": q.field, "values": [v for v, s in q.outcomes if s == self.status]}
                for q in self.open_questions]

    def worse_if(self) -> list[dict]:
        """What would make it worse: each open question's values that give a worse
        status, grouped by that status, worst first."""
        rank = _OPEN_RANK[self.status]
        out = []
        for q in self.open_questions:
            for status in ("unsupported", "unknown", "limited"):
                if _OPEN_RANK[status] > rank:
                    values = [v for v, s in q.outcomes if s == status]
                    if values:
                        out.append({"field": q.field, "values": values, "status": status})
        return out

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "findings": [f.to_dict() for f in self.findings],
            "open_questions": [q.to_dict() for q in self.open_questions],
            "holds_if": self.holds_if(),
            "worse_if": self.worse_if(),
            "implied": self.implied_list(),
        }


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
        # How a value reads inside a sentence, and its pt-BR article.
        self._phrases = {
            lang: {name: {item["id"]: (item.get("phrase") or item["label"])[lang] for item in spec["values"]}
                   for name, spec in self.fields.items()}
            for lang in self.languages
        }
        self._articles = {
            name: {item["id"]: item["article"] for item in spec["values"] if "article" in item}
            for name, spec in self.fields.items()
        }
        # What one answer says of another (see tooling.matrix.implications):
        # (field, by, {by value: allowed values}, {by value: the implied value}).
        self._implied = [
            (item["field"], item["by"], {k: tuple(v) for k, v in item["allowed"].items()}, item["implied"])
            for item in data.get("implications", ())
        ]
        # The fields whose answer implies another's: trying one of their values
        # as an open question evaluates the whole configuration it completes.
        self._implies = frozenset(by for _f, by, _a, _i in self._implied)
        self._implied_cache: dict = {}
        self._checks: dict = {}
        # The fields an open question can be about, with the values to try.
        self._open = [
            (name, [v == "true" for v in self._allowed_order(spec)] if spec["type"] == "boolean"
             else self._allowed_order(spec))
            for name, spec in self.fields.items()
            if not spec["required"] and spec["type"] != "multi"
        ]
        self._defaults = [
            (name, spec["type"] == "multi", spec["default"])
            for name, spec in self.fields.items()
            if not spec["required"] and spec.get("default") is not None
        ]
        self._required = [name for name, spec in self.fields.items() if spec["required"]]
        self._plans: dict[tuple, list] = {}
        self._findings: dict[tuple, Finding] = {}
        self._placeholders: dict[tuple, tuple] = {}

    @staticmethod
    def _allowed_order(spec: dict) -> list:
        return [item["id"] for item in spec["values"]]

    # -- text ---------------------------------------------------------------
    def text(self, key: str, lang: str, **values: str) -> str:
        return fill_placeholders(self.strings[key][lang], values)

    def value_label(self, field: str, value, lang: str) -> str:
        key = _value_key(value)
        return self._labels[lang][field].get(key, key)

    # -- input --------------------------------------------------------------
    def parse(self, obj, lang: str) -> dict:
        """Return the configuration with defaults and implied answers applied,
        or raise ConfigError."""
        return self._parse(obj, lang)[0]

    def _parse(self, obj, lang: str) -> tuple[dict, tuple]:
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
        implied = []
        for name, by, allowed_by, implied_by in self._implied:
            if by not in config or name in problem_fields(problems):
                continue  # the field it follows from is missing or wrong: reported above
            allowed = allowed_by.get(config[by])
            if allowed is None:
                continue  # this answer says nothing of that field
            if name not in config:
                value = implied_by.get(config[by])
                if value is not None:
                    config[name] = value
                    implied.append((name, value, by, config[by]))
            elif config[name] not in allowed:
                fits = [v for v in self._allowed_order(self.fields[name]) if v in allowed]
                problem = self._problem(
                    name, "conflict", lang, config[name], fits,
                    given_label=self.value_label(name, config[name], lang),
                    by=by, by_value=self.value_label(by, config[by], lang))
                hint = self.strings.get(f"error.conflict_hint.{name}.{config[name].replace('-', '_')}")
                if hint:
                    problem = Problem(problem.field, problem.code, problem.given, problem.allowed,
                                      problem.message + " " + fill_placeholders(hint[lang], {}))
                problems.append(problem)
        if problems:
            raise ConfigError(problems)
        order = list(self.fields)
        implied.sort(key=lambda item: order.index(item[0]))
        return config, tuple(implied)

    def _conflicts(self, name: str, value, config: dict) -> bool:
        """Would stating this value contradict an answer it follows from, or an
        answer that follows from it?"""
        for field, by, allowed_by, _implied in self._implied:
            if field == name and by in config:
                allowed = allowed_by.get(config[by])
                if allowed is not None and value not in allowed:
                    return True
            elif by == name and field in config:
                allowed = allowed_by.get(value)
                if allowed is not None and config[field] not in allowed:
                    return True
        return False

    def _implied_by(self, name: str, value) -> list:
        """The (field, value) pairs an answer implies."""
        key = (name, value)
        found = self._implied_cache.get(key)
        if found is None:
            found = self._implied_cache[key] = [
                (field, implied_by[value]) for field, by, _a, implied_by in self._implied
                if by == name and implied_by.get(value) is not None]
        return found

    def _complete(self, config: dict, name: str, value) -> dict:
        """``config`` with one more answer and what it implies of fields left out."""
        trial = dict(config)
        trial[name] = value
        for field, by, _allowed, implied_by in self._implied:
            if by == name and field not in trial:
                implied = implied_by.get(value)
                if implied is not None:
                    trial[field] = implied
        return trial

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

    def _problem(self, field: str, code: str, lang: str, given, allowed, **more: str) -> Problem:
        shown = None if code in ("unknown_field", "required") else _show(given)
        message = self.text(
            "error." + code,
            lang,
            field=field,
            given=shown if shown is not None else "",
            allowed=", ".join(allowed),
            **more,
        )
        return Problem(field, code, shown, tuple(allowed), message)

    # -- evaluation ---------------------------------------------------------
    def evaluate(self, obj, lang: str | None = None, open_questions: bool = True) -> Verdict:
        """The verdict on a configuration. A field left unstated whose every value
        gives the same status decides the status (it is entailed): the verdict
        then carries the findings each value gives, marked with the values they
        apply to, and the field is not open. ``open_questions=False`` skips both
        (the status is then what the answers as given fire)."""
        lang = self._lang(lang)
        config, implied = self._parse(obj, lang)
        fired = self._fired(config)
        stated = {name: value for name, value in config.items()} if not implied else {
            name: value for name, value in config.items() if name not in {i[0] for i in implied}}
        # A fix that must also change another answer (a profile for the protocols
        # it sets) takes the value another finding's fix gives, so they agree.
        hints = {}
        if self._implied:
            for item in fired:
                fix = item[4]
                fix = _choose_fix(fix, config) if type(fix) is list else fix
                for name, _value in fix or ():
                    hints.setdefault(name, fix)
        findings = [self._render(item, config, lang, stated, hints) for item in fired]
        # Worst first and "info" ranks last: the first finding decides, unless
        # there is none that decides (the matrix said nothing about this setup).
        status = findings[0].severity if findings else "unknown"
        status = "unknown" if status == "info" else status
        questions = ()
        if open_questions:
            questions = self._open_questions(config, status, fired)
            rank = _OPEN_RANK[status]
            entailed = [q for q in questions if min(_OPEN_RANK[s] for _v, s in q.outcomes) > rank]
            if entailed:
                status, findings, questions = self._entail(config, stated, lang, status, findings,
                                                           questions, entailed)
        return Verdict(status, tuple(findings), questions, implied)

    def _render(self, item, config: dict, lang: str, stated: dict, hints=None) -> Finding:
        _order, rule, _test, fixed, fix = item
        if type(fix) is list:
            fix = _choose_fix(fix, config)
        if fix is not None and self._implied:
            settled = self._settle(fix, stated, hints or {})
            if settled is not fix:
                fixed, fix = None, settled
        finding = fixed[lang] if fixed is not None else self._finding(rule, config, lang, fix)
        if fix is not None:
            drops = tuple((name, tuple(v for v in stated[name] if v not in value))
                          for name, value in fix if name in self._lists and name in stated
                          and any(v not in value for v in stated[name]))
            if drops:
                if finding.remedy is not None and "remedy.drops" in self.strings and not any(
                        name in (r[0] for r in (_choose_fix(item[4], config) if type(item[4]) is list else item[4]) or ())
                        for name, _values in drops):
                    # taken over from another finding's fix: say it here too
                    dropped = "; ".join(", ".join(self.value_label(n, v, lang) for v in values)
                                        for n, values in drops)
                    remedy = finding.remedy + " " + self.text(
                        "remedy.drops", lang, values=dropped[:1].lower() + dropped[1:])
                    return _replace(finding, drops=drops, remedy=remedy)
                return _replace(finding, drops=drops)
        return finding

    def _settle(self, fix: tuple, stated: dict, hints: dict) -> tuple:
        """The fix, with what it needs so that applied to the answers given it is
        no contradiction: a profile that fits the protocols it sets, protocols
        that fit the profile it sets. The same tuple when it needs nothing."""
        changes = dict(fix)
        more = {}
        for field, by, allowed_by, implied_by in self._implied:
            if field in changes and by in stated and by not in changes:
                allowed = allowed_by.get(stated[by])
                if allowed is not None and changes[field] not in allowed:
                    other = dict(hints.get(by) or ())
                    hint = other.get(by)
                    if hint is not None and hint != stated[by]:
                        # another fix changes `by`: this one follows it, whole
                        if implied_by.get(hint) is not None and changes[field] not in allowed_by.get(hint, (changes[field],)):
                            more[field] = implied_by[hint]
                        more.update((k, v) for k, v in other.items() if k not in changes and k not in more)
                    more[by] = self._fitting(by, {**changes, **more}, stated, hint)
            elif by in changes and field in stated and field not in changes:
                allowed = allowed_by.get(changes[by])
                if allowed is not None and stated[field] not in allowed:
                    more[field] = implied_by.get(changes[by], allowed[0])
        if not more:
            return fix
        changes.update((k, v) for k, v in more.items() if v is not None)
        return tuple(sorted(changes.items()))

    def _fitting(self, by: str, changes: dict, stated: dict, hint=None):
        """The value of `by` that fits every answer the fix sets and gives the best
        status with them (the first such value, in the question's order); the
        hint (another fix's value) first."""
        best, best_rank = None, 99
        values = self._open_values(by)
        for value in ([hint] if hint in values else []) + values:
            if any(f in changes and allowed_by.get(value) is not None and changes[f] not in allowed_by[value]
                   for f, b, allowed_by, _i in self._implied if b == by):
                continue
            trial = {**stated, **{k: list(v) if type(v) is tuple else v for k, v in changes.items()}, by: value}
            try:
                rank = _OPEN_RANK[self.status_of(self.parse(trial, self.default_language))]
            except ConfigError:
                continue
            if rank < best_rank:
                best, best_rank = value, rank
        return best

    def _entail(self, config, stated, lang, status, findings, questions, entailed):
        """An open question whose every answer gives a status worse than the
        answers' own: the best of those statuses holds whatever the answer, and
        the worst such bound over the questions is the verdict's status. Its
        findings are those the values giving that bound fire beyond the answers
        given, at that status, marked with those values. A question whose values
        all give one status is then settled (not open); every other keeps the
        outcomes at least as bad as the new status (stating it cannot undo what
        every answer to the entailed field gives)."""
        new_rank = max(min(_OPEN_RANK[s] for _v, s in q.outcomes) for q in entailed)
        new_status = next(s for s, r in _OPEN_RANK.items() if r == new_rank)
        have = {f.rule for f in findings}
        extra: dict = {}   # rule id -> (sort key, finding, field, [values])
        for question in entailed:
            level = min((s for _v, s in question.outcomes), key=_OPEN_RANK.get)
            if _OPEN_RANK[level] != new_rank:
                continue  # a weaker bound: the stronger one's findings say it
            keys = {v for v, s in question.outcomes if s == level}
            values = [v for v in self._open_values(question.field) if _value_key(v) in keys]
            for value in values:
                trial = self._complete(config, question.field, value)
                for item in self._fired(trial):
                    rule = item[1]
                    if rule["id"] in have or rule["severity"] != level:
                        continue
                    known = extra.get(rule["id"])
                    if known is None or known[2] != question.field:
                        extra[rule["id"]] = (item[0], self._render(item, trial, lang, stated), question.field, [value])
                    else:
                        known[3].append(value)
        added = sorted(extra.values(), key=lambda e: e[0])
        entailed_fields = {q.field for q in entailed if len({s for _v, s in q.outcomes}) == 1}
        added_findings = [_replace_applies(finding, ((name, tuple(values)),))
                          for _key, finding, name, values in added]
        ranked = sorted([(_finding_key(f), i, f) for i, f in enumerate(findings)]
                        + [(_finding_key(f), len(findings) + i, f) for i, f in enumerate(added_findings)])
        merged = [f for _k, _i, f in ranked]
        kept = []
        for question in questions:
            if question.field in entailed_fields:
                continue
            outcomes = tuple((v, s if _OPEN_RANK[s] >= new_rank else new_status) for v, s in question.outcomes)
            if any(s != new_status for _v, s in outcomes):
                kept.append(OpenQuestion(question.field, outcomes))
        return new_status, merged, tuple(kept)

    def _open_values(self, name: str) -> list:
        for field, values in self._open:
            if field == name:
                return values
        return []

    def _fired(self, config: dict) -> list:
        always, by_field, _read, _readers, _reads = self._plan(config["deployment"], config["email_system"])
        fired = [item for item in always if item[2](config)]
        for name in config:
            for item in by_field.get(name, ()):
                if item[2](config):
                    fired.append(item)
        fired.sort()  # severity first (worst first), then matrix order
        return fired

    def status_of(self, config: dict) -> str:
        """The status alone, for a configuration ``parse`` has accepted."""
        fired = self._fired(config)
        status = fired[0][1]["severity"] if fired else "unknown"
        return "unknown" if status == "info" else status

    def _open_questions(self, config: dict, status: str, fired: list) -> tuple:
        """For each field left unstated that some rule of this setup reads, the
        status each of its values would give, when any differs from ``status``;
        the field whose answer could make things worst comes first.

        Stating one more field only changes the rules that read it: the others
        keep what they gave, so each value tests just those rules."""
        _always, _by_field, read, readers, reads = self._plan(config["deployment"], config["email_system"])
        kept = [(-item[0][0], reads[item[1]["id"]]) for item in fired]
        found = []
        trial = dict(config)
        for position, (name, values) in enumerate(self._open):
            if name in config or name not in read:
                continue
            base = max((rank for rank, reads in kept if name not in reads), default=-1)
            tests = readers[name]
            whole = name in self._implies
            outcomes, worst, changed = [], -1, 0
            for value in values:
                if self._conflicts(name, value, config):
                    continue
                more = ()
                if whole:
                    # what the answer implies changes the rules that read those fields too
                    more = [(f, v) for f, v in self._implied_by(name, value) if f not in config]
                if more:
                    moved = frozenset((name, *(f for f, _v in more)))
                    best = max((rank for rank, reads in kept if not (reads & moved)), default=-1)
                    ckey = (config["deployment"], config["email_system"], moved)
                    checks = self._checks.get(ckey)
                    if checks is None:
                        # each rule once, the worst first
                        seen, checks = set(), []
                        for f in moved:
                            for item in readers.get(f, ()):
                                if id(item[1]) not in seen:
                                    seen.add(id(item[1]))
                                    checks.append(item)
                        checks.sort(key=lambda item: -item[0])
                        checks = self._checks[ckey] = tuple(checks)
                    for f, v in more:
                        trial[f] = v
                else:
                    best, checks = base, tests
                trial[name] = value
                for rank, test in checks:
                    if rank > best and test(trial):
                        best = rank
                for f, _v in more:
                    del trial[f]
                outcome = _STATUS_OF_RANK.get(best, "unknown")
                outcomes.append((_value_key(value), outcome))
                if outcome != status:
                    changed += 1
                    worst = max(worst, _OPEN_RANK[outcome])
            trial.pop(name, None)
            if changed:
                found.append(((-worst, -changed, position), OpenQuestion(name, tuple(outcomes))))
        found.sort(key=lambda item: item[0])
        return tuple(question for _key, question in found)

    def _plan(self, deployment: str, email_system: str):
        """The rules that can fire for this deployment and email system, each
        with its condition specialized to them and compiled to a closure, and
        filed under one field the condition needs stated (an anchor), so an
        evaluation only tests the rules whose anchor the configuration states."""
        key = (deployment, email_system)
        plan = self._plans.get(key)
        if plan is None:
            fixed = {"deployment": deployment, "email_system": email_system}
            always, by_field, read = [], {}, set()
            readers: dict = {}   # field -> (rank, test) of each rule that reads it
            reads: dict = {}     # rule id -> the fields its condition reads here
            for index, rule in enumerate(self.rules):
                cond = _specialize(rule["when"], fixed)
                if cond is False:
                    continue
                fix = _resolve_fix(rule.get("fix"), fixed)
                item = ((-SEVERITY_RANK[rule["severity"]], index), rule, _compile(cond, self._lists),
                        self._fixed_findings(rule, fixed, fix), fix)
                fields = frozenset(_fields_of(cond)) if cond is not True else frozenset()
                read |= fields
                reads[rule["id"]] = fields
                for name in fields:
                    readers.setdefault(name, []).append((SEVERITY_RANK[rule["severity"]], item[2]))
                needed = sorted(_stated_by(cond)) if cond is not True else []
                if needed:
                    by_field.setdefault(needed[0], []).append(item)
                else:
                    always.append(item)
            plan = self._plans[key] = (always, by_field, frozenset(read), readers, reads)
        return plan

    def _fixed_findings(self, rule: dict, fixed: dict, fix):
        """A rule whose placeholders only name the plan's fixed fields gives the
        same finding every time: render it once per language (None otherwise)."""
        if type(fix) is list or not all(
                set(self._placeholder_names(rule, lang)) <= set(fixed) for lang in self.languages):
            return None
        return {lang: self._finding(rule, fixed, lang, fix) for lang in self.languages}

    def _finding(self, rule: dict, config: dict, lang: str, fix=None) -> Finding:
        """The finding a rule gives; its text depends only on the values its
        placeholders name, so each distinct one is rendered once and reused."""
        names = self._placeholder_names(rule, lang)
        key = (rule["id"], lang, fix, *[_hashable(config.get(n)) for n in names])
        finding = self._findings.get(key)
        if finding is None:
            fill = {n: self._label_of(n, config[n], lang) for n in names if n in config}
            articles = {n: self._articles[n].get(config[n]) for n in names
                        if n in config and type(config[n]) is str}
            remedy = rule.get("remedy")
            finding = self._findings[key] = Finding(
                rule=rule["id"],
                severity=rule["severity"],
                facts=tuple(rule["facts"]),
                message=fill_placeholders(rule["message"][lang], fill, articles),
                remedy=fill_placeholders(remedy[lang], fill, articles) if remedy else None,
                link=rule["link"][lang],
                fix=fix,
                remedy_source=rule.get("remedy_source") if remedy else None,
            )
        return finding

    def _placeholder_names(self, rule: dict, lang: str) -> tuple[str, ...]:
        """The fields a rule's message and remedy name in one language."""
        names = self._placeholders.get((rule["id"], lang))
        if names is None:
            texts = rule["message"][lang] + (rule["remedy"][lang] if rule.get("remedy") else "")
            found = {name for _prep, name in _PLACEHOLDER.findall(texts)}
            names = self._placeholders[rule["id"], lang] = tuple(sorted(found))
        return names

    def _label_of(self, name: str, value, lang: str) -> str:
        """A value as it reads inside a sentence."""
        phrases = self._phrases[lang][name]
        if isinstance(value, list):
            return ", ".join(phrases.get(v, v) for v in value)
        key = _value_key(value)
        return phrases.get(key, key)

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


def problem_fields(problems) -> set:
    return {p.field for p in problems}


def _finding_key(finding: Finding) -> int:
    return -SEVERITY_RANK[finding.severity]


def _replace(finding: Finding, **changes) -> Finding:
    values = {name: getattr(finding, name) for name in Finding.__dataclass_fields__}
    values.update(changes)
    return Finding(**values)


def _replace_applies(finding: Finding, applies_if: tuple) -> Finding:
    return _replace(finding, applies_if=applies_if)


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


def _fields_of(cond: dict) -> set:
    """Every field a condition reads."""
    if "all" in cond or "any" in cond:
        return set().union(*(_fields_of(c) for c in cond.get("all") or cond["any"]))
    return {cond["field"]}


def _resolve_fix(options, fixed: dict):
    """The fix of a rule for one deployment and email system: a tuple of
    (field, value) pairs when it is decided by them, None when the rule has no
    fix, or a list of (condition, fix) to choose from per configuration."""
    choices = []
    for option in options or ():
        cond = _specialize(option["when"], fixed) if "when" in option else True
        if cond is False:
            continue
        fix = tuple((name, tuple(value) if type(value) is list else value)
                    for name, value in sorted(option["set"].items()))
        if cond is True and not choices:
            return fix
        choices.append((cond, fix))
        if cond is True:
            break
    return choices or None


def _choose_fix(choices: list, config: dict):
    for cond, fix in choices:
        if cond is True or _holds(cond, config):
            return fix
    return None


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


def fill_placeholders(template: str, values: dict[str, str], articles: dict | None = None) -> str:
    """Put each value in place of its ``{name}``, in one pass, so a value that
    itself looks like a placeholder stays as it is; other braces stay too.
    ``{de:name}`` puts the pt-BR preposition, contracted with the value's
    article from ``articles`` ("do Exchange Server 2016"); a capital first
    letter capitalizes it ("{Com:name}" → "Com o Gmail")."""
    def put(match) -> str:
        prep, name = match.group(1), match.group(2)
        if name not in values:
            return match.group(0)
        text = values[name]
        if prep is None:
            return text
        forms = _CONTRACTIONS.get(prep.lower())
        if forms is None:
            return match.group(0)
        article = (articles or {}).get(name)
        head = forms[article] if article else ("" if prep.lower() == "o" else prep.lower())
        phrase = f"{head} {text}" if head else text
        return phrase[:1].upper() + phrase[1:] if prep[:1].isupper() else phrase

    return _PLACEHOLDER.sub(put, template)


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
    rest = {"open_questions": [q.to_dict() for q in verdict.open_questions],
            "holds_if": verdict.holds_if(), "worse_if": verdict.worse_if(),
            "implied": verdict.implied_list()}
    tail = json.dumps(rest, ensure_ascii=False)
    return '{"status": ' + json.dumps(verdict.status) + ', "findings": [' + ", ".join(parts) + "], " + tail[1:]
