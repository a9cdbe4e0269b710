"""Read a mailbox's alerts: Dataverse ``tracelogs`` records and the mailboxes'
last-error columns in, each mailbox's latest alert with its explanation out,
and the mailboxes grouped by cause, worst first ("14 mailboxes: the owner
lacks privileges"). Standard library only; the organization check calls it.

Records are what the Web API returns (README: "Reading alerts"):

- ``tracelogs`` (table ``tracelog``; Microsoft's Dataverse reference, 2023-02-15):
  ``_regardingobjectid_value`` (the mailbox or email server profile the alert
  is about: those are the lookup's only targets), ``level`` (1 Information,
  2 Warning, 3 Error), ``tracecode`` (an integer code), ``text``, ``createdon``
  and ``modifiedon`` (the time the same alert was last logged again for the
  same record). The lookup's
  ``@Microsoft.Dynamics.CRM.lookuplogicalname`` annotation says mailbox or
  emailserverprofile when the request asks for it; without it, the id is
  looked up among the mailboxes given.
- ``mailboxes``: ``mailboxid``, ``_emailserverprofile_value``, and where the
  organization has them ``lastsyncerrorcode`` (an integer), ``lastsyncerror``
  and ``lastsyncerroroccurredon``.

An alert about a profile is an alert for every mailbox that uses the profile.
Information-level traces (level 1) are not alerts. The explanation comes from
the alert's text; a last sync error without a matching text is looked up by
its integer code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import explain as _explain

__all__ = ["Alert", "AlertsError", "latest_alerts", "group_by_cause", "summary_lines", "records_of",
           "LEVELS", "TRACELOG_SELECT", "TRACELOG_ENTITY_SET", "TRACELOG_QUERY", "plural", "group_line"]

LEVELS = {1: "information", 2: "warning", 3: "error"}
# The columns the reader uses (README documents the whole request).
TRACELOG_SELECT = ("tracelogid", "_regardingobjectid_value", "level", "tracecode", "text", "createdon", "modifiedon")
TRACELOG_ENTITY_SET = "tracelogs"
# The request for the last 30 days of warnings and errors (README: "Reading alerts"),
# relative to the Web API's root; the org page builds its link from it.
TRACELOG_QUERY = (TRACELOG_ENTITY_SET + "?$select=" + ",".join(TRACELOG_SELECT)
                  + "&$filter=level ge 2 and Microsoft.Dynamics.CRM.LastXDays(PropertyName='modifiedon',PropertyValue=30)"
                  + "&$orderby=modifiedon desc")
_LOOKUP = "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
_MAX_TEXT = _explain.MAX_BYTES  # characters of an alert's text looked at (a trace's text is at most 2,000)
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


class AlertsError(ValueError):
    """An export that is not a list of tracelog or mailbox records."""


@dataclass
class Alert:
    """A mailbox's latest alert and the causes its text matches (most specific first)."""

    mailboxid: str
    origin: str                 # "tracelog" or "mailbox" (its last-error columns)
    regarding: str              # "mailbox" or "emailserverprofile"
    text: str | None
    code: int | None            # tracecode, or lastsyncerrorcode
    level: int | None           # 1 information, 2 warning, 3 error; None for a mailbox's last error
    on: str | None              # when it was (last) logged, as the export gives it
    causes: list = field(default_factory=list)   # matches of checker.explain.match

    @property
    def cause_id(self) -> str | None:
        return self.causes[0]["error"]["id"] if self.causes else None

    def to_dict(self, lang: str) -> dict:
        return {
            "origin": self.origin, "regarding": self.regarding, "text": self.text, "code": self.code,
            "level": LEVELS.get(self.level) if self.level is not None else None, "on": self.on,
            "explanation": [_explain.cause(c, lang) for c in self.causes],
        }


def records_of(export) -> list:
    """The records of a Web API response (``{"value": [...]}``) or of a plain list."""
    if isinstance(export, dict) and isinstance(export.get("value"), list):
        return export["value"]
    if isinstance(export, list):
        return export
    raise AlertsError("expected a Web API response with a `value` list, or a list of records")


def _when(value) -> datetime:
    if not isinstance(value, str):
        return _OLDEST
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _OLDEST
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _text(value) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value.strip() else None


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _id(value) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _causes(text: str | None, code: int | None, by_code: bool, data: dict) -> list:
    found = _explain.match(text, data) if text else []
    if not found and by_code and code is not None:
        found = _explain.explain_code(code, data)
    return found


def latest_alerts(tracelog_records, mailbox_records, since: str | None = None,
                  data: dict | None = None) -> dict[str, Alert]:
    """{mailboxid: Alert} for every mailbox with an alert (warning or error)
    from `tracelog_records` or its own last-error columns; `since` (ISO date or
    time) leaves out older ones. Records of the wrong shape are skipped."""
    data = data or _explain.errors_data()
    limit = _when(since) if since else None
    mailboxes = {}
    by_profile: dict[str, list[str]] = {}
    for rec in mailbox_records:
        mid = _id(rec.get("mailboxid")) if isinstance(rec, dict) else None
        if mid is None:
            continue
        mailboxes[mid] = rec
        profile = _id(rec.get("_emailserverprofile_value"))
        if profile:
            by_profile.setdefault(profile, []).append(mid)
    best: dict[str, tuple[datetime, Alert]] = {}

    def offer(mid: str, moment: datetime, alert: Alert) -> None:
        if limit is not None and moment < limit:
            return
        if mid not in best or moment > best[mid][0]:
            best[mid] = (moment, alert)

    for rec in tracelog_records:
        if not isinstance(rec, dict):
            continue
        rid = _id(rec.get("_regardingobjectid_value"))
        level = _int(rec.get("level"))
        if rid is None or level == 1:
            continue
        kind = rec.get(_LOOKUP)
        if kind not in ("mailbox", "emailserverprofile"):
            kind = "mailbox" if rid in mailboxes else "emailserverprofile" if rid in by_profile else None
        targets = [rid] if kind == "mailbox" and rid in mailboxes else by_profile.get(rid, []) if kind == "emailserverprofile" else []
        if not targets:
            continue
        on = rec.get("modifiedon") if isinstance(rec.get("modifiedon"), str) else rec.get("createdon")
        moment = max(_when(rec.get("modifiedon")), _when(rec.get("createdon")))
        text, code = _text(rec.get("text")), _int(rec.get("tracecode"))
        causes = _causes(text, code, False, data)  # tracecode is not the HRESULT the pages name
        for mid in targets:
            offer(mid, moment, Alert(mid, "tracelog", kind, text, code, level, on if isinstance(on, str) else None, causes))
    for mid, rec in mailboxes.items():
        code, text = _int(rec.get("lastsyncerrorcode")), _text(rec.get("lastsyncerror"))
        if code in (None, 0) and text is None:
            continue
        on = rec.get("lastsyncerroroccurredon")
        moment = _when(on)
        if mid in best and best[mid][0] >= moment:
            continue
        offer(mid, moment, Alert(mid, "mailbox", "mailbox", text, code, None, on if isinstance(on, str) else None,
                                 _causes(text, code, True, data)))
    return {mid: alert for mid, (_m, alert) in best.items()}


def group_by_cause(alerts: dict[str, Alert], lang: str, data: dict | None = None) -> list[dict]:
    """Mailboxes grouped by the most specific cause of their latest alert, worst
    first: errors before warnings before last-sync errors of unknown level, then
    the larger group, then the title. Alerts with no known cause form one group
    (`cause` None) at its place in that order."""
    data = data or _explain.errors_data()
    groups: dict = {}
    for mid, alert in alerts.items():
        g = groups.setdefault(alert.cause_id, {"cause": alert.cause_id, "mailboxes": [], "level": None})
        g["mailboxes"].append(mid)
        if alert.level is not None and (g["level"] is None or alert.level > g["level"]):
            g["level"] = alert.level
    titles = {e["id"]: e["title"][lang] for e in data["errors"]}
    out = []
    for g in groups.values():
        title = titles[g["cause"]] if g["cause"] else data["strings"]["alerts.unexplained"][lang]
        out.append({"cause": g["cause"], "title": title, "count": len(g["mailboxes"]),
                    "level": LEVELS.get(g["level"]) if g["level"] else None, "mailboxes": sorted(g["mailboxes"]),
                    "_rank": (-(g["level"] or 0), -len(g["mailboxes"]), title)})
    out.sort(key=lambda g: g["_rank"])
    for g in out:
        del g["_rank"]
    return out


def plural(count: int, lang: str) -> str:
    """The plural category of `count` (CLDR): "one" or "other". Portuguese
    counts 0 and 1 as "one", English 1 alone."""
    if lang.split("-")[0] == "pt":
        return "one" if count in (0, 1) else "other"
    return "one" if count == 1 else "other"


def group_line(group: dict, lang: str, data: dict | None = None) -> str:
    """One group as the summary says it: "14 mailboxes: the owner lacks privileges"."""
    data = data or _explain.errors_data()
    key = "alerts.group_one" if plural(group["count"], lang) == "one" else "alerts.group"
    title = group["title"] if group.get("title") else data["strings"]["alerts.unexplained"][lang]
    return _explain.fill_placeholders(data["strings"][key][lang], {"count": str(group["count"]), "title": title})


def summary_lines(groups: list[dict], lang: str, data: dict | None = None) -> list[str]:
    """One line per group, as the summary says it: "14 mailboxes: the owner lacks privileges"."""
    data = data or _explain.errors_data()
    titles = {e["id"]: e["title"][lang] for e in data["errors"]}
    return [group_line({"count": g["count"], "title": titles[g["cause"]] if g["cause"] else None}, lang, data)
            for g in groups]
