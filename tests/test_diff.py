"""The semantic diff: each step of the matrix's history reports exactly its changes,
an edit that changes no verdict reports none, and the command line reads folders and
git revisions and fails clearly on bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker import cli, load_matrix
from tooling import diff as semantic
from tooling import matrix as tooling

from .conftest import REPO

HISTORY = REPO / "tests" / "history"
# oldest first; the last is the project's own revision of the matrix (the profile
# table, remedies as data, facts from Microsoft's admin pages)
VERSIONS = ["2018-07-06", "2020-05-19", "2020-10-09", "2022-01-13", "2026-11-29", "2026-12-05"]
NEWEST = VERSIONS[-1]  # that is matrix/ itself


def materialize(version: str, target: Path) -> Path:
    """A full matrix folder for `version`: matrix/, then each older overlay copied over
    it, newest first, down to the version's own (see tests/history/README.md)."""
    root = Path(target) / version / "matrix"
    shutil.copytree(REPO / "matrix", root)
    newest_first = VERSIONS[::-1]
    for overlay in newest_first[1:newest_first.index(version) + 1]:
        for path in sorted((HISTORY / overlay).glob("*.yaml")):
            shutil.copy(path, root / path.name)
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("history")
    out = {v: materialize(v, base) for v in VERSIONS[:-1]}
    out[NEWEST] = REPO / "matrix"
    return out


@pytest.fixture(scope="module")
def versions(folders) -> dict[str, semantic.Version]:
    return {v: semantic.load_version(str(path)) for v, path in folders.items()}


@pytest.fixture(scope="module")
def diffs(versions) -> dict[tuple, semantic.Diff]:
    return {(a, b): semantic.diff(versions[a], versions[b]) for a, b in zip(VERSIONS, VERSIONS[1:])}


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "checker", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def pair(deployment: str, system: str, **stated) -> dict:
    return {"deployment": deployment, "email_system": system, **stated}


def key(config: dict, old, new) -> tuple:
    return json.dumps(config, sort_keys=True), old, new


# -- the history, step by step --------------------------------------------------------
# What each step of the history table changes: entries by id, and the verdict lines.
EXPECTED = {
    ("2018-07-06", "2020-05-19"): {
        "added": {"uns-exo-profile-onprem-user", "uns-exo-profile-external"},
        "removed": set(),
        "changed": {"onprem-exchange"},
        "verdicts": {
            key(pair("on-premises", "exchange-server-2019"), "unknown", "supported"),
            # the row now says which protocols, where the matrix said nothing before
            key(pair("on-premises", "exchange-server-2019", incoming_protocol="pop3"), "unknown", "unsupported"),
            key(pair("on-premises", "exchange-server-2019", incoming_protocol="imap"), "unknown", "unsupported"),
            key(pair("on-premises", "exchange-server-2019", outgoing_protocol="smtp"), "unknown", "unsupported"),
            *(key({"server_profile": "exchange-online", "mailbox_location": location}, old, "unsupported")
              for location in ("exchange-on-premises", "external-server")
              for old in ("supported", "limited", "unknown")),
        },
    },
    ("2020-05-19", "2020-10-09"): {
        "added": {"uns-exchange-2010"},
        "removed": set(),
        "changed": {"online-exchange", "online-webmail"},
        "verdicts": {
            key(pair("online", "exchange-server-2010-sp3"), "supported", "unsupported"),
            key(pair("online", "exchange-server-2019"), "unknown", "supported"),
            key(pair("online", "exchange-server-2019", incoming_protocol="pop3"), "unknown", "unsupported"),
            key(pair("online", "exchange-server-2019", incoming_protocol="imap"), "unknown", "unsupported"),
            key(pair("online", "exchange-server-2019", outgoing_protocol="smtp"), "unknown", "unsupported"),
            key(pair("online", "gmail", incoming_protocol="imap"), "unsupported", "supported"),
            key(pair("online", "yahoo-mail", incoming_protocol="imap"), "unsupported", "supported"),
        },
    },
    ("2020-10-09", "2022-01-13"): {
        "added": {"xt-app-for-outlook", "xt-mailbox-approval", "uns-packet-inspection", "uns-interception"},
        "removed": set(),
        "changed": {"xt-limited"},
        "verdicts": {
            key(pair("online", "exchange-online", tenant="other"), "unsupported", "limited"),
            key(pair("online", "exchange-online", authentication="oauth-cross-tenant"), "unsupported", "limited"),
            *(key({"traffic_inspection": value}, old, "unsupported")
              for value in ("content-based", "packet-manipulation")
              for old in ("supported", "limited", "unknown")),
        },
    },
    ("2022-01-13", "2026-11-29"): {
        "added": {"gmail-oauth-profile", "pop3-profile-no-act", "lifecycle-exchange-2010"},
        "removed": set(),
        "changed": {"exo-user-credentials", "exo-profile-credentials", "exo-impersonation",
                    "exo-autodiscover-off", "exo-other-profile", "exo-s2s", "xt-limited",
                    "xt-app-for-outlook", "xt-mailbox-approval", "uns-packet-inspection",
                    "uns-interception", "uns-mixed-protocols", "uns-exo-profile-onprem-user",
                    "uns-exo-profile-external", "uns-bulk-marketing", "uns-extensibility",
                    "uns-exchange-2010", "uns-exchange-2003-2007", "uns-fips", "uns-mfa",
                    "note-untested-pop", "note-owa-hybrid", "note-two-profiles",
                    "note-manual-tracking", "rec-no-mixed-sync", "online-exchange",
                    "online-webmail", "onprem-exchange", "onprem-webmail",
                    "lifecycle-exchange-2013", "lifecycle-exchange-2016-2019", "exchange-server-se"},
        # 200 lines: listed whole in tests/history/2022-01-13..2026-11-29.verdicts.jsonl
        # (each with how many configurations it stands for; the diff runs today's
        # engine on both versions, so a stated protocol that its stated profile rules
        # out is refused on both sides since 2026-12-05 and leaves those counts, and
        # one that only the newer version's profiles rule out is refused there, new
        # status None), reviewed by reason: a
        # server profile that does not fit the email system is unsupported; a mailbox
        # location the email system rules out is refused (new status None); manual
        # tracking in Outlook no longer makes POP3/IMAP systems unsupported; the POP3/SMTP
        # profile carries no appointments. The lines that carry the revision are also
        # written out by hand in test_profile_revision_verdicts.
        "verdicts": "2022-01-13..2026-11-29.verdicts.jsonl",
    },
    ("2026-11-29", "2026-12-05"): {
        "added": set(),
        "removed": set(),
        "changed": {"online-webmail", "onprem-webmail", "gmail-oauth-profile", "pop3-profile-no-act",
                    "lifecycle-exchange-2016-2019", "uns-mixed-protocols", "uns-exo-profile-external",
                    "note-encryption"},
        # The Exchange Online authentication, auto-discover and tenant belong to the
        # Exchange Online profile: a mailbox that points to an external server is not
        # judged by them. (What the engine now does with implied and entailed answers
        # applies to both versions alike, so it is no verdict change here.)
        "verdicts": {
            *(key(pair("online", "exchange-online", mailbox_location="external-server", authentication=auth),
                  old, "supported")
              for auth, old in (("oauth-cross-tenant", "limited"), ("user-credentials", "unsupported"),
                                ("queue-credentials", "unsupported"), ("profile-credentials", "unsupported"),
                                ("impersonation", "unsupported"))),
            key(pair("online", "exchange-online", mailbox_location="external-server", autodiscover=False),
                "unsupported", "supported"),
            key(pair("online", "exchange-online", mailbox_location="external-server", tenant="other"),
                "limited", "supported"),
        },
    },
}
STEPS = list(EXPECTED)


@pytest.mark.parametrize("version", VERSIONS[:-1])
def test_each_older_version_is_a_valid_matrix_of_only_the_files_that_differ(version, folders):
    tooling.load(folders[version], older=True)  # raises MatrixInvalid with every problem
    newer = folders[VERSIONS[VERSIONS.index(version) + 1]]
    for path in (HISTORY / version).glob("*.yaml"):
        assert (newer / path.name).exists(), f"{path.name} is not a file of the matrix"
        assert path.read_bytes() != (newer / path.name).read_bytes(), f"{version}/{path.name} repeats the newer version"


def test_lifecycle_entries_are_the_same_in_every_version(versions):
    def lifecycle(v):
        return [e for _p, s, e in tooling.iter_entries(v.loaded) if s["id"] == "lifecycle"]

    # Microsoft's versions share them; the project's revision adds Exchange 2010's.
    last = lifecycle(versions["2022-01-13"])
    assert last
    for v in VERSIONS[:VERSIONS.index("2022-01-13")]:
        assert lifecycle(versions[v]) == last, v
    for v in VERSIONS[VERSIONS.index("2026-11-29"):]:
        assert {e["id"] for e in lifecycle(versions[v])} == {e["id"] for e in last} | {"lifecycle-exchange-2010"}


@pytest.mark.parametrize("step", STEPS, ids=[f"{a}..{b}" for a, b in STEPS])
def test_history_step_reports_exactly_its_entries(step, diffs):
    d, expected = diffs[step], EXPECTED[step]
    assert {i for i, _ in d.entries.added} == expected["added"]
    assert {i for i, _ in d.entries.removed} == expected["removed"]
    assert {i for i, _ in d.entries.changed} == expected["changed"]


@pytest.mark.parametrize("step", STEPS, ids=[f"{a}..{b}" for a, b in STEPS])
def test_history_step_reports_exactly_its_verdict_changes(step, diffs):
    d = diffs[step]
    got = [key(v.config, v.old, v.new) for v in d.verdicts]
    assert len(got) == len(set(got)), "a summary line is repeated"
    expected = EXPECTED[step]["verdicts"]
    if isinstance(expected, str):
        listed = [json.loads(line) for line in (HISTORY / expected).read_text(encoding="utf-8").splitlines()]
        assert set(got) == {key(x["config"], x["old"], x["new"]) for x in listed}
        assert {key(v.config, v.old, v.new): v.configs for v in d.verdicts} == {
            key(x["config"], x["old"], x["new"]): x["configs"] for x in listed}
    else:
        assert set(got) == expected
    assert all(v.configs >= 1 for v in d.verdicts)
    assert sum(v.configs for v in d.verdicts) == d.moved


@pytest.mark.parametrize("step", STEPS, ids=[f"{a}..{b}" for a, b in STEPS])
def test_history_step_touches_the_entries_its_changelog_names(step, diffs, versions):
    """The project's changelog and the history agree on what each date touched."""
    d = diffs[step]
    logged = next((c["entries"] for c in versions[step[1]].loaded.changelog if c["date"] == step[1]), None)
    if logged is None:
        pytest.skip(f"no changelog entry for {step[1]}")
    # the changelog also names the alert explanations of matrix/errors.yaml, which the
    # diff neither reads nor compares (they decide no verdict)
    import yaml

    errors = yaml.safe_load((REPO / "matrix" / "errors.yaml").read_text(encoding="utf-8"))
    explanations = {e["id"] for e in errors["errors"]}
    assert {i for i, _ in d.entries.added} | {i for i, _ in d.entries.changed} == set(logged) - explanations


def test_profile_revision_verdicts(diffs):
    """The project's revision: a profile that does not fit the email system is
    unsupported without asking where the mailbox is, Gmail needs its OAuth
    profile, and the POP3/SMTP profile carries no appointments."""
    d = diffs[("2022-01-13", "2026-11-29")]
    got = {key(v.config, v.old, v.new) for v in d.verdicts}
    for line in (
        key(pair("online", "exchange-online", server_profile="exchange-server"), "unknown", "unsupported"),
        key(pair("online", "exchange-online", server_profile="pop3-smtp"), "unknown", "unsupported"),
        key(pair("online", "exchange-server-2016", server_profile="exchange-online"), "supported", "unsupported"),
        key(pair("online", "gmail", server_profile="pop3-smtp"), "supported", "unsupported"),
        key(pair("online", "gmail", server_profile="exchange-server"), "supported", "unsupported"),
    ):
        assert line in got, line
    assert sum(v.configs for v in d.verdicts) == d.moved


def test_entry_changes_are_told_field_by_field(diffs):
    d = diffs[("2020-05-19", "2020-10-09")]
    changes = {i: {c.path: c for c in cs} for i, cs in d.entries.changed}
    systems = changes["online-exchange"]["row.email_systems"]
    assert (systems.kind, systems.added, systems.removed) == ("items", ("exchange-server-2019",), ("exchange-server-2010-sp3",))
    assert changes["online-exchange"]["title"].languages == ("pt-BR", "en")
    assert changes["online-exchange"]["rules[online-exchange-2019-unlisted]"].kind == "removed"
    assert changes["online-webmail"]["row.incoming"].added == ("imap",)
    assert changes["online-webmail"]["rules[online-webmail-protocol].message"].kind == "text"
    xt = {c.path: c for c in dict(diffs[("2020-10-09", "2022-01-13")].entries.changed)["xt-limited"]}
    assert (xt["rules[xt-limited].severity"].old, xt["rules[xt-limited].severity"].new) == ("unsupported", "limited")
    assert xt["rules[xt-limited].when"].kind == "value"
    assert xt["rules[xt-needs-oauth]"].kind == "added"


def test_text_output_summarizes_then_lists_verdicts_then_entries(diffs):
    text = semantic.render_text(diffs[("2020-05-19", "2020-10-09")], "en")
    lines = text.splitlines()
    assert "configurations change verdict; entries added: 1, removed: 0, changed: 2" in lines[0]
    assert lines[2] == "Verdict changes"
    assert "  Exchange Server 2010 SP3, Online (cloud): Supported → Not supported (" in text
    assert "  Exchange Server 2019, Online (cloud): Not covered by the matrix (unknown) → Supported (" in text
    assert "  Gmail, Online (cloud), with incoming_protocol = IMAP: Not supported → Supported (" in text
    assert "      row.email_systems: + exchange-server-2019, - exchange-server-2010-sp3" in text
    assert "      title (pt-BR, en): changed" in text
    assert text.index("Verdict changes") < text.index("\nEntries\n")
    # whole paragraphs only when asked
    assert "Only email synchronizes, over POP3/SMTP or IMAP/SMTP" not in text
    assert "Only email synchronizes, over POP3/SMTP or IMAP/SMTP" in semantic.render_text(
        diffs[("2020-05-19", "2020-10-09")], "en", show_texts=True)


def test_text_output_speaks_portuguese_by_default_words(diffs):
    text = semantic.render_text(diffs[("2020-10-09", "2022-01-13")], "pt-BR")
    assert "configurações mudam de veredito" in text.splitlines()[0]
    assert ("Exchange Online, Online (nuvem), com tenant = Outro locatário: "
            "Sem suporte → Com suporte limitado (") in text
    assert ("Qualquer configuração com traffic_inspection = Interceptação pelo conteúdo dos pacotes: "
            "Com suporte / Com suporte limitado / Fora da matriz (desconhecido) → Sem suporte (") in text


def test_every_word_of_the_diff_exists_in_every_language():
    languages = set(load_matrix().languages)
    for name, texts in semantic.WORDS.items():
        assert set(texts) == languages, name
        assert all(t.strip() for t in texts.values()), name


def test_same_matrix_twice_reports_nothing(versions):
    d = semantic.diff(versions[NEWEST], versions[NEWEST])
    assert d.verdicts == [] and d.moved == 0 and not d.entries and not d.other_changes()
    assert "No verdict changes." in semantic.render_text(d, "en")


# -- edits that change no verdict ---------------------------------------------------------
def edited_copy(tmp_path: Path, edits: list[tuple[str, str, str]]) -> Path:
    root = tmp_path / "edited" / "matrix"
    shutil.copytree(REPO / "matrix", root)
    for file, old, new in edits:
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"fixture text not unique in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return root


NO_VERDICT_EDITS = [
    ("reworded message", [("notes.yaml",
                           "en: Outlook on the web is not supported when Customer Engagement (on-premises) uses Exchange Online.",
                           "en: Customer Engagement (on-premises) with Exchange Online does not support Outlook on the web.")],
     "note-owa-hybrid", "rules[note-owa-hybrid].message (en): changed"),
    ("renamed label", [("questions.yaml",
                        "label: {pt-BR: Outro locatário, en: Another tenant}",
                        "label: {pt-BR: Um locatário diferente, en: A different tenant}")],
     None, "values[other].label (pt-BR, en): changed"),
    ("source date", [("sources.yaml", "as_of: 2020-05-19", "as_of: 2020-06-01")],
     None, "as_of: 2020-05-19 → 2020-06-01"),
]


@pytest.mark.parametrize("name,edits,entry,told", NO_VERDICT_EDITS, ids=[e[0] for e in NO_VERDICT_EDITS])
def test_edit_without_verdict_change_exits_0_even_when_gating(tmp_path, versions, name, edits, entry, told):
    root = edited_copy(tmp_path, edits)
    result = run("diff", REPO / "matrix", root, "--lang", "en", "--fail-on-verdict-change")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\nVerdict changes\n  No verdict changes.\n" in result.stdout
    assert told in result.stdout
    data = semantic.to_json(semantic.diff(versions[NEWEST], semantic.load_version(str(root))), "en")
    assert data["verdicts"] == [] and data["summary"]["configurations_changed"] == 0
    assert [c["id"] for c in data["entries"]["changed"]] == ([entry] if entry else [])


# -- the command line ------------------------------------------------------------------
def test_cli_on_two_folders_and_the_gate(folders):
    old, new = folders["2020-05-19"], folders["2020-10-09"]
    result = run("diff", old, new, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{old} → {new}: ")
    assert "Exchange Server 2010 SP3, Online (cloud): Supported → Not supported (" in result.stdout
    assert run("diff", old, new, "--fail-on-verdict-change").returncode == 1


JSON_KEYS = {"old", "new", "lang", "summary", "verdicts", "entries", "questions", "sources", "pages",
             "facts", "strings", "changelog"}


def test_json_output_has_the_documented_keys(folders, capsys):
    assert cli.main(["diff", str(folders["2020-10-09"]), str(folders["2022-01-13"]), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == JSON_KEYS
    assert data["lang"] == "pt-BR"
    assert set(data["summary"]) == {"verdict_changes", "configurations_changed", "configurations_checked",
                                    "entries_added", "entries_removed", "entries_changed", "also_changed"}
    for v in data["verdicts"]:
        assert set(v) == {"config", "old", "new", "configs", "text"}
    assert {key(v["config"], v["old"], v["new"]) for v in data["verdicts"]} == EXPECTED[("2020-10-09", "2022-01-13")]["verdicts"]
    for part in ("entries", "questions", "sources", "pages", "changelog"):
        assert set(data[part]) == {"added", "removed", "changed"}
    assert {e["id"] for e in data["entries"]["added"]} == EXPECTED[("2020-10-09", "2022-01-13")]["added"]
    changed = data["entries"]["changed"][0]
    assert set(changed) == {"id", "page", "section", "title", "changes"}
    assert all({"path", "kind"} <= set(c) for c in changed["changes"])
    assert set(data["facts"]) == {"added", "removed"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in JSON_KEYS | {"python -m checker diff", "--fail-on-verdict-change"}:
        assert f"`{name}" in readme, name


def git(repo: Path, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(repo)}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def repo(tmp_path_factory, folders) -> Path:
    """A git repository of three commits: no matrix yet, then 2020-05-19, then 2020-10-09."""
    repo = tmp_path_factory.mktemp("repo")
    git(repo, "init", "-q")
    (repo / "notes.txt").write_text("before the matrix\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no matrix yet")
    for version in ("2020-05-19", "2020-10-09"):
        shutil.rmtree(repo / "matrix", ignore_errors=True)
        shutil.copytree(folders[version], repo / "matrix")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", version)
    return repo


def test_cli_on_two_git_revisions(repo):
    result = run("diff", "HEAD~1", "HEAD", "--repo", repo, "--format", "json", "--lang", "en")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"].startswith("HEAD~1 (") and data["new"].startswith("HEAD (")
    assert {key(v["config"], v["old"], v["new"]) for v in data["verdicts"]} == EXPECTED[("2020-05-19", "2020-10-09")]["verdicts"]
    assert {e["id"] for e in data["entries"]["added"]} == {"uns-exchange-2010"}


def test_cli_new_defaults_to_the_working_tree(repo):
    result = run("diff", "HEAD", "--repo", repo, "--lang", "en", "--fail-on-verdict-change")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HEAD (")
    assert " → working tree: 0 of " in result.stdout.splitlines()[0]


@pytest.mark.parametrize("rev,message", [
    ("no-such-rev", "no-such-rev: no such folder, nor a revision of the git repository"),
    ("HEAD~2", "HEAD~2: this revision has no matrix/ folder"),
    ("HEAD~9", "HEAD~9: no such folder, nor a revision"),
])
def test_cli_bad_revision_exits_2_naming_it(repo, rev, message):
    result = run("diff", rev, "HEAD", "--repo", repo)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_outside_a_git_repository_exits_2(tmp_path):
    result = run("diff", "main", "--repo", tmp_path)
    assert result.returncode == 2
    assert "main: no such folder, and" in result.stderr and "not a git repository" in result.stderr


def test_cli_invalid_matrix_prints_its_problems_and_exits_2(tmp_path):
    root = edited_copy(tmp_path, [("unsupported.yaml", "facts: [F-UNS-BULK-MARKETING]", "facts: [F-UNS-BULK-MARKETTING]")])
    result = run("diff", REPO / "matrix", root)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("matrix/unsupported.yaml:") and "unknown fact id F-UNS-BULK-MARKETTING" in line
               for line in lines), lines
    assert lines[-1] == f"{root}: {len(lines) - 1} problem(s) in the matrix"


def test_full_diff_of_the_current_matrix_is_fast(versions):
    import time

    start = time.perf_counter()
    semantic.diff(versions["2018-07-06"], versions[NEWEST])
    assert time.perf_counter() - start < 10
