"""Step 3 of the organization check: the result of every mailbox, and its
outputs (text, JSON, CSV and what the page draws).

Every mailbox record read appears once, in one of four states:
``evaluated`` (a verdict), ``not_using_server_side_sync``, ``inactive`` (the
mailbox or its profile is inactive, or every item it syncs is disabled) and
``not_evaluated`` (with the reason). The summary counts each and adds up.

A mailbox row is a tuple (id, name, email, profile id, verdict index or None,
notices, state, reason); each distinct verdict is kept once and shared. Extra
per-mailbox fields (an explanation of the mailbox's alerts, say) go through
``Report.annotate``: they are added to that mailbox's JSON object, CSV row and
page row without touching the shared verdicts.

Standard library only (runs in the page under Pyodide too).
"""

from __future__ import annotations

import csv
import io
import json
from json.encoder import encode_basestring

from .inputs import printable
from .orgalerts import empty as empty_alerts

__all__ = ["Report", "STATES", "STATUS_ORDER"]

STATUS_ORDER = ("unsupported", "unknown", "limited", "supported")
STATES = ("evaluated", "not_using_server_side_sync", "inactive", "not_evaluated")
_MARKS = {"supported": "✓", "limited": "!", "unsupported": "✗", "unknown": "?", "info": "i"}
_NOT_USING = "not_using_server_side_sync"


class Report:
    """The results of one organization, with each distinct verdict kept once.

    The notices (record states shown beside the verdict) are kept apart, so
    mailboxes that differ only by them still share one verdict."""

    def __init__(self, org):
        self.org = org
        self.verdicts: list[dict] = []
        self.rows: list[tuple] = []
        self.problems: list[dict] = []
        self.problem_counts: dict[str, int] = {}
        self.mixed = None
        self.extras: dict[str, dict] = {}     # mailbox id -> extra fields (see annotate)
        self._notices = [org._notice(n) for n in org.notices]
        self._groups: list[dict] = []
        self.alerts: dict = empty_alerts()    # set by the alerts' attach (checker.orgalerts)

    def add_verdict(self, verdict: dict) -> int:
        self.verdicts.append(verdict)
        return len(self.verdicts) - 1

    def add_mailbox(self, ident, name, email, profile_id, index, notices, state="evaluated", reason=None) -> None:
        self.rows.append((ident, name, email, profile_id, index, notices, state, reason))

    def annotate(self, mailbox_id: str, field: str, value) -> None:
        """Attach one more field to a mailbox's result (the hook for per-mailbox
        additions such as ``"alert"``): it is written after the mailbox's own
        fields in the JSON, as a JSON cell of its own column in the CSV, and
        given to the page with the mailbox's row."""
        self.extras.setdefault(mailbox_id, {})[field] = value

    def findings(self, index: int, notices: tuple) -> list[dict]:
        return self.verdicts[index]["findings"] + [self._notices[i] for i in notices]

    # -- figures ------------------------------------------------------------
    def summary(self) -> dict:
        counts = {s: 0 for s in ("supported", "limited", "unsupported", "unknown")}
        states = {s: 0 for s in STATES[1:]}
        for row in self.rows:
            if row[4] is None:
                states[row[6]] += 1
            else:
                counts[self.verdicts[row[4]]["status"]] += 1
        org = self.org
        return {"mailboxes": len(self.rows), **counts, **states,
                "duplicates": org.duplicates["mailbox"] + org.duplicates["file"],
                "missing_pages": org.missing_pages()}

    def exit_code(self) -> int:
        """0: every mailbox that uses server-side synchronization was evaluated and
        is supported or limited, and no page is missing; 1 otherwise; 2 when a
        file was refused or no file holds mailboxes."""
        org = self.org
        if org.refusals or "mailbox" not in org.recognized:
            return 2
        if org.missing_pages():
            return 1
        bad = {i for i, v in enumerate(self.verdicts) if v["status"] in ("unsupported", "unknown")}
        return 1 if any(row[4] in bad or row[6] == "not_evaluated" for row in self.rows) else 0

    def profile_name(self, profile_id) -> str:
        profile = self.org.profiles.get(profile_id) if profile_id else None
        return profile[0] if profile else ""

    def organization(self) -> dict:
        """Organization-wide facts: mixed synchronization (with the mailboxes on
        each path) and the questions that belong to the whole organization."""
        out: dict = {"missing_pages": self.org.missing_pages(), "open_questions": self.org_questions()}
        if self.mixed:
            out["mixed_act"] = {path: [r[0] for r in rows] for path, rows in self.mixed.items()}
        return out

    def org_questions(self) -> list[dict]:
        """Questions of fields that belong to the whole organization (the
        deployment): asked once, with the number of mailboxes they decide."""
        from .orgmap import ORG_WIDE

        counts: dict[str, int] = {}
        for row in self.rows:
            if row[4] is not None:
                for q in self.verdicts[row[4]]["open_questions"]:
                    if q["field"] in ORG_WIDE:
                        counts[q["field"]] = counts.get(q["field"], 0) + 1
        return [{"field": f, "mailboxes": n} for f, n in counts.items()]

    # -- JSON (the contract) --------------------------------------------------
    def to_json(self, indent: int | None = None) -> str:
        """``{"summary", "mailboxes", "problems", "problem_counts", "organization"}``;
        each distinct verdict is serialized once and shared by the mailboxes that have it."""
        text = "".join(self.iter_json())
        if indent is not None:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=indent)
        return text

    def iter_json(self, batch: int = 500):
        """The JSON of ``to_json`` in pieces of ``batch`` mailboxes, so a large
        organization is written without holding the whole text."""
        dumps = json.dumps
        tails: dict = {}
        text_of = encode_basestring  # json.dumps of a str, without its overhead
        ids: dict = {None: "null"}
        extras = self.extras
        parts = []
        yield '{"summary": ' + dumps(self.summary()) + ',\n"mailboxes": [\n'
        first = ""
        for ident, name, email, profile_id, index, notices, state, reason in self.rows:
            pid = ids.get(profile_id)
            if pid is None:
                pid = ids[profile_id] = text_of(profile_id)
            head = (f'{{"mailboxid": {"null" if ident is None else text_of(ident)}, "name": {text_of(name)}, '
                    f'"emailaddress": {text_of(email)}, "emailserverprofileid": {pid}, '
                    f'"uses_server_side_sync": {"false" if state == _NOT_USING else "true"}, '
                    f'"state": "{state}", "reason": {"null" if reason is None else text_of(reason)}')
            if index is None:
                tail = ', "status": null, "configuration": null, "findings": [], "open_questions": [], "readings": []'
            else:
                tail = tails.get((index, notices))
                if tail is None:
                    v = self.verdicts[index]
                    tail = tails[index, notices] = (
                        f', "status": {dumps(v["status"])}, "configuration": {dumps(v["configuration"], ensure_ascii=False)}'
                        f', "findings": {dumps(self.findings(index, notices), ensure_ascii=False)}'
                        f', "open_questions": {dumps(v["open_questions"], ensure_ascii=False)}'
                        f', "readings": {dumps(v.get("readings", []), ensure_ascii=False)}')
            more = extras.get(ident) if extras else None
            if more:
                tail += "".join(f", {text_of(k)}: {dumps(v, ensure_ascii=False)}" for k, v in more.items())
            parts.append(head + tail + "}")
            if len(parts) >= batch:
                yield first + ",\n".join(parts)
                first, parts = ",\n", []
        # One mailbox a line: readable, and no second pass to indent 20,000 of them.
        yield ((first if parts else "") + ",\n".join(parts) + '\n],\n"problems": '
               + dumps(self.problems, ensure_ascii=False)
               + ',\n"problem_counts": ' + dumps(self.problem_counts)
               + ',\n"organization": ' + dumps(self.organization(), ensure_ascii=False)
               + ',\n"alerts": ' + dumps(self.alerts, ensure_ascii=False) + "}")

    # -- CSV ------------------------------------------------------------------
    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        extra_columns = sorted({k for fields in self.extras.values() for k in fields})
        # A mailbox's alert: its group (1 = the worst cause), level and cause in plain
        # cells a spreadsheet can sort and filter by, then the whole alert as JSON.
        alert_columns = ["alert_group", "alert_level", "alert_cause", "alert_title"] if "alert" in extra_columns else []
        titles = {g["cause"]: g["title"] for g in self.alerts["groups"]}
        writer.writerow(["mailboxid", "name", "emailaddress", "emailserverprofileid", "profile_name",
                         "uses_server_side_sync", "state", "reason", "status", "rules", "open_questions",
                         "configuration", *alert_columns, *extra_columns])
        for ident, name, email, profile_id, index, notices, state, reason in self.rows:
            if index is None:
                tail = ("", "", "", "")
            else:
                v = self.verdicts[index]
                tail = (v["status"], ";".join(f["rule"] for f in self.findings(index, notices)),
                        ";".join(q["field"] for q in v["open_questions"]),
                        json.dumps(v["configuration"], ensure_ascii=False, sort_keys=True))
            more = self.extras.get(ident, {})
            alert = more.get("alert") if alert_columns else None
            if isinstance(alert, dict):
                plain = [str(alert.get("group") or ""), str(alert.get("level") or ""), str(alert.get("cause") or ""),
                         _cell(titles.get(alert.get("cause"), ""))]
            else:
                plain = ["", "", "", ""] if alert_columns else []
            writer.writerow([_cell(ident or ""), _cell(name), _cell(email), _cell(profile_id or ""),
                             _cell(self.profile_name(profile_id)), "false" if state == _NOT_USING else "true",
                             state, _cell(reason or ""), *tail, *plain,
                             *(_cell(json.dumps(more[c], ensure_ascii=False)) if c in more else ""
                               for c in extra_columns)])
        return out.getvalue()

    # -- groups (text and page) ------------------------------------------------
    def groups(self) -> list[dict]:
        """Mailboxes that share a profile and a verdict (or a state and reason),
        worst first. A group keeps its mailboxes as row numbers (``rows``), and
        counts its notices. Organization-wide questions are left to ``organization``."""
        from .orgmap import ORG_WIDE

        groups: dict[tuple, dict] = {}
        notices_of = self._notices
        for number, (_ident, _name, _email, profile_id, index, notices, state, reason) in enumerate(self.rows):
            key = (profile_id if state != _NOT_USING else None, index, state,
                   reason if state == "inactive" else None)
            group = groups.get(key)
            if group is None:
                verdict = self.verdicts[index] if index is not None else None
                group = groups[key] = {
                    "profile": {"id": key[0], "name": self.profile_name(key[0])},
                    "uses_server_side_sync": state != _NOT_USING,
                    "state": state,
                    "reason": reason if state == "inactive" else None,
                    "status": verdict["status"] if verdict else None,
                    "configuration": verdict["configuration"] if verdict else None,
                    "findings": verdict["findings"] if verdict else [],
                    "open_questions": [q for q in verdict["open_questions"] if q["field"] not in ORG_WIDE]
                    if verdict else [],
                    "readings": verdict.get("readings", []) if verdict else [],
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
        state_rank = {"not_evaluated": -1, "inactive": 10, _NOT_USING: 11}
        return sorted(groups.values(), key=lambda g: (rank.get(g["status"], state_rank.get(g["state"], 9)),
                                                      g["profile"]["name"].casefold(), g["profile"]["id"] or "",
                                                      -g["count"]))

    def mailboxes_of(self, group: dict, limit: int | None = None) -> list[list]:
        """A group's mailboxes as [id, name, email address, [notice rule ids], reason, extras]."""
        notices_of = self._notices
        out = []
        for number in group["rows"][:limit]:
            ident, name, email, _p, _i, notices, _state, reason = self.rows[number]
            out.append([ident, name, email, [notices_of[i]["rule"] for i in notices], reason,
                        self.extras.get(ident, {})])
        return out

    def page_json(self) -> str:
        """What the page draws: summary, groups (their mailboxes come with
        ``rows_json``, when a group is opened), problems, the organization."""
        self._groups = self.groups()
        shown = [{k: v for k, v in g.items() if k != "rows"} for g in self._groups]
        org = self.org
        return json.dumps({"summary": self.summary(), "groups": shown, "problems": self.problems,
                           "problem_counts": self.problem_counts, "organization": self.organization(),
                           "org_lines": self.org_lines(), "mixed_text": self.mixed_lines(),
                           "problem_lines": self.problem_lines(), "alerts": self.alerts,
                           "alert_lines": self.alert_lines(),
                           "deployment": org.deployment(None), "exit": self.exit_code()}, ensure_ascii=False)

    def rows_json(self, group: int, limit: int) -> str:
        """The mailboxes of one group of the last ``page_json``, at most ``limit``."""
        if not 0 <= group < len(self._groups):
            return "[]"
        return json.dumps(self.mailboxes_of(self._groups[group], limit), ensure_ascii=False)

    def absolute_links(self, site_url: str) -> None:
        """Finding links under the site's public address, so a terminal can open them."""
        from urllib.parse import urljoin

        for finding in [f for v in self.verdicts for f in v["findings"]] + self._notices:
            if finding["link"]:
                finding["link"] = urljoin(site_url, finding["link"])
        explanations = [g["explanation"] for g in self.alerts["groups"] if g["explanation"]]
        explanations += [c for more in self.extras.values() if isinstance(more.get("alert"), dict)
                         for c in more["alert"].get("explanation", [])]
        for related in {id(r): r for e in explanations for r in e.get("related", [])}.values():
            related["link"] = urljoin(site_url, related["link"])

    # -- words shared by the text and the page ------------------------------------
    def _listed(self, rows, shown: int = 10) -> str:
        t = self.org._t
        names = [printable(r[2] or r[1] or r[0] or "?") for r in rows[:shown]]
        more = len(rows) - len(names)
        return ", ".join(names) + (" " + t("org.text.more", count=more) if more > 0 else "")

    def org_lines(self) -> list[str]:
        """What the whole result needs said first: repeated records, missing
        pages, the questions of the whole organization."""
        t = self.org._t
        s = self.summary()
        lines = []
        if s["duplicates"]:
            lines.append(t("org.text.duplicates", count=s["duplicates"]))
        for table in s["missing_pages"]:
            lines.append(t("org.text.missing_pages", table=table))
        for q in self.org_questions():
            lines.append(t("org.text.org_open", field=q["field"], count=q["mailboxes"]))
        return lines

    def mixed_lines(self) -> list[str]:
        if not self.mixed:
            return []
        t = self.org._t
        return [t("org.text.mixed"),
                t("org.text.mixed_outlook", count=len(self.mixed["outlook"]), mailboxes=self._listed(self.mixed["outlook"])),
                t("org.text.mixed_server_side", count=len(self.mixed["server_side_sync"]),
                  mailboxes=self._listed(self.mixed["server_side_sync"]))]

    def problem_lines(self) -> list[str]:
        """The problems kept, then one line per kind for those only counted."""
        t = self.org._t
        lines = [printable(p["message"]) for p in self.problems]
        kept: dict[str, int] = {}
        for p in self.problems:
            kept[p["code"]] = kept.get(p["code"], 0) + 1
        for code, count in self.problem_counts.items():
            if count > kept.get(code, 0):
                lines.append(t("org.text.more_problems", count=count - kept.get(code, 0), code=code))
        return lines

    def alert_lines(self) -> list[str]:
        """What the alerts say first: how many mailboxes have one, and how every
        alert record read was counted (none when nothing about alerts was given)."""
        a = self.alerts
        if not (a["records"] or a["mailboxes"]):
            return []
        t = self.org._t
        lines = [t("org.alerts.heading", count=a["mailboxes"])]
        if a["records"]:
            lines.append(t("org.alerts.read", records=a["records"], latest=a["latest"], older=a["older"],
                           information=a["information"], unmatched=a["unmatched"]))
        return lines

    def _alert_text(self, marks: dict, shown: int) -> list[str]:
        """The mailboxes grouped by the cause of their latest alert, worst first,
        each cause explained once."""
        from .explain import errors_data, fill_placeholders

        head = self.alert_lines()
        if not head:
            return []
        data = errors_data(self.org.matrix.data)
        lang = self.org.lang

        def et(key, **values):
            return fill_placeholders(data["strings"][key][lang], {k: str(v) for k, v in values.items()})

        names = {r[0]: r for r in self.rows}
        lines = ["", head[0]]
        for group in self.alerts["groups"]:
            mark = marks["unsupported"] if group["level"] == "error" else marks["limited"]
            lines.append(f"{mark} {group['line']}")
            e = group["explanation"]
            if e:
                own = f" ({et('explain.project')})" if e["remedy_source"] == "project" else ""
                lines.append(f"    {et('explain.meaning')}: {e['meaning']}")
                lines.append(f"    {et('explain.action')}: {e['action']}{own}")
                lines.append(f"    {et('explain.source', date=e['source']['date'])}: {e['source']['url']}")
                for r in e["related"]:
                    lines.append(f"    {et('explain.related')}: {r['link']}  ({r['entry']})")
            rows = [names[m] for m in group["mailboxes"] if m in names]
            lines.append("    " + self.org._t("org.text.mailboxes", mailboxes=self._listed(rows, shown)))
        lines.extend(head[1:])
        return lines

    def to_text(self, shown: int = 10, marks: dict | None = None) -> str:
        marks = marks or _MARKS
        arrow = "→" if marks["supported"] == _MARKS["supported"] else "->"
        org, t = self.org, self.org._t
        matrix, lang = org.matrix, org.lang
        s = self.summary()
        lines = [t("org.text.summary", mailboxes=s["mailboxes"], supported=s["supported"], limited=s["limited"],
                   unsupported=s["unsupported"], unknown=s["unknown"], not_using=s[_NOT_USING],
                   inactive=s["inactive"], not_evaluated=s["not_evaluated"])]
        lines += self.org_lines()
        lines += self._alert_text(marks, shown)
        if self.mixed:
            lines.append("")
            lines.append(f"{marks['limited']} " + self.mixed_lines()[0])
            lines.extend("  " + line for line in self.mixed_lines()[1:])

        def listed(mailboxes) -> str:
            return self._listed([(m[0], m[1], m[2]) for m in mailboxes], shown)

        for group in self.groups():
            lines.append("")
            count = group["count"]
            mailboxes = self.mailboxes_of(group)
            profile = group["profile"]
            pname = printable(profile["name"] or profile["id"] or "")
            if group["state"] == _NOT_USING:
                lines.append(t("org.text.not_using", count=count))
                lines.append("  " + t("org.text.mailboxes", mailboxes=listed(mailboxes)))
                continue
            if group["state"] == "inactive":
                lines.append(t("org.text.inactive", count=count, reason=group["reason"]))
                lines.append("  " + t("org.text.mailboxes", mailboxes=listed(mailboxes)))
                continue
            if group["state"] == "not_evaluated":
                lines.append(f"{marks['unknown']} " + t("org.text.not_evaluated", count=count))
                for m in mailboxes[:shown]:
                    lines.append(f"  {printable(m[2] or m[1] or m[0] or '?')}: {printable(m[4] or '')}")
                if len(mailboxes) > shown:
                    lines.append("  " + t("org.text.more", count=len(mailboxes) - shown))
                continue
            status = matrix.text("status." + group["status"], lang)
            lines.append(f"{marks[group['status']]} " + t("org.text.group", profile=pname, id=profile["id"],
                                                        count=count, status=status))
            config = ", ".join(f"{k}={_word(v)}" for k, v in group["configuration"].items())
            lines.append("  " + t("org.text.configuration", configuration=config))
            for r in group["readings"]:
                lines.append(f"  {marks['info']} {r['message']}")
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
        problems = self.problem_lines()
        if problems:
            lines.append("")
            lines.append(t("org.text.problems", count=sum(self.problem_counts.values())))
            lines.extend("  " + p for p in problems)
        return "\n".join(lines)


def _word(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(v)
    return str(v)


def _cell(text: str) -> str:
    """A spreadsheet must not read a cell as a formula: a leading =, +, -, @, tab
    or carriage return gets a quote before it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
