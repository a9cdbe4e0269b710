"""Check an organization: Dataverse Web API exports of email server profiles and
mailboxes in, a verdict per mailbox out.

The steps, one module each:

1. ``orgread``: a file's bytes become records (every export shape an
   administrator has; anything else is refused with what it is and what to do);
2. this module: records become configurations, by the mapping in
   ``matrix/dataverse.yaml`` (compiled into ``rules.json`` under ``dataverse``),
   and the state the records carry decides which mailboxes are judged;
3. ``orgreport``: the verdicts, summary and outputs (text, JSON, CSV, the page).

This module is also the page's entry (``start``, ``add_file``, ``finish``,
``rows``, ``export``): the worker and the memory snapshot import ``checker.orgmap``.

Standard library only, so the same code runs on CPython (``python -m checker
org``) and in the browser under Pyodide. Memory stays near the size of the
largest file: each file's records are read one at a time and reduced to a few
values. Each distinct configuration is evaluated once, whatever the number of
mailboxes that share it.
"""

from __future__ import annotations

import json
from itertools import product

from .engine import SEVERITY_RANK, ConfigError, Matrix, load_matrix
from .inputs import printable
from .orgalerts import AlertRecords, is_alert
from .orgalerts import ENTITY_SET as ALERTS_SET
from .orgread import MAX_FILE_BYTES, Refusal, decode, events, size_text
from .orgreport import Report

__all__ = ["OrgError", "Organization", "Report", "Refusal", "parse_answers", "start", "add_file", "add_file_bytes",
           "finish", "rows",
           "export", "MAX_FILE_BYTES"]

# Problems kept per kind; the rest are counted.
PROBLEMS_KEPT = 20
# A file whose first items are all unrecognizable is not read further.
GARBAGE_LIMIT = 50
# Fields that belong to the whole organization: asked once, never per group.
ORG_WIDE = ("deployment",)


class OrgError(ValueError):
    """Bad options (an answer for a field or value the contract does not know)."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


def _norm(value):
    """Text compares without case or surrounding spaces; other values as they are."""
    return value.strip().casefold() if isinstance(value, str) else value


def _matches(cond: dict, record: dict) -> bool:
    """A mapping condition ({TABLE.COLUMN: [values]}) on a record keyed the same way.
    A column the record does not state never matches."""
    for name, values in cond.items():
        got = record.get(name)
        if got is None:
            return False
        if not any(type(got) is type(v) and got == v for v in values):
            return False
    return True


def _shown(value, limit: int = 80) -> str:
    """A value from a file as one safe line: JSON, control characters escaped, cut."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = printable(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _File:
    """What one file (or one response of a list) has said so far."""

    def __init__(self, name: str):
        self.name = name
        self.kind = None          # the table its @odata.context names
        self.records = 0          # records recognized
        self.junk = 0             # items that are not records of either table


class Organization:
    """Collects the records of one organization, file by file."""

    def __init__(self, matrix: Matrix | None = None, lang: str | None = None):
        self.matrix = matrix or load_matrix()
        self.lang = lang or self.matrix.default_language
        if self.lang not in self.matrix.languages:
            self.lang = self.matrix.default_language
            raise OrgError([self._t("org.error.lang", given=printable(str(lang)),
                                    allowed=", ".join(self.matrix.languages))])
        mapping = self.matrix.data.get("dataverse")
        if mapping is None:
            raise OrgError(["the compiled rules carry no Dataverse mapping; run: python -m checker compile"])
        self.mapping = mapping
        tables = mapping["tables"]
        self.profile_table = tables["emailserverprofile"]
        self.mailbox_table = tables["mailbox"]
        # Lowercase the literal texts of the conditions once.
        self.rules = [dict(r, when=self._lower(r["when"])) for r in mapping["rules"]]
        self.notices = [dict(n, when=self._lower(n["when"])) for n in mapping["notices"]]
        org = mapping["organization"]
        mixed = org["mixed_act"]
        self.mixed = dict(mixed, outlook=self._lower(mixed["outlook"]),
                          server_side_sync=self._lower(mixed["server_side_sync"]))
        self.enabled = org.get("enabled", [])
        self.inactive = {t: self._lower(c) for t, c in org.get("inactive", {}).items()}
        self.profiles: dict[str, list] = {}     # id -> [name, values or None, conflict]
        # [id or None, name, email, profile id, values or None, reason or None]
        self.mailboxes: list[list] = []
        self._mailbox_at: dict[str, int] = {}
        self.problems: list[dict] = []
        self.problem_counts: dict[str, int] = {}
        self.refusals: list[dict] = []          # files that are not exports: the run is refused
        self.hosts: set[str] = set()
        self.recognized: set[str] = set()       # tables read from some file
        self.pages: dict[str, list] = {}        # table -> [pages, pages with @odata.nextLink]
        self.duplicates = {"mailbox": 0, "emailserverprofile": 0, "file": 0}
        self._digests: set = set()
        self._seen: dict[str, dict] = {}
        self.alerts = AlertRecords()            # tracelog records and last-error columns

    @staticmethod
    def _lower(cond: dict) -> dict:
        return {k: [_norm(v) for v in vs] for k, vs in cond.items()}

    def _t(self, key: str, **values) -> str:
        return self.matrix.text(key, self.lang, **{k: str(v) for k, v in values.items()})

    def problem(self, file, record, code: str, message: str, field: str | None = None,
                given=None, allowed=()) -> None:
        """A problem with a record or a file; past PROBLEMS_KEPT of a kind, only counted."""
        count = self.problem_counts.get(code, 0) + 1
        self.problem_counts[code] = count
        if count <= PROBLEMS_KEPT:
            self.problems.append({"file": file, "record": record, "code": code, "field": field,
                                  "given": given, "allowed": list(allowed), "message": message})

    def refuse(self, name: str, refusal: Refusal) -> None:
        values = dict(refusal.values)
        message = self._t("org.refuse." + refusal.code, file=printable(name), **values)
        self.refusals.append({"file": name, "code": refusal.code, "message": message})

    # -- 1. reading ---------------------------------------------------------
    def add_bytes(self, name: str, data: bytes) -> None:
        """One file's bytes (UTF-8 or UTF-16, at most MAX_FILE_BYTES)."""
        try:
            text = decode(data)
        except Refusal as refusal:
            self.refuse(name, refusal)
            return
        del data
        self.add_text(name, text)

    def add_text(self, name: str, text: str) -> None:
        """One file's text: a Web API response, a JSON list of them, or a list of records."""
        if len(text) > MAX_FILE_BYTES:
            self.refuse(name, Refusal("too_large", limit=size_text(MAX_FILE_BYTES)))
            return
        text = text.removeprefix("\ufeff")
        digest = (len(text), hash(text))
        if digest in self._digests:
            self.duplicates["file"] += 1
            self.problem(name, None, "same_file", self._t("org.error.same_file", file=printable(name)))
            return
        self._digests.add(digest)
        try:
            self._read(name, text)
        except Refusal as refusal:
            self.refuse(name, refusal)
        except RecursionError:
            self.refuse(name, Refusal("too_deep"))

    def add_document(self, name: str, document) -> None:
        """An export already parsed (tests and tools)."""
        self.add_text(name, json.dumps(document))

    def _read(self, name: str, text: str) -> None:
        file = _File(name)
        page = None
        index = 0
        any_page = False
        for kind, value in events(text):
            if kind == "page":
                any_page = True
                page = {"context": None, "next": None}
                file.kind = None
                index = 0
            elif kind == "meta":
                key, meta = value
                if key == "@odata.context" and isinstance(meta, str):
                    file.kind = self._kind_of_context(meta)
                    if page is not None:
                        page["context"] = file.kind
                    if "://" in meta:
                        self.hosts.add(meta.split("://", 1)[1].split("/", 1)[0].lower())
                elif key == "@odata.nextLink" and page is not None:
                    page["next"] = bool(meta)
                self._count_page(page)
            elif kind == "error":
                error = value
                raise Refusal("api_error", code=_shown(error.get("code", ""), 40),
                              message=_shown(error.get("message", ""), 160))
            else:
                self._record(file, index, value)
                index += 1
                if not file.records and file.junk >= GARBAGE_LIMIT:
                    raise Refusal("not_export")
        self._count_page(page, final=True)
        if not file.records and (file.junk or not any_page):
            raise Refusal("not_export")

    def _count_page(self, page, final: bool = False) -> None:
        """Pages per table, and how many still point at a next one."""
        if page is None or page.get("counted") or not (final or page["next"] is not None):
            return
        table = page["context"]
        if table is None:
            return
        page["counted"] = True
        counts = self.pages.setdefault(table, [0, 0])
        counts[0] += 1
        counts[1] += 1 if page["next"] else 0

    def _kind_of_context(self, context: str):
        for kind, table in (("emailserverprofile", self.profile_table), ("mailbox", self.mailbox_table)):
            entity = "#" + table["entity_set"]
            at = context.find(entity)
            if at >= 0 and context[at + len(entity):at + len(entity) + 1] in ("", "(", "/"):
                return kind
        at = context.find("#" + ALERTS_SET)
        if at >= 0 and context[at + len(ALERTS_SET) + 1:at + len(ALERTS_SET) + 2] in ("", "(", "/"):
            return "tracelog"
        return None

    def _record(self, file: _File, index: int, record) -> None:
        if not isinstance(record, dict):
            file.junk += 1
            self.problem(file.name, index, "not_record", self._t("org.error.not_record", file=printable(file.name),
                                                                  index=index))
            return
        if self.mailbox_table["key"] in record:
            kind = "mailbox"
        elif self.profile_table["key"] in record:
            kind = "emailserverprofile"
        elif is_alert(record):
            kind = "tracelog"
        else:
            kind = file.kind
        if kind is None:
            file.junk += 1
            self.problem(file.name, index, "unknown_records",
                         self._t("org.error.unknown_records", file=printable(file.name)))
            return
        file.records += 1
        self.recognized.add(kind)
        if kind == "mailbox":
            self._mailbox(file.name, index, record)
        elif kind == "tracelog":
            self.alerts.add(self, file.name, index, record)
        else:
            self._profile(file.name, index, record)

    def _values(self, table_id: str, table: dict, record: dict):
        """The mapped columns of a record as a sorted tuple of (TABLE.COLUMN, value),
        or (None, column, given, allowed) for the first value this version does not
        know. Records repeat the same few values: each distinct set is checked once."""
        columns = table["columns"]
        raw = tuple([record.get(c) for c in columns])
        key = (raw, tuple(map(type, raw)))
        seen = self._seen.setdefault(table_id, {})
        try:
            known = seen.get(key)
        except TypeError:  # a list or an object where a value belongs: checked below
            known, key = None, None
        if known is not None:
            return known
        out = {}
        for (column, spec), value in zip(columns.items(), raw):
            if value is None:
                continue
            kind = spec["type"]
            if kind == "option":
                ok = type(value) is int and value in spec["values"]
                allowed = [str(v) for v in spec["values"]]
            elif kind == "boolean":
                ok = type(value) is bool
                allowed = ["true", "false"]
            else:
                ok = isinstance(value, str)
                allowed = []
            if not ok:
                return (None, column, _shown(value), allowed)
            out[f"{table_id}.{column}"] = _norm(value)
        values = tuple(sorted(out.items()))
        if key is not None:
            seen[key] = values
        return values

    def _bad_value(self, file, ident, bad) -> str:
        _none, column, given, allowed = bad
        message = self._t("org.error.unknown_value", file=printable(file), record=printable(ident), column=column,
                          given=given, allowed=", ".join(allowed) or "text")
        self.problem(file, ident, "unknown_value", message, field=column, given=given, allowed=allowed)
        return message

    def _profile(self, file: str, index, record: dict) -> str | None:
        key = self.profile_table["key"]
        ident = record.get(key)
        if not isinstance(ident, str) or not ident.strip():
            self.problem(file, index, "no_key", self._t("org.error.no_key", file=printable(file), index=index,
                                                        column=key))
            return None
        ident = ident.strip().lower()
        values = self._values("emailserverprofile", self.profile_table, record)
        if values and values[0] is None:
            self._bad_value(file, ident, values)
            values = None
        name = record.get(self.profile_table["name"])
        name = name if isinstance(name, str) else ""
        known = self.profiles.get(ident)
        if known is None:
            self.profiles[ident] = [name, values, False]
        elif (known[0], known[1]) != (name, values) and not known[2]:
            known[2] = True
            self.problem(file, ident, "conflict", self._t("org.error.conflict_profile", file=printable(file),
                                                          record=ident))
        return ident

    def _mailbox(self, file: str, index, record: dict) -> None:
        get = record.get
        key = self.mailbox_table["key"]
        ident = get(key)
        name = get(self.mailbox_table["name"])
        name = name if isinstance(name, str) else ""
        email = get("emailaddress")
        email = email if isinstance(email, str) else ""
        profile = get("_emailserverprofile_value")
        profile = profile.strip().lower() if isinstance(profile, str) and profile.strip() else None
        expanded = get("emailserverprofile")  # $expand=emailserverprofile(...)
        if isinstance(expanded, dict) and self.profile_table["key"] in expanded:
            profile = self._profile(file, index, expanded) or profile
        reason = None
        if not isinstance(ident, str) or not ident.strip():
            who = email or name or f"#{index}"
            if ident is None:
                reason = self._t("org.error.no_key", file=printable(file), index=index, column=key)
            else:
                reason = self._t("org.error.bad_key", file=printable(file), index=index, column=key,
                                 given=_shown(ident))
            self.problem(file, index, "no_key", f"{reason} ({printable(who)})")
            ident = None
        else:
            ident = ident.strip().lower()
            self.alerts.mailbox(ident, record)
        values = self._values("mailbox", self.mailbox_table, record)
        if values and values[0] is None:
            message = self._bad_value(file, ident or f"#{index}", values)
            reason = reason or message
            values = None
        row = [ident, name, email, profile, values, reason]
        if ident is not None:
            at = self._mailbox_at.get(ident)
            if at is not None:
                first = self.mailboxes[at]
                if first[1:5] == row[1:5]:
                    self.duplicates["mailbox"] += 1
                    self.problem(file, ident, "duplicate", self._t("org.error.duplicate", file=printable(file),
                                                                   record=ident))
                elif first[5] is None or "conflict" not in str(first[5]):
                    self.duplicates["mailbox"] += 1
                    message = self._t("org.error.conflict_mailbox", file=printable(file), record=ident)
                    first[5] = message
                    self.problem(file, ident, "conflict", message)
                return
            self._mailbox_at[ident] = len(self.mailboxes)
        self.mailboxes.append(row)

    # -- 2. mapping ----------------------------------------------------------
    def deployment(self, given: str | None) -> str | None:
        if given:
            return given
        suffixes = tuple(self.mapping["online_hosts"])
        if self.hosts and all(h.endswith(suffixes) for h in self.hosts):
            return "online"
        return None

    def missing_pages(self) -> list[str]:
        """Tables whose every page still names a next one: the last pages were not given."""
        sets = {"emailserverprofile": self.profile_table["entity_set"], "mailbox": self.mailbox_table["entity_set"],
                "tracelog": ALERTS_SET}
        return [sets[t] for t, (pages, linked) in sorted(self.pages.items()) if pages and pages == linked]

    def _effective(self, values: dict) -> dict:
        """The mailbox's columns with each delivery method whose item the record
        says is disabled (``enabledfor…`` false) taken out."""
        out = values
        for pair in self.enabled:
            if values.get(pair["flag"]) is False and pair["column"] in values:
                if out is values:
                    out = dict(values)
                del out[pair["column"]]
        return out

    def _sync(self, record: dict) -> list:
        out = []
        for rule in self.rules:
            if "sync" in rule["add"] and _matches(rule["when"], record):
                if rule["add"]["sync"] not in out:
                    out.append(rule["add"]["sync"])
        return out

    def _profile_inactive(self, profile_id) -> bool:
        profile = self.profiles.get(profile_id) if profile_id else None
        return bool(profile and profile[1] is not None
                    and _matches(self.inactive.get("emailserverprofile", {"-": []}), dict(profile[1])))

    def _state(self, row) -> tuple:
        """(state, reason, mailbox columns in effect): what a mailbox record allows
        before any verdict. States: evaluated, not_using_server_side_sync,
        inactive, not_evaluated."""
        ident, _name, _email, profile_id, values, reason = row
        if reason is not None or values is None:
            return "not_evaluated", reason, None
        mb = dict(values)
        if _matches(self.inactive.get("mailbox", {"-": []}), mb):
            return "inactive", self._t("org.state.mailbox_inactive"), None
        if not self._sync(mb):
            return "not_using_server_side_sync", None, None
        effective = self._effective(mb)
        if not self._sync(effective):
            return "inactive", self._t("org.state.disabled"), None
        if profile_id is None:
            return "not_evaluated", self._t("org.error.no_profile"), effective
        profile = self.profiles.get(profile_id)
        if profile is None:
            return "not_evaluated", self._t("org.error.missing_profile", profile=profile_id), effective
        if profile[2]:
            return "not_evaluated", self._t("org.error.profile_conflict", profile=profile_id), effective
        if profile[1] is None:
            return "not_evaluated", self._t("org.error.broken_profile", profile=profile_id), effective
        if self._profile_inactive(profile_id):
            return "inactive", self._t("org.state.profile_inactive", profile=profile[0] or profile_id), None
        return "evaluated", None, effective

    def evaluate(self, deployment: str | None = None, answers: dict | None = None) -> Report:
        """A result for every mailbox record. ``answers`` states fields per profile
        id (``"*"`` for every profile); they win over what the records say."""
        deployment = self.deployment(deployment)
        answers = {k.lower(): v for k, v in (answers or {}).items()}
        everywhere = answers.get("*", {})
        report = Report(self)
        known_states: dict = {}
        states = []
        for row in self.mailboxes:
            if row[5] is not None or row[4] is None:
                states.append(self._state(row))
                continue
            key = (row[3], row[4])
            state = known_states.get(key)
            if state is None:
                state = known_states[key] = self._state(row)
            states.append(state)
        # Mixed synchronization of appointments, contacts and tasks: only mailboxes
        # that are active and sync them count, on either path.
        outlook, server_side = [], []
        for row, (state, _reason, effective) in zip(self.mailboxes, states):
            if state == "not_using_server_side_sync" and not self._profile_inactive(row[3]):
                effective = self._effective(dict(row[4]))
            elif state != "evaluated":
                continue
            if _matches(self.mixed["outlook"], effective):
                outlook.append(row)
            elif state == "evaluated" and _matches(self.mixed["server_side_sync"], effective):
                server_side.append(row)
        mixed = bool(outlook and server_side)
        outlook_act = bool(outlook)
        report.mixed = {"outlook": outlook, "server_side_sync": server_side} if mixed else None
        by_records: dict[tuple, tuple] = {}   # records' values -> (verdict index, notices)
        by_config: dict[tuple, int] = {}      # configuration -> verdict index
        notice_index = {n["id"]: i for i, n in enumerate(self.notices)}
        answered: dict = {}  # profile id -> the answers that apply to it
        for row, (state, reason, effective) in zip(self.mailboxes, states):
            ident, name, email, profile_id, _values, _reason = row
            if state != "evaluated":
                report.add_mailbox(ident, name, email, profile_id, None, (), state, reason)
                continue
            stated = answered.get(profile_id)
            if stated is None:
                stated = answered[profile_id] = {**everywhere, **answers.get(profile_id, {})}
            prof_values = self.profiles[profile_id][1]
            key = (prof_values, id(effective), id(stated) if stated else None)
            known = by_records.get(key)
            if known is None:
                record = {**dict(prof_values), **effective}
                config, readings = self.configuration(record, deployment, stated, outlook_act)
                extra = mixed and _matches(self.mixed["outlook"], record)
                ckey = (tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items())),
                        extra, readings)
                index = by_config.get(ckey)
                if index is None:
                    try:
                        verdict = self._verdict(config, extra)
                    except ConfigError as exc:  # answers and records that contradict the contract
                        message = "; ".join(p.message for p in exc.problems)
                        for p in exc.problems:
                            self.problem(None, ident, p.code, p.message, field=p.field, given=p.given,
                                         allowed=p.allowed)
                        by_records[key] = ("error", message)
                        report.add_mailbox(ident, name, email, profile_id, None, (), "not_evaluated", message)
                        continue
                    verdict["readings"] = [self._reading(r) for r in readings]
                    index = by_config[ckey] = report.add_verdict(verdict)
                notices = tuple(notice_index[n["id"]] for n in self.notices if _matches(n["when"], record))
                known = (index, notices)
                by_records[key] = known
            if known[0] == "error":
                report.add_mailbox(ident, name, email, profile_id, None, (), "not_evaluated", known[1])
                continue
            report.add_mailbox(ident, name, email, profile_id, known[0], known[1], "evaluated", None)
        problems = (list(self.problems), dict(self.problem_counts))
        self.alerts.attach(self, report)  # its problems belong to this evaluation alone
        report.problems = list(self.problems)
        report.problem_counts = dict(self.problem_counts)
        self.problems, self.problem_counts = problems
        return report

    def _reading(self, rule_id: str) -> dict:
        rule = next(r for r in self.rules if r["id"] == rule_id)
        return {"rule": rule["id"], "set": rule["set"], "message": rule["reading"][self.lang]}

    def mapped(self, record: dict, stated: dict | None = None) -> tuple[dict, tuple]:
        """The configuration the records state (first rule that sets a field wins),
        and the ids of the rules that are readings (an inference the records allow
        but do not prove). A reading whose field the administrator stated is skipped,
        so the other rules of the record apply instead."""
        config: dict = {}
        readings = []
        for rule in self.rules:
            if not _matches(rule["when"], record):
                continue
            if rule.get("reading"):
                if stated and any(f in stated for f in rule["set"]):
                    continue
                if any(f not in config for f in rule["set"]):
                    readings.append(rule["id"])
            for field, value in rule["set"].items():
                config.setdefault(field, value)
            for field, value in rule["add"].items():
                items = config.setdefault(field, [])
                if value not in items:
                    items.append(value)
        for name, items in config.items():
            if isinstance(items, list):
                order = [v["id"] for v in self.matrix.fields[name]["values"]]
                items.sort(key=order.index)
        return config, tuple(readings)

    def configuration(self, record: dict, deployment, stated: dict, outlook_act: bool) -> tuple[dict, tuple]:
        config, readings = self.mapped(record, stated)
        if deployment:
            config["deployment"] = deployment
        config[self.mixed["field"]] = outlook_act
        config.update(stated)
        return config, readings

    def _judge(self, config: dict, extra: bool) -> dict:
        """The verdict of one complete configuration, with the mixed-sync finding
        when ``extra`` (the mailbox syncs appointments, contacts and tasks through
        Outlook in a mixed organization) and the status that follows from it."""
        verdict = self.matrix.evaluate(config, self.lang).to_dict()
        rule = next((r for r in self.matrix.rules if r["id"] == self.mixed["rule"]), None)
        if extra and rule is not None and not any(f["rule"] == rule["id"] for f in verdict["findings"]):
            added = self.matrix._finding(rule, config, self.lang).to_dict()
            findings = sorted(verdict["findings"] + [added], key=lambda f: -SEVERITY_RANK[f["severity"]])
            deciding = [f for f in findings if f["severity"] != "info"]
            status = verdict["status"]
            if status != "unknown" and deciding:
                status = max(status, deciding[0]["severity"], key=SEVERITY_RANK.get)

            def bumped(outcome: str) -> str:  # each answer's outcome, with the same finding
                return outcome if outcome == "unknown" else max(outcome, added["severity"], key=SEVERITY_RANK.get)

            questions = [{**q, "outcomes": {v: bumped(s) for v, s in q["outcomes"].items()}}
                         for q in verdict.get("open_questions", [])]
            verdict = {**verdict, "findings": findings, "status": status, "open_questions": questions}
        return verdict

    def _verdict(self, config: dict, extra: bool) -> dict:
        matrix = self.matrix
        open_fields = [name for name, spec in matrix.fields.items() if spec["required"] and name not in config]
        if not open_fields:
            verdict = self._judge(config, extra)
            status, findings, questions = verdict["status"], verdict["findings"], verdict.get("open_questions", [])
        else:
            status, findings, questions = self._over_candidates(config, open_fields, extra)
        return {"status": status, "configuration": config, "findings": findings, "open_questions": questions}

    def _notice(self, notice: dict) -> dict:
        lang = self.lang
        return {"rule": "org-" + notice["id"], "severity": "info", "facts": [],
                "message": notice["message"][lang], "remedy": None, "remedy_source": None, "fix": None,
                "link": notice["link"][lang]}

    def candidates(self, field: str, config: dict) -> list:
        for cand in self.mapping["candidates"]:
            if cand["field"] != field:
                continue
            when = cand.get("when", {})
            if all(config.get(k) in vs for k, vs in when.items()):
                return list(cand["values"])
        return [v["id"] for v in self.matrix.fields[field]["values"]]

    def _over_candidates(self, config: dict, open_fields: list, extra: bool):
        """Evaluate every value the records leave possible for the required
        fields they do not tell; what all outcomes share is the answer. Each
        outcome is judged as a complete configuration is (the organization's
        findings included), so the questions agree with the status."""
        options = [self.candidates(name, config) for name in open_fields]
        outcomes = []
        for combo in product(*options):
            trial = {**config, **dict(zip(open_fields, combo))}
            outcomes.append((combo, self._judge(trial, extra)))
        statuses = {v["status"] for _c, v in outcomes}
        status = statuses.pop() if len(statuses) == 1 else "unknown"
        first = outcomes[0][1]["findings"]
        findings = [f for f in first if all(f in v["findings"] for _c, v in outcomes[1:])]
        questions = []
        for i, name in enumerate(open_fields):
            by_value: dict = {}
            for combo, verdict in outcomes:
                by_value.setdefault(combo[i], set()).add(verdict["status"])
            result = {value: (s.pop() if len(s) == 1 else "unknown") for value, s in by_value.items()}
            # A required field left open is always asked; with several open, an
            # outcome that depends on another of them reads "unknown".
            if len(result) > 1 or set(result.values()) != {status}:
                questions.append({"field": name, "outcomes": result})
        shared = outcomes[0][1].get("open_questions", [])
        questions += [q for q in shared if all(q in v.get("open_questions", []) for _c, v in outcomes[1:])]
        return status, findings, questions


def parse_answers(items, matrix: Matrix, lang: str) -> dict:
    """``PROFILEID:field=value`` strings (or a mapping {profile: {field: value}})
    into answers per profile, each value checked against the contract."""
    answers: dict = {}
    messages = []
    pairs = []
    if isinstance(items, dict):
        for profile, fields in items.items():
            if not isinstance(fields, dict):
                messages.append(matrix.text("org.error.answer_form", lang, given=printable(str(profile))))
                continue
            pairs.extend((str(profile), str(k), v) for k, v in fields.items())
    elif isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items):
        for item in items:
            profile, sep, rest = item.partition(":")
            field, eq, value = rest.partition("=")
            if not sep or not eq or not profile or not field:
                messages.append(matrix.text("org.error.answer_form", lang, given=printable(item)))
                continue
            spec = matrix.fields.get(field)
            if spec is not None and spec["type"] == "boolean" and value in ("true", "false"):
                value = value == "true"
            elif spec is not None and spec["type"] == "multi":
                value = value.split(",")
            pairs.append((profile, field, value))
    else:
        raise OrgError([matrix.text("org.error.answers_mapping", lang)])
    for profile, field, value in pairs:
        if field not in matrix.fields:
            messages.append(matrix.text("error.unknown_field", lang, field=printable(field),
                                        allowed=", ".join(matrix.fields)))
            continue
        problem = matrix._check_value(field, value, lang)
        if problem is not None:
            messages.append(printable(problem.message))
            continue
        answers.setdefault(profile.strip().lower(), {})[field] = value
    if messages:
        raise OrgError(messages)
    return answers


# -- the browser's entry points (one organization at a time) -------------------
_state: dict = {}


def _failure(lang) -> str:
    """An unexpected error, said in the page's language, so the page can run again."""
    try:
        matrix = load_matrix()
        text = matrix.text("page.org.internal", lang if lang in matrix.languages else matrix.default_language)
    except Exception:  # the strings themselves cannot be read
        text = "internal error"
    return json.dumps({"errors": [text], "exit": 3}, ensure_ascii=False)


def start(request: str) -> str:
    """``{"lang", "deployment", "answers"}``: begin reading files. Returns
    ``{"ok": true}`` or ``{"errors": [...]}``."""
    _state.clear()
    lang = None
    try:
        options = json.loads(request)
        if not isinstance(options, dict):
            raise ValueError("not an object")
        matrix = load_matrix()
        lang = options.get("lang") or matrix.default_language
        org = Organization(matrix, lang)
        answers = parse_answers(options.get("answers") or {}, matrix, org.lang)
        deployment = options.get("deployment") or None
        if deployment is not None:
            problem = matrix._check_value("deployment", deployment, org.lang)
            if problem is not None:
                raise OrgError([problem.message])
    except (OrgError, ConfigError) as exc:
        return json.dumps({"errors": list(getattr(exc, "messages", None) or [str(exc)]), "exit": 2},
                          ensure_ascii=False)
    except Exception:  # a request the page never sends
        return _failure(lang)
    _state.update(org=org, answers=answers, deployment=deployment)
    return json.dumps({"ok": True})


def add_file(name: str, text: str) -> str:
    org = _state.get("org")
    if org is None:
        return _failure(None)
    try:
        before = len(org.mailboxes), len(org.profiles)
        org.add_text(name, text)
        return json.dumps({"mailboxes": len(org.mailboxes) - before[0], "profiles": len(org.profiles) - before[1]})
    except Exception:
        return _failure(org.lang)


def add_file_bytes(name: str, data) -> str:
    """One chosen file, as the browser read it: bytes (a JavaScript Uint8Array in
    the page), decoded here exactly as the command line decodes a file."""
    org = _state.get("org")
    if org is None:
        return _failure(None)
    try:
        raw = data.to_bytes() if hasattr(data, "to_bytes") else bytes(data)
        before = len(org.mailboxes), len(org.profiles)
        if len(raw) > MAX_FILE_BYTES:
            org.refuse(name, Refusal("too_large", limit=size_text(MAX_FILE_BYTES)))
        else:
            org.add_bytes(name, raw)
        del raw
        return json.dumps({"mailboxes": len(org.mailboxes) - before[0], "profiles": len(org.profiles) - before[1]})
    except Exception:
        return _failure(org.lang)


def finish(request: str | None = None) -> str:
    """Evaluate what was read (again, with new answers if the request gives
    some) and return what the page draws; a refused file gives only the refusals,
    as the command line does."""
    org = _state.get("org")
    if org is None:
        return _failure(None)
    try:
        if request:
            options = json.loads(request)
            try:
                _state["answers"] = parse_answers(options.get("answers") or {}, org.matrix, org.lang)
            except OrgError as exc:
                return json.dumps({"errors": exc.messages, "exit": 2}, ensure_ascii=False)
        refused = refusal_lines(org)
        if refused:
            return json.dumps({"errors": refused, "exit": 2}, ensure_ascii=False)
        report = org.evaluate(_state["deployment"], _state["answers"])
        _state["report"] = report
        return report.page_json()
    except Exception:
        return _failure(org.lang)


def refusal_lines(org: Organization) -> list[str]:
    """Why nothing is evaluated: the files refused, or no mailboxes at all."""
    lines = [r["message"] for r in org.refusals]
    if lines:
        lines.append(org._t("org.refused", count=len(org.refusals)))
    elif "mailbox" not in org.recognized:
        lines.append(org._t("org.error.alerts_only" if "tracelog" in org.recognized else "org.error.no_mailboxes"))
    return lines


def rows(group: int, limit: int) -> str:
    report = _state.get("report")
    if report is None:
        return "[]"
    return report.rows_json(group, limit)


def export(fmt: str) -> str:
    report = _state["report"]
    return report.to_csv() if fmt == "csv" else report.to_json()
