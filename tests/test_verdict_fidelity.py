"""Verdicts an administrator can act on: fixes that work, open questions that
are exactly the unstated answers that change the status, pt-BR templates that
read as Brazilian Portuguese, and a diff that reads every committed matrix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import combinations, product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker import ConfigError, evaluate, load_matrix
from tooling.diff import PAIR, _union_fields
from checker.engine import _value_key

from .configs import consistent, field_values, generate
from .conftest import REPO

MATRIX = load_matrix()


def enumerated():
    """Every configuration the diff command checks: each deployment and email
    system alone, with one optional field stated, and with two."""
    fields = _union_fields(MATRIX, MATRIX)
    assigns = [(name, list(v) if isinstance(v, tuple) else v)
               for name, spec in fields.items() if name not in PAIR for v in spec["variants"]]
    for pair in product(fields["deployment"]["values"], fields["email_system"]["values"]):
        base = dict(zip(PAIR, pair))
        yield base
        for name, value in assigns:
            yield {**base, name: value}
        for (a, va), (b, vb) in combinations(assigns, 2):
            if a != b:
                yield {**base, a: va, b: vb}


def outside_their_profile(config: dict) -> set:
    """The rules that belong to a profile these answers rule out (`only_with`):
    they do not fire here, and may once a fix moves to that profile."""
    parsed = MATRIX.parse(config, "en")
    out = set()
    for name, spec in MATRIX.fields.items():
        if any(g["field"] in parsed and parsed[g["field"]] not in g["in"] for g in spec.get("only_with", ())):
            out |= {rule["id"] for rule in MATRIX.rules if name in rule_fields(rule["when"])}
    return out


def rule_fields(cond: dict) -> set:
    if "all" in cond or "any" in cond:
        return set().union(*(rule_fields(c) for c in cond.get("all") or cond["any"]))
    return {cond["field"]}


def test_every_fix_removes_its_finding_and_adds_no_unsupported_one():
    checked = 0
    for config in enumerated():
        try:
            before = MATRIX.evaluate(config, "en", open_questions=False)
        except ConfigError:
            continue  # a contradiction the engine refuses; the diff skips it too
        rules_before = {f.rule for f in before.findings}
        for finding in before.findings:
            if finding.fix is None:
                continue
            fixed = {**config, **finding.fix_dict()}
            after = MATRIX.evaluate(fixed, "en", open_questions=False)  # never an input error
            rules_after = {f.rule for f in after.findings}
            assert finding.rule not in rules_after, (config, finding.rule, fixed)
            added = ({f.rule for f in after.findings if f.severity == "unsupported"} - rules_before
                     - outside_their_profile(config))
            assert not added, (config, finding.rule, fixed, added)
            checked += 1
    assert checked > 1000


def test_fixes_are_data_in_the_json_and_null_where_the_remedy_is_no_change():
    verdict = evaluate({"deployment": "online", "email_system": "exchange-server-2016",
                        "server_profile": "exchange-online"}, "en").to_dict()
    finding = next(f for f in verdict["findings"] if f["rule"] == "uns-exo-profile-onprem-user")
    assert finding["fix"] == {"server_profile": "exchange-server-hybrid"}
    assert finding["remedy_source"] == "fact"
    se = evaluate({"deployment": "online", "email_system": "exchange-server-se"}, "en").to_dict()
    assert se["findings"][0]["fix"] is None and se["findings"][0]["remedy_source"] == "project"


def test_the_external_server_remedy_does_not_lead_into_another_unsupported():
    config = {"deployment": "online", "email_system": "exchange-online",
              "mailbox_location": "external-server", "server_profile": "exchange-online"}
    before = evaluate(config, "en")
    finding = next(f for f in before.findings if f.rule == "uns-exo-profile-external")
    after = evaluate({**config, **finding.fix_dict()}, "en")
    assert finding.fix_dict() == {"server_profile": "pop3-smtp", "incoming_protocol": "pop3",
                                  "outgoing_protocol": "smtp", "sync": ["email"]}
    assert (before.status, after.status) == ("unsupported", "supported")


RANK = {"unsupported": 3, "unknown": 2, "limited": 1, "supported": 0}


def status_with(config: dict, name: str, value) -> str:
    """The status the answers as given fire, with one more answer (and what it
    implies), read through the public entry: no shortcut of the engine's."""
    return MATRIX.evaluate({**config, name: value}, "en", open_questions=False).status


def outcomes_of(config: dict) -> dict:
    """Each unstated field's values (those that fit the answers) and their status."""
    parsed = MATRIX.parse(config, "en")
    out = {}
    for name, values in MATRIX._open:
        if name in parsed:
            continue
        outcomes = {}
        for value in values:
            try:
                outcomes[_value_key(value)] = status_with(config, name, value)
            except ConfigError:
                continue  # a value the answers given rule out
        out[name] = outcomes
    return out


# Parity with a brute force: it reads the engine's own parse, _open, _conflicts and
# status_of, so a logic error there (a field missing from _open, a wrong status)
# shows on both sides and passes. The hand-written questions below catch that.
def test_hand_written_open_questions():
    def asked(config):
        return {q.field: dict(q.outcomes) for q in evaluate(config, "en").open_questions}

    gmail = asked({"deployment": "online", "email_system": "gmail"})
    # only the OAuth profile fits Gmail; POP3 or IMAP in, SMTP out
    assert gmail["server_profile"] == {"exchange-online": "unsupported", "exchange-server": "unsupported",
                                       "exchange-server-hybrid": "unsupported", "pop3-smtp": "unsupported",
                                       "imap-smtp": "unsupported", "gmail-oauth": "supported"}
    assert gmail["incoming_protocol"] == {"exchange": "unsupported", "pop3": "supported", "imap": "supported"}
    assert gmail["outgoing_protocol"] == {"exchange": "unsupported", "smtp": "supported"}
    assert "tenant" not in gmail and "authentication" not in gmail  # Exchange Online's questions
    # appointments, contacts and tasks with Gmail: unsupported, and nothing unstated changes that
    assert asked({"deployment": "online", "email_system": "gmail", "sync": ["appointments-contacts-tasks"]}) == {}
    exo = asked({"deployment": "online", "email_system": "exchange-online"})
    assert exo["tenant"] == {"same": "supported", "other": "limited"}
    assert exo["autodiscover"] == {"true": "supported", "false": "unsupported"}


def brute_force_verdict(config: dict) -> tuple[str, dict]:
    """The status and open questions by the definition: a field whose every
    value gives a status worse than the answers' own bounds the status from
    below by the best of them (the worst such bound wins); then every field's
    outcomes are at least that bad, a field whose values all give one status
    is settled, and a field is open when some outcome differs from the status."""
    status = MATRIX.evaluate(config, "en", open_questions=False).status
    fields = {n: o for n, o in outcomes_of(config).items() if any(s != status for s in o.values())}
    bounds = [min(o.values(), key=RANK.get) for o in fields.values() if o]
    bounds = [b for b in bounds if RANK[b] > RANK[status]]
    if bounds:
        status = max(bounds, key=RANK.get)
    entailed = {n for n, o in fields.items() if len(set(o.values())) == 1 and RANK[next(iter(o.values()))] >= RANK[status]}
    out = {}
    for name, outcomes in fields.items():
        if name in entailed:
            continue
        lifted = {v: s if RANK[s] >= RANK[status] else status for v, s in outcomes.items()}
        if any(s != status for s in lifted.values()):
            out[name] = lifted
    return status, out


@pytest.mark.parametrize("seed", [1, 2])
def test_open_questions_are_exactly_the_unstated_fields_that_change_the_status(seed):
    for config in generate(1500, seed=seed):
        verdict = evaluate(config, "en")
        got = {q.field: dict(q.outcomes) for q in verdict.open_questions}
        assert (verdict.status, got) == brute_force_verdict(config), config
        for question in verdict.open_questions:
            assert question.field not in config
            # a field whose every value keeps the status is never listed
            assert any(s != verdict.status for s in dict(question.outcomes).values())


def test_open_questions_come_worst_first_and_show_in_the_cli():
    config = {"deployment": "online", "email_system": "exchange-online", "authentication": "server-to-server"}
    verdict = evaluate(config, "en")
    assert verdict.status == "supported"
    tenant = next(q for q in verdict.open_questions if q.field == "tenant")
    assert dict(tenant.outcomes) == {"same": "supported", "other": "unsupported"}
    ranks = {"unsupported": 3, "unknown": 2, "limited": 1, "supported": 0}
    worst = [max(ranks[s] for s in dict(q.outcomes).values() if s != verdict.status) for q in verdict.open_questions]
    assert worst == sorted(worst, reverse=True)
    # cross-tenant: only limited, and the verdict says so before it is asked
    xt = evaluate({"deployment": "online", "email_system": "exchange-online"}, "en")
    assert dict(next(q for q in xt.open_questions if q.field == "tenant").outcomes)["other"] == "limited"
    result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", "en"],
                            input='{"deployment": "online", "email_system": "exchange-online"}',
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0
    assert "Supported so far. Still open: " in result.stdout
    assert "Exchange Online tenant (The same tenant: Supported, Another tenant: Limited support)" in result.stdout


def test_a_stated_location_that_contradicts_the_email_system_is_an_input_error():
    with pytest.raises(ConfigError) as err:
        evaluate({"deployment": "online", "email_system": "gmail", "mailbox_location": "exchange-online"}, "en")
    (problem,) = err.value.problems
    assert problem.field == "mailbox_location" and problem.allowed == ("external-server",)
    assert "email_system = Gmail" in problem.message


# -- pt-BR as Brazilians write it ------------------------------------------------
FORBIDDEN_PT = [
    (r"\bnum(a|as|ns)?\b", "em um / em uma"),
    (r"\bnoutr[oa]s?\b", "em outro / em outra"),
    (r"\b[Dd]e (o|a|os|as)\b", "do / da"),
    (r"\b[Ee]m (o|a|os|as)\b", "no / na"),
    (r"\b(de|com|para|em|por|Com|De) (Exchange|Gmail|Yahoo|Outlook\.com|MSN|Windows Live)", "an article before the product"),
    (r"\bentre (Online|aplicativos|Customer)", "the direction: dos aplicativos online para o Exchange"),
    (r"[a-zà-ú,] (Online \(nuvem\)|Servidor para servidor|Credenciais|Personificação|Nenhuma|Sim|Não)\b",
     "a capitalized label inside a sentence"),
    (r"\{[^}]*\}", "a placeholder left unfilled"),
]
FORBIDDEN_EN = [(r"\{[^}]*\}", "a placeholder left unfilled")]


def rendered_templates():
    """Every rule's message and remedy, in both languages, with every value its
    placeholders can take."""
    from checker.engine import _PLACEHOLDER, fill_placeholders

    for rule in MATRIX.rules:
        for lang in MATRIX.languages:
            texts = [rule["message"][lang]] + ([rule["remedy"][lang]] if rule.get("remedy") else [])
            names = sorted({n for t in texts for _p, n in _PLACEHOLDER.findall(t)})
            choices = [[v["id"] for v in MATRIX.fields[n]["values"]] for n in names]
            for combo in product(*choices):
                config = dict(zip(names, combo))
                fill = {n: MATRIX._label_of(n, v if MATRIX.fields[n]["type"] != "boolean" else v == "true", lang)
                        for n, v in config.items()}
                articles = {n: MATRIX._articles[n].get(v) for n, v in config.items()}
                for text in texts:
                    yield rule["id"], lang, fill_placeholders(text, fill, articles)


def test_every_template_reads_well_with_every_value():
    problems = []
    for rule, lang, text in rendered_templates():
        for pattern, why in (FORBIDDEN_PT if lang == "pt-BR" else FORBIDDEN_EN):
            if re.search(pattern, text):
                problems.append(f"{rule} [{lang}] {why}: {text}")
    assert not problems, "\n".join(problems[:20])


def test_the_language_check_catches_what_it_forbids():
    samples = ["A autenticação multifator entre Online (nuvem) e Exchange Server 2016 não tem suporte.",
               "Com Gmail, a entrada é por POP3.", "numa caixa de correio", "noutro lugar",
               "a autenticação por Credenciais informadas pelo usuário"]
    for text in samples:
        assert any(re.search(p, text) for p, _why in FORBIDDEN_PT), text


# -- the diff reads every committed version ----------------------------------------
def test_diff_reads_the_first_committed_matrix():
    first = subprocess.run(["git", "-C", str(REPO), "log", "--reverse", "--format=%H", "--", "matrix/schema.json"],
                           capture_output=True, text=True, timeout=60)
    if first.returncode != 0 or not first.stdout.strip():
        pytest.skip("not a git checkout with history")
    commit = first.stdout.split()[0]
    result = subprocess.run([sys.executable, "-m", "checker", "diff", commit, "--lang", "en"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "→ working tree:" in result.stdout.splitlines()[0]


def test_pages_state_the_restored_qualifiers_and_link_the_source_in_their_language(site):
    en = (site / "en" / "notes" / "index.html").read_text(encoding="utf-8")
    pt = (site / "notes" / "index.html").read_text(encoding="utf-8")
    assert "learn.microsoft.com/en-us/power-platform/admin/supported-email" in en
    assert "learn.microsoft.com/pt-br/" not in en
    assert "learn.microsoft.com/pt-br/power-platform/admin/supported-email" in pt
    xt_en = (site / "en" / "cross-tenant" / "index.html").read_text(encoding="utf-8")
    assert "currently not supported" in xt_en
    assert "connect-exchange-online-server-profile-oauth" in xt_en
    xt_pt = (site / "cross-tenant" / "index.html").read_text(encoding="utf-8")
    assert "No momento" in xt_pt
    unsupported = (site / "en" / "unsupported" / "index.html").read_text(encoding="utf-8")
    assert "does not say whether interception based on the IP or the name is" in unsupported
    assert "such as Gmail" not in unsupported and "Remove the multifactor" not in unsupported
    matrix = (site / "en" / "support-matrix" / "index.html").read_text(encoding="utf-8")
    assert "Exchange Server 2010, 2013, 2016 and 2019" in matrix
    assert "Email Router or Outlook" in matrix


def test_every_pt_br_text_of_the_matrix_avoids_the_forbidden_forms(loaded):
    from tooling import matrix as tm

    from .test_strings import localized

    forms = FORBIDDEN_PT[:2] + [(r"\bA minha\b|\bO meu\b", "Minha / Meu, without the article")]
    problems = [f"{path}: {why}: {text['pt-BR']}" for path, text in localized(tm.export(loaded))
                for pattern, why in forms if re.search(pattern, text["pt-BR"])]
    assert not problems, "\n".join(problems)


# -- entailment: the status is one the answers allow -------------------------------
def witness(config: dict, status: str, budget: int = 20_000):
    """A completion of the answers (every unstated field the rules read, set to a
    value that fits) whose status is `status`, or None: a depth-first search,
    cut where what is set already fires something worse (stating more never
    makes a status better here: the property tests of test_properties)."""
    parsed = MATRIX.parse(config, "en")
    read = MATRIX._plan(parsed["deployment"], parsed["email_system"])[2]
    todo = [(n, vals) for n, vals in MATRIX._open if n in read and n not in parsed]
    nodes = [0]

    def search(answers: dict, i: int):
        nodes[0] += 1
        if nodes[0] > budget:
            return None
        try:
            got = MATRIX.evaluate(answers, "en", open_questions=False).status
        except ConfigError:
            return None
        if i == len(todo):
            return answers if got == status else None
        if RANK[got] > RANK[status] and got != "unknown":
            return None
        name, values = todo[i]
        if name in MATRIX.parse(answers, "en"):
            return search(answers, i + 1)  # implied by an answer set above
        fitting = [v for v in values if not MATRIX._conflicts(name, v, MATRIX.parse(answers, "en"))]
        if not fitting:
            return search(answers, i + 1)  # no value fits the answers: it stays unstated
        for value in fitting:
            found = search({**answers, name: value}, i + 1)
            if found is not None:
                return found
        return None

    return search(dict(config), 0)


def check_entailment(config: dict) -> None:
    verdict = evaluate(config, "en")
    for q in verdict.open_questions:
        statuses = {s for _v, s in q.outcomes}
        assert not (len(statuses) == 1 and statuses != {verdict.status}), (config, q)
    assert witness(config, verdict.status) is not None, (config, verdict.status)


def test_every_enumerated_configuration_gets_a_status_its_answers_allow():
    checked = 0
    for config in enumerated():
        try:
            MATRIX.parse(config, "en")
        except ConfigError:
            continue
        check_entailment(config)
        checked += 1
    assert checked > 20_000


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_partial_configurations_get_a_status_their_answers_allow(data):
    config = {}
    for name, spec in MATRIX.fields.items():
        if spec["required"] or data.draw(st.booleans()):
            config[name] = data.draw(st.sampled_from(field_values(spec)))
    check_entailment(consistent(config))


def test_manual_tracking_on_a_pop3_profile_is_not_supported_without_the_protocol():
    config = {"deployment": "on-premises", "email_system": "gmail", "server_profile": "pop3-smtp",
              "manual_tracking_outlook": True}
    verdict = evaluate(config, "en")
    assert verdict.status == "unsupported"
    assert "note-manual-tracking" in {f.rule for f in verdict.findings}
    assert ("incoming_protocol", "pop3", "server_profile", "pop3-smtp") in verdict.implied
    # without the profile either: every incoming protocol gives "Not supported"
    del config["server_profile"]
    verdict = evaluate(config, "en")
    assert verdict.status == "unsupported"
    assert "incoming_protocol" not in {q.field for q in verdict.open_questions}
    applies = {f.rule: f.applies_if for f in verdict.findings if f.applies_if}
    assert applies["note-manual-tracking"] == (("incoming_protocol", ("pop3",)),)
    assert applies["onprem-webmail-protocol"] == (("incoming_protocol", ("exchange", "imap")),)


# -- fixes keep the reader's goal ------------------------------------------------------
def test_fixes_agree_say_what_they_drop_and_together_are_no_input_error():
    """Every fix of every enumerated configuration, in both languages: a fix that
    drops a sync item asked for lists it (`fix_drops`) and its remedy names it;
    the fixes of one verdict never set one field two ways; applying them all is
    never an input error."""
    labels = {lang: {v["id"]: v["label"][lang].lower() for v in MATRIX.fields["sync"]["values"]}
              for lang in MATRIX.languages}
    dropping, checked = set(), 0
    for config in enumerated():
        try:
            asked = MATRIX.parse(config, "en")["sync"]
        except ConfigError:
            continue
        for lang in MATRIX.languages:
            verdict = MATRIX.evaluate(config, lang)
            merged: dict = {}
            for f in verdict.findings:
                if f.fix is None:
                    continue
                fix = f.fix_dict()
                dropped = [v for v in asked if "sync" in fix and v not in fix["sync"]]
                assert dict(f.drops or ()).get("sync", ()) == tuple(dropped), (config, f.rule)
                for item in dropped:
                    dropping.add(f.rule)
                    assert labels[lang][item] in f.remedy.lower(), (config, f.rule, lang, f.remedy)
                for name, value in fix.items():
                    assert merged.setdefault(name, value) == value, (config, f.rule, name)
                checked += 1
            if merged:
                MATRIX.parse({**config, **merged}, lang)  # raises on an input error
    assert checked > 10_000
    # the rules the issue named, and the external-server move, all say it
    assert {"online-webmail-act", "onprem-webmail-act", "pop3-profile-no-act", "onprem-webmail-profile"} <= dropping


def test_the_sync_remedy_offers_the_way_that_keeps_the_goal_first():
    verdict = evaluate({"deployment": "online", "email_system": "gmail",
                        "sync": ["email", "appointments-contacts-tasks"]}, "en")
    finding = next(f for f in verdict.findings if f.rule == "online-webmail-act")
    assert finding.remedy.index("Exchange Online") < finding.remedy.index("synchronize only email")
    assert "appointments, contacts and tasks will then not be synchronized" in finding.remedy
    assert finding.to_dict()["fix_drops"] == [{"field": "sync", "values": ["appointments-contacts-tasks"]}]


def test_a_fix_that_moves_the_protocols_takes_the_profile_the_verdict_asks_for():
    config = {"deployment": "online", "email_system": "yahoo-mail", "server_profile": "exchange-online"}
    fixes = {f.rule: f.fix_dict() for f in evaluate(config, "en").findings if f.fix}
    assert fixes["online-webmail-profile"] == {"server_profile": "imap-smtp"}
    assert fixes["online-webmail-protocol"] == {"incoming_protocol": "imap", "outgoing_protocol": "smtp",
                                                "server_profile": "imap-smtp"}
    # the webmail mixed-protocol fix keeps SMTP outgoing
    mixed = evaluate({"deployment": "online", "email_system": "gmail", "incoming_protocol": "exchange",
                      "outgoing_protocol": "smtp"}, "en")
    fix = next(f for f in mixed.findings if f.rule == "uns-mixed-protocols").fix_dict()
    assert fix == {"incoming_protocol": "pop3", "outgoing_protocol": "smtp"}


# -- implied answers --------------------------------------------------------------------
def test_a_protocol_the_profile_rules_out_is_an_input_error_naming_both():
    with pytest.raises(ConfigError) as err:
        evaluate({"deployment": "online", "email_system": "gmail", "server_profile": "imap-smtp",
                  "incoming_protocol": "pop3"}, "en")
    (problem,) = err.value.problems
    assert (problem.field, problem.given, problem.allowed) == ("incoming_protocol", '"pop3"', ("imap",))
    assert "server_profile = IMAP/SMTP server" in problem.message and "imap" in problem.message


def test_implied_answers_are_used_and_reported_in_json_and_text():
    config = {"deployment": "online", "email_system": "exchange-online", "server_profile": "pop3-smtp"}
    data = evaluate(config, "en").to_dict()
    assert {"field": "incoming_protocol", "value": "pop3", "by": "server_profile",
            "by_value": "pop3-smtp"} in data["implied"]
    assert "online-exchange-protocol" in {f["rule"] for f in data["findings"]}  # used by the rules
    assert "incoming_protocol" not in {q["field"] for q in data["open_questions"]}
    for lang, words in (("en", "Answers that follow from others: Incoming protocol (mail received) = POP3 "
                                "(from Email server profile = POP3/SMTP server)"),
                        ("pt-BR", "Respostas que decorrem de outras: Protocolo de entrada (email recebido) = POP3 "
                                  "(por Perfil do servidor de email = Servidor POP3/SMTP)")):
        result = subprocess.run([sys.executable, "-m", "checker", "check", "-", "--lang", lang],
                                input=json.dumps(config), capture_output=True, text=True, cwd=REPO, timeout=60)
        assert result.returncode == 1 and words in result.stdout, result.stdout


def test_exchange_online_rules_do_not_fire_on_another_profile():
    config = {"deployment": "online", "email_system": "exchange-online", "mailbox_location": "external-server",
              "server_profile": "pop3-smtp", "authentication": "user-credentials", "autodiscover": False,
              "tenant": "other"}
    verdict = evaluate(config, "en")
    assert verdict.status == "supported", [f.rule for f in verdict.findings]
    assert not {f.rule for f in verdict.findings} & {"exo-user-credentials", "xt-limited", "exo-autodiscover-off"}


def test_the_hybrid_location_error_says_how_to_describe_the_mailbox():
    for lang, words in (("en", "is described by that server's version as the email system"),
                        ("pt-BR", "se descreve pela versão desse servidor como o sistema de email")):
        with pytest.raises(ConfigError) as err:
            evaluate({"deployment": "online", "email_system": "exchange-online",
                      "mailbox_location": "exchange-on-premises"}, lang)
        (problem,) = err.value.problems
        assert words in problem.message and problem.allowed == ("exchange-online", "external-server")
