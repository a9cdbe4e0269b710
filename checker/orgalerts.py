"""The alerts of an organization check: a ``tracelogs`` export read with the other
files, and the mailboxes' last-error columns, become each mailbox's latest alert
with its explanation (``Report.annotate(mailbox, "alert", ...)``) and the
mailboxes grouped by cause, worst first.

Every alert record is accounted for: ``records`` = ``information`` (level 1:
not an alert) + ``latest`` (the latest alert of some mailbox) + ``older`` (each
mailbox it is about has a later alert) + ``unmatched`` (about no mailbox given:
an id that is neither a mailbox of the files nor the profile of one, or no id at
all; each is also a problem). Alerts never change a verdict or the exit status.

Memory: per record about a mailbox or profile, only the latest is kept (its text
bounded), so a month of alerts costs about one record per mailbox and profile.
Standard library only (runs in the page under Pyodide too).
"""

from __future__ import annotations

from . import alerts as _alerts
from . import explain as _explain
from .inputs import printable

__all__ = ["AlertRecords", "ENTITY_SET", "KEY", "LAST_ERROR"]

ENTITY_SET = _alerts.TRACELOG_ENTITY_SET
KEY = "tracelogid"
LAST_ERROR = ("lastsyncerrorcode", "lastsyncerror", "lastsyncerroroccurredon")
_LOOKUP = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
_KEPT = ("level", "tracecode", "createdon", "modifiedon")


def is_alert(record: dict) -> bool:
    """A tracelog record, by its key or its code column (a bare list has no context)."""
    return KEY in record or "tracecode" in record


class AlertRecords:
    """The alert records of one organization, reduced as they are read."""

    def __init__(self):
        self.records = 0
        self.information = 0
        self.no_regarding = 0
        self.latest: dict[str, tuple] = {}     # regarding id -> (moment, reduced record, file)
        self.count: dict[str, int] = {}        # regarding id -> alert records about it
        self.last_errors: dict[str, dict] = {}  # mailbox id -> its last-error columns

    def __bool__(self) -> bool:
        return bool(self.records or self.last_errors)

    def add(self, org, file: str, index: int, record: dict) -> None:
        self.records += 1
        level = record.get("level")
        if type(level) is int and level == 1:
            self.information += 1
            return
        rid = record.get("_regardingobjectid_value")
        rid = rid.strip().lower() if isinstance(rid, str) and rid.strip() else None
        if rid is None:
            self.no_regarding += 1
            org.problem(file, index, "alert_no_record", org._t("org.error.alert_no_record", file=printable(file),
                                                               index=index))
            return
        reduced = {k: record.get(k) for k in _KEPT}
        text = record.get("text")
        reduced["text"] = text[:_alerts._MAX_TEXT] if isinstance(text, str) else None
        reduced["_regardingobjectid_value"] = rid
        kind = record.get(_LOOKUP)
        if isinstance(kind, str):
            reduced[_LOOKUP] = kind
        moment = max(_alerts._when(record.get("modifiedon")), _alerts._when(record.get("createdon")))
        self.count[rid] = self.count.get(rid, 0) + 1
        known = self.latest.get(rid)
        if known is None or moment > known[0]:
            self.latest[rid] = (moment, reduced, file if known is None else known[2])

    def mailbox(self, ident: str, record: dict) -> None:
        """A mailbox record's last-error columns, when it has any."""
        if any(record.get(c) not in (None, 0, "") for c in LAST_ERROR[:2]):
            self.last_errors[ident] = {c: record.get(c) for c in LAST_ERROR}

    # -- after reading -----------------------------------------------------------
    def attach(self, org, report) -> None:
        """Each mailbox's latest alert onto the report, the groups, the counts and
        a problem for every id the alerts name that no mailbox given has."""
        if not self:
            return  # nothing about alerts was given: the report keeps its empty counts
        lang = org.lang
        data = _explain.errors_data(org.matrix.data)
        mailboxes, profile_of, used_profiles = [], {}, set()
        for ident, _name, _email, profile, _values, _reason in org.mailboxes:
            if ident is None:
                continue
            profile_of[ident] = profile
            if profile:
                used_profiles.add(profile)
            mailboxes.append({"mailboxid": ident, "_emailserverprofile_value": profile,
                              **self.last_errors.get(ident, {})})
        unmatched = self.no_regarding
        for rid, (_moment, rec, file) in self.latest.items():
            kind = rec.get(_LOOKUP)
            if kind not in ("mailbox", "emailserverprofile"):
                kind = "mailbox" if rid in profile_of else "emailserverprofile" if rid in used_profiles else None
            if (kind == "mailbox" and rid in profile_of) or (kind == "emailserverprofile" and rid in used_profiles):
                continue
            unmatched += self.count[rid]
            if kind == "emailserverprofile" or rid in org.profiles:
                message = org._t("org.error.alert_unused_profile", file=printable(file), record=rid,
                                 count=self.count[rid])
            else:
                message = org._t("org.error.alert_unknown_record", file=printable(file), record=rid,
                                 count=self.count[rid])
            org.problem(file, rid, "alert_unmatched", message)
        found = _alerts.latest_alerts([r for _m, r, _f in self.latest.values()], mailboxes, data=data)
        groups = _alerts.group_by_cause(found, lang, data)
        rank = {}
        for number, group in enumerate(groups, 1):
            causes = found[group["mailboxes"][0]].causes
            explanation = _explain.cause(causes[0], lang) if causes else None
            if explanation:
                explanation.pop("matched")
            group["line"] = _alerts.group_line(group, lang, data)
            group["explanation"] = explanation
            for mid in group["mailboxes"]:
                rank[mid] = number
        used = set()
        for mid, alert in found.items():
            if alert.origin == "tracelog":
                used.add(mid if alert.regarding == "mailbox" else profile_of.get(mid))
            report.annotate(mid, "alert", {**alert.to_dict(lang), "cause": alert.cause_id, "group": rank[mid]})
        alert_records = self.records - self.information
        levels = {"error": 0, "warning": 0, "unknown": 0}
        for alert in found.values():
            levels[_alerts.LEVELS[alert.level] if alert.level in (2, 3) else "unknown"] += 1
        report.alerts = {
            "mailboxes": len(found), "by_level": levels,
            "records": self.records, "information": self.information, "latest": len(used),
            "older": alert_records - len(used) - unmatched, "unmatched": unmatched,
            "groups": groups,
        }


def empty() -> dict:
    return {"mailboxes": 0, "by_level": {"error": 0, "warning": 0, "unknown": 0}, "records": 0, "information": 0, "latest": 0,
            "older": 0, "unmatched": 0, "groups": []}
