"""The checker as an installed package: the wheel in a fresh virtual
environment outside the clone, `sss-checker` run from another folder; its
links, its help, its suggestions, and its output on a console that cannot
encode every character."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from checker import load_matrix

from .conftest import CASES, REPO

PUBLIC = "https://example.org/sss/"


def build_wheel(out: Path, site_url: str | None = None) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "SSS_CHECKER_SITE_URL"}
    if site_url:
        env["SSS_CHECKER_SITE_URL"] = site_url
    # From another folder, and -P: the repository's build.py must not shadow PyPA's build.
    result = subprocess.run([sys.executable, "-P", "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                             str(REPO)], cwd=out.parent, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = out.glob("sss_checker-*-py3-none-any.whl")
    return wheel


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A new environment that sees PyYAML (the one declared dependency) and nothing of the clone."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    python = where / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # PyYAML comes from the test's own environment (no index is reachable here), linked
    # one package at a time so that nothing else of that environment is visible.
    deps = where.parent / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for name in ("yaml", "_yaml", *(p.name for p in here.glob("pyyaml-*.dist-info"))):
        if (here / name).exists():
            (deps / name).symlink_to(here / name)
    (purelib / "deps.pth").write_text(str(deps) + "\n")
    result = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--disable-pip-version-check",
                             "--quiet", str(wheel)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return where / "bin" / "sss-checker"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("package")
    assert REPO not in root.parents
    wheel = build_wheel(root / "dist")
    return fresh_venv(root / "venv", wheel)


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """Another folder, far from the clone, holding the configurations."""
    folder = tmp_path_factory.mktemp("admin")
    return folder


def run(command: list, cwd: Path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONIOENCODING")}
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          env={**clean, **env}, encoding=env.get("PYTHONIOENCODING", "utf-8"))


def pick_cases() -> list[dict]:
    picks = {}
    for case in CASES:
        picks.setdefault(case["status"], case)
    assert set(picks) == {"supported", "limited", "unsupported", "unknown"}
    return list(picks.values())


def test_wheel_ships_the_engine_and_cli_only(installed):
    python = installed.with_name("python")
    where = run([python, "-c", "import checker, os; print(os.path.dirname(checker.__file__))"], cwd=Path("/"))
    assert Path(where.stdout.strip()).is_relative_to(installed.parent.parent)
    missing = run([python, "-c", "import tooling.matrix"], cwd=Path("/"))
    assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr
    record = next(installed.parent.parent.glob("lib/python*/site-packages/sss_checker-*.dist-info/RECORD"))
    shipped = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    # the package's files, and its script (../../../bin/sss-checker): nothing of tooling/
    assert {s for s in shipped if not s.endswith(".dist-info") and s != ".."} == {"checker"}


def test_installed_command_answers_from_another_folder(installed, elsewhere):
    engine = load_matrix()
    for case in pick_cases():
        config = elsewhere / f"{case['id']}.yaml"
        config.write_text(yaml.safe_dump(case["config"]), encoding="utf-8")
        result = run([installed, "check", config.name, "--format", "json", "--lang", "en"], cwd=elsewhere)
        verdict = json.loads(result.stdout)
        assert verdict["status"] == case["status"], case["id"]
        assert sorted(f["rule"] for f in verdict["findings"]) == sorted(case["rules"])
        assert result.returncode == (0 if case["status"] in ("supported", "limited") else 1)
        # the same answer as the engine of this checkout
        assert verdict == engine.evaluate(case["config"], "en").to_dict()
        # links stay relative to the site when no address is known
        assert all(not f["link"].startswith("http") and "#" in f["link"] for f in verdict["findings"])
        text = run([installed, "check", str(config)], cwd=Path("/"))
        assert text.returncode == result.returncode and "Situação" in text.stdout


def test_links_are_absolute_with_an_address(installed, elsewhere, tmp_path):
    case = next(c for c in CASES if c["status"] == "unsupported")
    config = elsewhere / "links.json"
    config.write_text(json.dumps(case["config"]), encoding="utf-8")
    given = run([installed, "check", config.name, "--format", "json", "--site-url", "https://example.org/sss"],
                cwd=elsewhere)
    links = [f["link"] for f in json.loads(given.stdout)["findings"]]
    assert links and all(link.startswith(PUBLIC) and "#" in link for link in links)
    bad = run([installed, "check", config.name, "--site-url", "example.org"], cwd=elsewhere)
    assert bad.returncode == 2 and "--site-url" in bad.stderr and "Traceback" not in bad.stderr
    # built in at build time: a wheel built with the address prints clickable links by itself
    wheel = build_wheel(tmp_path / "dist", site_url="https://example.org/sss")
    with zipfile.ZipFile(wheel) as zf:
        assert "SITE_URL = 'https://example.org/sss/'" in zf.read("checker/_site.py").decode()
    baked = fresh_venv(tmp_path / "venv", wheel)
    result = run([baked, "check", str(config), "--lang", "en"], cwd=elsewhere)
    shown = [line.split("See: ", 1)[1] for line in result.stdout.splitlines() if "See: " in line]
    assert shown and all(link.startswith(PUBLIC) for link in shown)


def test_a_console_that_cannot_encode_the_marks(installed, elsewhere):
    config = elsewhere / "gmail.yaml"
    config.write_text("deployment: online\nemail_system: gmail\nsync: [email, appointments-contacts-tasks]\n",
                      encoding="utf-8")
    for command, cwd in (([installed], elsewhere), ([sys.executable, "-m", "checker"], REPO)):
        for fmt in ("text", "json"):
            result = run([*command, "check", str(config), "--format", fmt], cwd=cwd, PYTHONIOENCODING="cp1252")
            assert result.returncode == 1, result.stderr
            assert "Traceback" not in result.stderr
            if fmt == "text":
                assert result.stdout.startswith("x Situação: Sem suporte")  # accents survive in cp1252
                assert "✓" not in result.stdout and "\n+ [" in result.stdout
            else:
                assert json.loads(result.stdout)["status"] == "unsupported"
    utf8 = run([installed, "check", str(config)], cwd=elsewhere, PYTHONIOENCODING="utf-8")
    assert utf8.stdout.startswith("✗ ")
    # an error message with a character cp1252 lacks does not crash either
    weird = elsewhere / "weird.yaml"
    weird.write_text("deployment: online\nemail_system: gmail ✓ → 💌\n", encoding="utf-8")
    result = run([installed, "check", str(weird)], cwd=elsewhere, PYTHONIOENCODING="cp1252")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "email_system" in result.stderr


def test_help_lists_every_field_and_its_values(installed, elsewhere):
    matrix = load_matrix()
    result = run([installed, "check", "--help"], cwd=elsewhere)
    assert result.returncode == 0 and result.stdout.startswith("usage: sss-checker check")
    text = " ".join(result.stdout.split())
    for name, spec in matrix.fields.items():
        assert f" {name}{'*' if spec['required'] else ''} " in text, name
        for value in spec["values"]:
            assert value["id"] in text, (name, value["id"])
    assert "--site-url" in text and "default: email" in text
    pt = run([installed, "check", "--help", "--lang", "pt-BR"], cwd=elsewhere)
    assert "campos da configuração" in pt.stdout and "padrão: email" in pt.stdout


@pytest.mark.parametrize("lang, words", [("en", "did you mean"), ("pt-BR", "você quis dizer")])
def test_did_you_mean(installed, elsewhere, lang, words):
    config = elsewhere / f"typos-{lang}.yaml"
    config.write_text("deployment: on-premise\nemail_system: gmial\nsyncs: [email]\n"
                      "server_profile: Exchange Server\nmfa: true\n", encoding="utf-8")
    result = run([installed, "check", config.name, "--lang", lang], cwd=elsewhere)
    assert result.returncode == 2 and not result.stdout
    lines = result.stderr.splitlines()

    def line(start):
        return next(x for x in lines if x.startswith(start))

    assert line("deployment:").endswith(f"{words} on-premises?")
    assert line("email_system:").endswith(f"{words} gmail?")
    assert line("syncs:").endswith(f"{words} sync?")
    assert line("server_profile:").endswith(f"{words} exchange-server?")
    # nothing close: no guess
    far = elsewhere / f"far-{lang}.yaml"
    far.write_text("deployment: online\nemail_system: lotus-notes\n", encoding="utf-8")
    result = run([installed, "check", far.name, "--lang", lang], cwd=elsewhere)
    assert result.returncode == 2 and words not in result.stderr


def test_python_m_build_from_the_root_is_pypa_build(tmp_path):
    """The site's build.py would shadow PyPA's `build`; run as `python -m build` it hands over."""
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
                             "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = tmp_path.glob("sss_checker-*-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "checker/engine.py" in zf.namelist()
    assert not (tmp_path / "index.html").exists()  # no site was built
