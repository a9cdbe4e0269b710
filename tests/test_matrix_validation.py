"""Validation of matrix/: each broken copy reports its problem at the right file and line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tooling import matrix as tooling

from .conftest import REPO, shared_file

# (name, file, text to replace, replacement, message expected at the replacement's first line)
BROKEN = [
    ("duplicate entry id", "unsupported.yaml", "      - id: uns-interception\n        facts", "      - id: uns-packet-inspection\n        facts", "is used twice among entries"),
    ("unknown fact id", "unsupported.yaml", "facts: [F-UNS-BULK-MARKETING]", "facts: [F-UNS-BULK-MARKETTING]", "unknown fact id F-UNS-BULK-MARKETTING"),
    ("unknown field", "unsupported.yaml", "when: {field: bulk_marketing_email, in: [true]}", "when: {field: bulk_email, in: [true]}", "'bulk_email' is not allowed; allowed: deployment"),
    ("unknown value", "unsupported.yaml", "when: {field: traffic_inspection, in: [content-based]}", "when: {field: traffic_inspection, in: [content]}", "'content' is not a value of traffic_inspection; values: none, by-ip-or-server-name"),
    ("missing English", "notes.yaml", "          pt-BR: Dois perfis de servidor de email\n          en: Two email server profiles\n", "          pt-BR: Dois perfis de servidor de email\n", "'en' is missing"),
    ("never fires", "notes.yaml", "when: {field: email_system, in: [other-pop3-imap]}", "when: {all: [{field: email_system, in: [other-pop3-imap]}, {field: email_system, in: [gmail]}]}", "can never hold"),
    ("yaml syntax", "cross-tenant.yaml", "        admonition: note\n", "        admonition: [note\n", "invalid YAML"),
    ("unknown source", "notes.yaml", "      - id: note-owa-hybrid\n        facts: [F-NOTE-OWA-HYBRID]\n        source: online-page\n", "      - id: note-owa-hybrid\n        facts: [F-NOTE-OWA-HYBRID]\n        source: online\n", "unknown source 'online'"),
    ("bad severity", "notes.yaml", "            severity: limited\n", "            severity: limitted\n", "'limitted' is not allowed; allowed: unsupported, unknown, limited, supported, info"),
    ("placeholder not stated", "notes.yaml", "en: Outlook on the web is not supported when Customer Engagement (on-premises) uses Exchange Online.", "en: Outlook on the web is not supported with {tenant}.", "placeholder {tenant}"),
    ("absent in unsupported rule", "unsupported.yaml", "when: {field: custom_email_provider, in: [true]}", "when: {field: tenant, absent: true}", "cannot test `absent`"),
    ("duplicate key", "sources.yaml", "    primary: false\n    as_of: 2020-05-19\n", "    primary: false\n    primary: true\n    as_of: 2020-05-19\n", "duplicate key"),
    ("bad date", "sources.yaml", "as_of: 2020-05-19", "as_of: 2020-19-05", "2020-19-05"),
    ("row with unknown system", "support-matrix.yaml", "email_systems: [gmail, yahoo-mail]", "email_systems: [gmail, hotmail]", "'hotmail' is not a value of email_system"),
    ("wrong boolean value", "exchange-online.yaml", "{field: autodiscover, in: [false]}", "{field: autodiscover, in: [no-way]}", "'no-way' is not a value of autodiscover; values: true, false"),
]


def broken_copy(tmp_path, file, old, new):
    target = tmp_path / "matrix"
    shutil.copytree(REPO / "matrix", target)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"fixture text not unique in {file}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    # the edit's own lines, and the next one (a YAML parser notices some errors there)
    return target, range(line, line + new.count("\n") + 1)


@pytest.mark.parametrize("name,file,old,new,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_matrix_reports_file_and_line(tmp_path, name, file, old, new, message):
    root, lines = broken_copy(tmp_path, file, old, new)
    with pytest.raises(tooling.MatrixInvalid) as info:
        tooling.load(root)
    rendered = [str(i) for i in info.value.issues]
    # the message points at one of the lines the edit wrote
    assert any(r.startswith(tuple(f"matrix/{file}:{n}:" for n in lines)) and message in r
               for r in rendered), rendered


def test_validate_command_prints_every_problem_and_a_count(tmp_path):
    root, _ = broken_copy(tmp_path, "unsupported.yaml", "facts: [F-UNS-BULK-MARKETING]", "facts: [f-uns-x]")
    (root / "notes.yaml").write_text((root / "notes.yaml").read_text().replace("severity: limited", "severity: x"))
    result = subprocess.run([sys.executable, "-m", "checker", "validate", "--matrix", str(root)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].endswith("problem(s) in the matrix")
    assert int(lines[-1].split()[0]) == len(lines) - 1 >= 2
    assert all(l.startswith("matrix/") for l in lines[:-1])
    assert "Traceback" not in result.stderr


def test_repository_matrix_is_valid_and_compiled(loaded):
    assert tooling.stale_outputs(loaded) == []


def test_schema_enumerations_equal_the_questions(loaded):
    schema = json.loads((REPO / "matrix" / "schema.json").read_text())
    assert schema["$defs"]["field_id"]["enum"] == [q["id"] for q in loaded.questions]
    props = schema["$defs"]["configuration"]["properties"]
    for q in loaded.questions:
        values = [v["id"] for v in q["values"]]
        if q["type"] == "choice":
            assert props[q["id"]]["enum"] == values
        elif q["type"] == "multi":
            assert props[q["id"]]["items"]["enum"] == values
        else:
            assert props[q["id"]]["type"] == "boolean" and values == ["true", "false"]


def test_contract_fields_and_values_are_all_there(loaded):
    contract = shared_file("CONTRACT.md")
    rows = [l for l in contract.read_text().splitlines() if l.startswith("| `")]
    fields = {q["id"]: [v["id"] for v in q["values"]] for q in loaded.questions}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name = cells[0].strip("`")
        assert name in fields, name
        import re
        for value in re.findall(r"`([a-z0-9-]+)`", cells[1]):
            assert value in fields[name], (name, value)


def test_fact_ids_match_facts_md(loaded):
    facts_md = shared_file("FACTS.md")
    import re
    ids = set(re.findall(r"\b(F-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b", facts_md.read_text()))
    assert ids <= set(loaded.facts), sorted(ids - set(loaded.facts))
    # A fact the seed does not have comes from a dated secondary source, and is
    # never cited by an entry that rests on the primary page.
    sources = {s["id"]: s for s in loaded.sources}
    added = set(loaded.facts) - ids
    for _page, _section, entry in tooling.iter_entries(loaded):
        cited = set(entry["facts"]) | {f for r in entry.get("rules", []) for f in r.get("facts", [])}
        if cited & added:
            assert not sources[entry["source"]]["primary"], entry["id"]


def test_every_remedy_says_whether_a_fact_or_the_project_gives_it(loaded):
    for _page, _section, entry in tooling.iter_entries(loaded):
        for rule in entry.get("rules", []):
            if rule.get("remedy") or entry.get("remedy"):
                assert (rule.get("remedy_source") or entry.get("remedy_source")) in ("fact", "project"), rule["id"]
