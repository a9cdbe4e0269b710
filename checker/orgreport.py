"""Check an organization: Dataverse Web API exports of email server profiles and
mailboxes in, a verdict per mailbox out.

Standard library only, so the same code runs on CPython (``python -m checker
org``) and in the browser under Pyodide (the page "Check your organization").
The mapping from records to configurations is data: ``matrix/dataverse.yaml``,
compiled into ``rules.json`` under ``dataverse``.

Memory stays bounded by the largest page given: each file is parsed, its
records reduced to a few values, and dropped. Each distinct configuration is
evaluated once, whatever the number of mailboxes that share it.
"""

from __future__ import annotations

import csv
import io
import json
from itertools import product
from json.encoder import encode_basestring

from .engine import SEVERITY_RANK, ConfigError, Matrix, load_matrix

__all__ = ["OrgError", "Organization", "Report", "parse_answers", "start", "add_file", "finish", "rows", "export"]

STATUS_ORDER = ("unsupported", "unknown", "limited", "supported")
_MARKS = {"supported": "✓", "limited": "!", "unsupported": "✗", "unknown": "?", "info": "i"}
_NOT_USING = "not_using_server_side_sync"


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


class Organization:
    """Collects the records of one organization, file by file."""

    def __init__(self, matrix: Matrix | None = None, lang: str | None = None):
        self.matrix = matrix or load_matrix()
        self.lang = lang or self.matrix.default_language
        if self.lang not in self.matrix.languages:
            raise OrgError([self._t("org.error.lang", given=self.lang, allowed=", ".join(self.matrix.languages))])
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
        mixed = mapping["organization"]["mixed_act"]
        self.mixed = dict(mixed, outlook=self._lower(mixed["outlook"]),
                          server_side_sync=self._lower(mixed["server_side_sync"]))
        self.profiles: dict[str, tuple] = {}   # id -> (name, values by column) or ("broken", None)
        self.mailboxes: list[tuple] = []        # (id, name, email, profile id, values by column)
        self.problems: list[dict] = []
        self.hosts: set[str] = set()
        self.recognized = 0
        self.outlook_act = False
        self.server_side_act = False
        self._seen: dict[str, dict] = {}
        self._act_seen: set = set()

    @staticmethod
    def _lower(cond: dict) -> dict:
        return {k: [_norm(v) for v in vs] for k, vs in cond.items()}

    def _t(self, key: str, **values) -> str:
        return self.matrix.text(key, self.lang, **{k: str(v) for k, v in values.items()})

    def problem(self, file: str, record, code: str, message: str, field: str | None = None,
                given=None, allowed=()) -> None:
        self.problems.append({"file": file, "record": record, "code": code, "field": field,
                              "given": given, "allowed": list(allowed), "message": message})

    # -- reading ------------------------------------------------------------
    def add_text(self, name: str, text: str) -> None:
        """One file's text: a Web API response, or a JSON list of responses."""
        text = text.removeprefix("\ufeff")
        if not text.strip():
            self.problem(name, None, "empty", self._t("org.error.empty", file=name))
            return
        try:
            document = json.loads(text)
        except ValueError as exc:
            where = f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
            self.problem(name, None, "bad_json", self._t("org.error.bad_json", file=name, where=where))
            return
        self.add_document(name, document)

    def add_document(self, name: str, document) -> None:
        if isinstance(document, list) and document and all(isinstance(d, dict) and "value" in d for d in document):
            for index, page in enumerate(document):
                self.add_document(f"{name}[{index}]", page)
            return
        if not isinstance(document, dict) or not isinstance(document.get("value"), list):
            self.problem(name, None, "not_export", self._t("org.error.not_export", file=name))
            return
        context = document.get("@odata.context")
        context = context if isinstance(context, str) else ""
        records = document["value"]
        kind = self._kind(context, records)
        if kind is None:
            self.problem(name, None, "not_export", self._t("org.error.unknown_records", file=name))
            return
        self.recognized += 1
        host = context.split("://", 1)[1].split("/", 1)[0].lower() if "://" in context else ""
        if host:
            self.hosts.add(host)
        read = self._profile if kind == "emailserverprofile" else self._mailbox
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                self.problem(name, index, "not_record", self._t("org.error.not_record", file=name, index=index))
                continue
            read(name, index, record)

    def _kind(self, context: str, records: list):
        for kind, table in (("emailserverprofile", self.profile_table), ("mailbox", self.mailbox_table)):
            if f"#{table['entity_set']}(" in context or context.endswith(f"#{table['entity_set']}"):
                return kind
        first = next((r for r in records if isinstance(r, dict)), None)
        if first is not None:
            if self.mailbox_table["key"] in first:
                return "mailbox"
            if self.profile_table["key"] in first:
                return "emailserverprofile"
        return None

    def _values(self, file: str, table_id: str, table: dict, record: dict, ident):
        """The mapped columns of a record as a sorted tuple of (TABLE.COLUMN, value);
        None (and a problem) when a value is not one this version knows. Records
        repeat the same few values: each distinct set is checked once."""
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
        bad = False
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
                bad = True
                given = json.dumps(value, ensure_ascii=False)[:80]
                self.problem(file, ident, "unknown_value",
                             self._t("org.error.unknown_value", file=file, record=ident, column=column,
                                     given=given, allowed=", ".join(allowed) or "text"),
                             field=column, given=given, allowed=allowed)
                continue
            out[f"{table_id}.{column}"] = _norm(value)
        if bad:
            return None
        values = tuple(sorted(out.items()))
        if key is not None:
            seen[key] = values
        return values

    def _profile(self, file: str, index: int, record: dict) -> None:
        ident = record.get(self.profile_table["key"])
        if not isinstance(ident, str) or not ident:
            self.problem(file, index, "no_key", self._t("org.error.no_key", file=file, index=index,
                                                        key=self.profile_table["key"]))
            return
        values = self._values(file, "emailserverprofile", self.profile_table, record, ident)
        name = record.get(self.profile_table["name"])
        name = name if isinstance(name, str) else ident
        self.profiles[ident.lower()] = (name, values)

    def _mailbox(self, file: str, index: int, record: dict) -> None:
        get = record.get
        ident = get(self.mailbox_table["key"])
        if not isinstance(ident, str) or not ident:
            self.problem(file, index, "no_key", self._t("org.error.no_key", file=file, index=index,
                                                        key=self.mailbox_table["key"]))
            return
        values = self._values(file, "mailbox", self.mailbox_table, record, ident)
        if values is None:
            return
        if values not in self._act_seen:
            as_dict = dict(values)
            self._act_seen.add(values)
            if _matches(self.mixed["outlook"], as_dict):
                self.outlook_act = True
            if _matches(self.mixed["server_side_sync"], as_dict):
                self.server_side_act = True
        name = get(self.mailbox_table["name"])
        email = get("emailaddress")
        profile = get("_emailserverprofile_value")
        self.mailboxes.append((ident, name if isinstance(name, str) else "", email if isinstance(email, str) else "",
                               profile.lower() if isinstance(profile, str) and profile else None, values))

    # -- evaluating ---------------------------------------------------------
    def deployment(self, given: str | None) -> str | None:
        if given:
            return given
        suffixes = tuple(self.mapping["online_hosts"])
        if self.hosts and all(h.endswith(suffixes) for h in self.hosts):
            return "online"
        return None

    def evaluate(self, deployment: str | None = None, answers: dict | None = None) -> Report:
        """A verdict per mailbox. ``answers`` states fields per profile id
        (``"*"`` for every profile); they win over what the records say."""
        deployment = self.deployment(deployment)
        answers = {k.lower(): v for k, v in (answers or {}).items()}
        everywhere = answers.get("*", {})
        mixed = self.outlook_act and self.server_side_act
        report = Report(self)
        by_records: dict[tuple, tuple] = {}   # records' values -> (verdict index, notices)
        by_config: dict[tuple, int] = {}      # configuration -> verdict index
        notice_index = {n["id"]: i for i, n in enumerate(self.notices)}
        answered: dict = {}  # profile id -> the answers that apply to it
        for ident, name, email, profile_id, mb_values in self.mailboxes:
            profile = self.profiles.get(profile_id) if profile_id else None
            prof_values = profile[1] if profile else None
            if prof_values is None:
                # Without a usable profile, only the mailbox can say whether it syncs.
                if not self._sync({}, dict(mb_values)):
                    report.add_mailbox(ident, name, email, profile_id, None, ())
                    continue
                if profile_id is None:
                    code, message = "no_profile", self._t("org.error.no_profile", record=ident)
                elif profile is None:
                    code, message = "missing_profile", self._t("org.error.missing_profile", record=ident, profile=profile_id)
                else:
                    code, message = "broken_profile", self._t("org.error.broken_profile", record=ident, profile=profile_id)
                report.problems.append({"file": None, "record": ident, "code": code, "field": None,
                                        "given": None, "allowed": [], "message": message})
                continue
            stated = answered.get(profile_id)
            if stated is None:
                stated = answered[profile_id] = {**everywhere, **answers.get(profile_id, {})}
            key = (prof_values, mb_values, id(stated) if stated else None)
            known = by_records.get(key)
            if known is None:
                record = {**dict(prof_values), **dict(mb_values)}
                if not self._sync(record, {}):
                    known = (None, ())
                else:
                    config = self.configuration(record, deployment, stated)
                    extra = mixed and _matches(self.mixed["outlook"], record)
                    ckey = (tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items())), extra)
                    index = by_config.get(ckey)
                    if index is None:
                        try:
                            verdict = self._verdict(config, extra)
                        except ConfigError as exc:  # answers and records that contradict the contract
                            for p in exc.problems:
                                report.problems.append({"file": None, "record": ident, "code": p.code,
                                                        "field": p.field, "given": p.given,
                                                        "allowed": list(p.allowed), "message": p.message})
                            continue
                        index = by_config[ckey] = report.add_verdict(verdict)
                    notices = tuple(notice_index[n["id"]] for n in self.notices if _matches(n["when"], record))
                    known = (index, notices)
                by_records[key] = known
            report.add_mailbox(ident, name, email, profile_id, *known)
        return report

    def _record(self, prof: dict, mb: dict) -> dict:
        return {**prof, **mb}

    def _sync(self, prof: dict, mb: dict) -> list:
        record = self._record(prof, mb)
        out = []
        for rule in self.rules:
            if "sync" in rule["add"] and _matches(rule["when"], record):
                if rule["add"]["sync"] not in out:
                    out.append(rule["add"]["sync"])
        return out

    def mapped(self, record: dict) -> dict:
        """The configuration the records state (first rule that sets a field wins)."""
        config: dict = {}
        for rule in self.rules:
            if not _matches(rule["when"], record):
                continue
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
        return config

    def configuration(self, record: dict, deployment, stated: dict) -> dict:
        config = self.mapped(record)
        if deployment:
            config["deployment"] = deployment
        config[self.mixed["field"]] = self.outlook_act
        config.update(stated)
        return config

    def _verdict(self, config: dict, extra: bool) -> dict:
        """The verdict for one configuration; ``extra``: the mailbox syncs
        appointments, contacts and tasks through Outlook in a mixed organization."""
        matrix, lang = self.matrix, self.lang
        open_fields = [name for name, spec in matrix.fields.items() if spec["required"] and name not in config]
        if not open_fields:
            verdict = matrix.evaluate(config, lang).to_dict()
            findings = verdict["findings"]
            status = verdict["status"]
            questions = verdict.get("open_questions", [])
        else:
            status, findings, questions = self._over_candidates(config, open_fields)
        rule = next((r for r in matrix.rules if r["id"] == self.mixed["rule"]), None)
        if extra and rule is not None and not any(f["rule"] == rule["id"] for f in findings):
            added = matrix._finding(rule, config, lang).to_dict()
            # The engine's order and status rule: worst finding first, and it decides.
            findings = sorted(findings + [added], key=lambda f: -SEVERITY_RANK[f["severity"]])
            if not open_fields:
                deciding = [f for f in findings if f["severity"] != "info"]
                status = deciding[0]["severity"] if deciding else "unknown"
            elif status != "unknown":
                status = max(status, added["severity"], key=SEVERITY_RANK.get)
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

    def _over_candidates(self, config: dict, open_fields: list):
        """Evaluate every value the records leave possible for the required
        fields they do not tell; what all outcomes share is the answer."""
        options = [self.candidates(name, config) for name in open_fields]
        outcomes = []
        for combo in product(*options):
            trial = {**config, **dict(zip(open_fields, combo))}
            outcomes.append((combo, self.matrix.evaluate(trial, self.lang).to_dict()))
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


class Report:
    """The verdicts of one organization, with each distinct verdict kept once.

    A mailbox row is (id, name, email, profile id, verdict index or None,
    notices): the notices (record states shown beside the verdict) are kept
    apart, so mailboxes that differ only by them still share one verdict."""

    def __init__(self, org: Organization):
        self.org = org
        self.verdicts: list[dict] = []
        self.rows: list[tuple] = []
        self.problems = list(org.problems)
        self._notices = [org._notice(n) for n in org.notices]

    def add_verdict(self, verdict: dict) -> int:
        self.verdicts.append(verdict)
        return len(self.verdicts) - 1

    def add_mailbox(self, ident, name, email, profile_id, index, notices) -> None:
        self.rows.append((ident, name, email, profile_id, index, notices))

    def findings(self, index: int, notices: tuple) -> list[dict]:
        return self.verdicts[index]["findings"] + [self._notices[i] for i in notices]

    # -- figures ------------------------------------------------------------
    def summary(self) -> dict:
        counts = {s: 0 for s in ("supported", "limited", "unsupported", "unknown")}
        not_using = 0
        for row in self.rows:
            if row[4] is None:
                not_using += 1
            else:
                counts[self.verdicts[row[4]]["status"]] += 1
        return {"mailboxes": len(self.rows), **counts, _NOT_USING: not_using}

    def exit_code(self) -> int:
        if not self.org.recognized:
            return 2
        bad = {i for i, v in enumerate(self.verdicts) if v["status"] in ("unsupported", "unknown")}
        return 1 if any(row[4] in bad for row in self.rows) else 0

    def profile_name(self, profile_id) -> str:
        profile = self.org.profiles.get(profile_id) if profile_id else None
        return profile[0] if profile else ""

    # -- JSON (the contract) --------------------------------------------------
    def to_json(self, indent: int | None = None) -> str:
        """``{"summary", "mailboxes", "problems"}``; each distinct verdict is
        serialized once and shared by the mailboxes that have it."""
        dumps = json.dumps
        tails: dict = {}
        not_using = ', "status": null, "configuration": null, "findings": [], "open_questions": []'
        parts = []
        text_of = encode_basestring  # json.dumps of a str, without its overhead
        ids: dict = {None: "null"}
        for ident, name, email, profile_id, index, notices in self.rows:
            pid = ids.get(profile_id)
            if pid is None:
                pid = ids[profile_id] = text_of(profile_id)
            head = (f'{{"mailboxid": {text_of(ident)}, "name": {text_of(name)}, "emailaddress": {text_of(email)}, '
                    f'"emailserverprofileid": {pid}, "uses_server_side_sync": {"false" if index is None else "true"}')
            if index is None:
                parts.append(head + not_using + "}")
                continue
            tail = tails.get((index, notices))
            if tail is None:
                v = self.verdicts[index]
                tail = tails[index, notices] = (
                    f', "status": {dumps(v["status"])}, "configuration": {dumps(v["configuration"], ensure_ascii=False)}'
                    f', "findings": {dumps(self.findings(index, notices), ensure_ascii=False)}'
                    f', "open_questions": {dumps(v["open_questions"], ensure_ascii=False)}}}')
            parts.append(head + tail)
        # One mailbox a line: readable, and no second pass to indent 20,000 of them.
        text = ('{"summary": ' + dumps(self.summary()) + ',\n"mailboxes": [\n' + ",\n".join(parts)
                + '\n],\n"problems": ' + dumps(self.problems, ensure_ascii=False) + "}")
        if indent is not None:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=indent)
        return text

    # -- CSV ------------------------------------------------------------------
    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["mailboxid", "name", "emailaddress", "emailserverprofileid", "profile_name",
                         "uses_server_side_sync", "status", "rules", "open_questions", "configuration"])
        for ident, name, email, profile_id, index, notices in self.rows:
            if index is None:
                tail = ("", "", "", "")
            else:
                v = self.verdicts[index]
                tail = (v["status"], ";".join(f["rule"] for f in self.findings(index, notices)),
                        ";".join(q["field"] for q in v["open_questions"]),
                        json.dumps(v["configuration"], ensure_ascii=False, sort_keys=True))
            writer.writerow([ident, _cell(name), _cell(email), profile_id or "", _cell(self.profile_name(profile_id)),
                             "false" if index is None else "true", *tail])
        return out.getvalue()

    # -- groups (text and page) ------------------------------------------------
    def groups(self) -> list[dict]:
        """Mailboxes that share a profile and a verdict, worst first. A group
        keeps its mailboxes as row numbers (``rows``), and counts its notices."""
        groups: dict[tuple, dict] = {}
        notices_of = self._notices
        for number, (_ident, _name, _email, profile_id, index, notices) in enumerate(self.rows):
            key = (profile_id if index is not None else None, index)
            group = groups.get(key)
            if group is None:
                verdict = self.verdicts[index] if index is not None else None
                group = groups[key] = {
                    "profile": {"id": key[0], "name": self.profile_name(key[0])},
                    "uses_server_side_sync": index is not None,
                    "status": verdict["status"] if verdict else None,
                    "configuration": verdict["configuration"] if verdict else None,
                    "findings": verdict["findings"] if verdict else [],
                    "open_questions": verdict["open_questions"] if verdict else [],
                    "notices": {},
                    "count": 0,
                    "rows": [],
                }
            group["count"] += 1
            group["rows"].append(number)
            for i in notices:
                rule = notices_of[i]["rule"]
                entry = group["notices"].get(rule)
                if entry is None:
                    entry = group["notices"][rule] = {**notices_of[i], "count": 0}
                entry["count"] += 1
        rank = {s: i for i, s in enumerate(STATUS_ORDER)}
        return sorted(groups.values(), key=lambda g: (rank.get(g["status"], 9), g["profile"]["name"].casefold(),
                                                      g["profile"]["id"] or "", -g["count"]))

    def mailboxes_of(self, group: dict, limit: int | None = None) -> list[list]:
        """A group's mailboxes as [id, name, email address, [notice rule ids]]."""
        notices_of = self._notices
        out = []
        for number in group["rows"][:limit]:
            ident, name, email, _p, _i, notices = self.rows[number]
            out.append([ident, name, email, [notices_of[i]["rule"] for i in notices]])
        return out

    def page_json(self) -> str:
        """What the page draws: summary, groups (their mailboxes come with
        ``rows_json``, when a group is opened) and problems."""
        self._groups = self.groups()
        shown = [{k: v for k, v in g.items() if k != "rows"} for g in self._groups]
        return json.dumps({"summary": self.summary(), "groups": shown, "problems": self.problems,
                           "exit": self.exit_code()}, ensure_ascii=False)

    def rows_json(self, group: int, limit: int) -> str:
        """The mailboxes of one group of the last ``page_json``, at most ``limit``."""
        return json.dumps(self.mailboxes_of(self._groups[group], limit), ensure_ascii=False)

    def absolute_links(self, site_url: str) -> None:
        """Finding links under the site's public address, so a terminal can open them."""
        from urllib.parse import urljoin

        for finding in [f for v in self.verdicts for f in v["findings"]] + self._notices:
            if finding["link"]:
                finding["link"] = urljoin(site_url, finding["link"])

    def to_text(self, shown: int = 10, marks: dict | None = None) -> str:
        marks = marks or _MARKS
        arrow = "→" if marks["supported"] == _MARKS["supported"] else "->"
        org, t = self.org, self.org._t
        matrix, lang = org.matrix, org.lang
        s = self.summary()
        lines = [t("org.text.summary", mailboxes=s["mailboxes"], supported=s["supported"], limited=s["limited"],
                   unsupported=s["unsupported"], unknown=s["unknown"], not_using=s[_NOT_USING])]

        def listed(mailboxes) -> str:
            names = [m[2] or m[1] or m[0] for m in mailboxes[:shown]]
            more = len(mailboxes) - len(names)
            return ", ".join(names) + (" " + t("org.text.more", count=more) if more > 0 else "")

        for group in self.groups():
            lines.append("")
            count = group["count"]
            mailboxes = self.mailboxes_of(group)
            profile = group["profile"]
            if group["status"] is None:
                lines.append(t("org.text.not_using", count=count))
                lines.append("  " + t("org.text.mailboxes", mailboxes=listed(mailboxes)))
                continue
            status = matrix.text("status." + group["status"], lang)
            lines.append(f"{marks[group['status']]} " + t("org.text.group", profile=profile["name"] or profile["id"],
                                                        id=profile["id"], count=count, status=status))
            config = ", ".join(f"{k}={_word(v)}" for k, v in group["configuration"].items())
            lines.append("  " + t("org.text.configuration", configuration=config))
            for f in group["findings"]:
                lines.append(f"  {marks[f['severity']]} [{matrix.text('severity.' + f['severity'], lang)}] {f['message']}")
                if f.get("remedy"):
                    remedy = f["remedy"]
                    if f.get("remedy_source") == "project":
                        remedy += f" ({matrix.text('remedy.project', lang)})"
                    lines.append("    " + matrix.text("cli.remedy", lang, remedy=remedy))
                if f.get("fix"):
                    fix = ", ".join(f"{k}={_word(v)}" for k, v in f["fix"].items())
                    lines.append("    " + t("org.text.fix", fix=fix))
                lines.append("    " + matrix.text("cli.link", lang, link=f["link"]) + f"  ({f['rule']})")
            for q in group["open_questions"]:
                outcomes = ", ".join(f"{matrix.value_label(q['field'], v, lang)} {arrow} {matrix.text('status.' + st, lang)}"
                                     for v, st in q["outcomes"].items())
                lines.append("  ? " + t("org.text.open", field=q["field"], outcomes=outcomes, id=profile["id"]))
            lines.append("  " + t("org.text.mailboxes", mailboxes=listed(mailboxes)))
            for rule, notice in group["notices"].items():
                which = [m for m in mailboxes if rule in m[3]]
                lines.append(f"  {marks['info']} {notice['message']} ({len(which)}): {listed(which)}")
        if self.problems:
            lines.append("")
            lines.append(t("org.text.problems", count=len(self.problems)))
            lines.extend("  " + p["message"] for p in self.problems)
        return "\n".join(lines)


def _word(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(v)
    return str(v)


def _cell(text: str) -> str:
    """A spreadsheet must not read a name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def parse_answers(items, matrix: Matrix, lang: str) -> dict:
    """``PROFILEID:field=value`` strings (or a mapping {profile: {field: value}})
    into answers per profile, each value checked against the contract."""
    answers: dict = {}
    messages = []
    pairs = []
    if isinstance(items, dict):
        for profile, fields in items.items():
            if not isinstance(fields, dict):
                messages.append(matrix.text("org.error.answer_form", lang, given=str(profile)))
                continue
            pairs.extend((str(profile), k, v) for k, v in fields.items())
    else:
        for item in items:
            profile, sep, rest = item.partition(":")
            field, eq, value = rest.partition("=")
            if not sep or not eq or not profile or not field:
                messages.append(matrix.text("org.error.answer_form", lang, given=item))
                continue
            spec = matrix.fields.get(field)
            if spec is not None and spec["type"] == "boolean" and value in ("true", "false"):
                value = value == "true"
            elif spec is not None and spec["type"] == "multi":
                value = value.split(",")
            pairs.append((profile, field, value))
    for profile, field, value in pairs:
        if field not in matrix.fields:
            messages.append(matrix.text("error.unknown_field", lang, field=field, allowed=", ".join(matrix.fields)))
            continue
        problem = matrix._check_value(field, value, lang)
        if problem is not None:
            messages.append(problem.message)
            continue
        answers.setdefault(profile.lower(), {})[field] = value
    if messages:
        raise OrgError(messages)
    return answers


# -- the browser's entry points (one organization at a time) -------------------
_state: dict = {}


def start(request: str) -> str:
    """``{"lang", "deployment", "answers"}``: begin reading files. Returns
    ``{"ok": true}`` or ``{"errors": [...]}``."""
    try:
        options = json.loads(request)
        matrix = load_matrix()
        lang = options.get("lang") or matrix.default_language
        org = Organization(matrix, lang)
        answers = parse_answers(options.get("answers") or {}, matrix, lang)
        deployment = options.get("deployment") or None
        if deployment is not None:
            problem = matrix._check_value("deployment", deployment, lang)
            if problem is not None:
                raise OrgError([problem.message])
    except (OrgError, ConfigError) as exc:
        return json.dumps({"errors": list(getattr(exc, "messages", None) or [str(exc)])}, ensure_ascii=False)
    except ValueError:
        return json.dumps({"errors": ["bad request"]})
    _state.clear()
    _state.update(org=org, answers=answers, deployment=deployment)
    return json.dumps({"ok": True})


def add_file(name: str, text: str) -> str:
    org = _state["org"]
    before = len(org.mailboxes), len(org.profiles)
    org.add_text(name, text)
    return json.dumps({"mailboxes": len(org.mailboxes) - before[0], "profiles": len(org.profiles) - before[1]})


def finish(request: str | None = None) -> str:
    """Evaluate what was read (again, with new answers if the request gives
    some) and return what the page draws."""
    org = _state["org"]
    if request:
        options = json.loads(request)
        try:
            _state["answers"] = parse_answers(options.get("answers") or {}, org.matrix, org.lang)
        except OrgError as exc:
            return json.dumps({"errors": exc.messages}, ensure_ascii=False)
    report = org.evaluate(_state["deployment"], _state["answers"])
    _state["report"] = report
    return report.page_json()


def rows(group: int, limit: int) -> str:
    return _state["report"].rows_json(group, limit)


def export(fmt: str) -> str:
    report = _state["report"]
    return report.to_csv() if fmt == "csv" else report.to_json()
