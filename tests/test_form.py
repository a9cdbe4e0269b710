"""The checker page's form hides questions that do not matter: hiding them never
changes a verdict (so the permalink of what is shown gives the same answer)."""

from __future__ import annotations

from checker import evaluate, load_matrix
from checker.engine import _holds

from .configs import generate

FIELDS = load_matrix().fields


def visible_only(config: dict) -> dict:
    """What the page keeps: the same fixpoint as configFromForm() in checker.js."""
    config = dict(config)
    changed = True
    while changed:
        changed = False
        for name, spec in FIELDS.items():
            if spec.get("show_when") and name in config and not _holds(spec["show_when"], config):
                del config[name]
                changed = True
    return config


# visible_only() mirrors checker.js with the engine's own _holds(), and both sides
# of the property below are the engine: a wrong show_when in the matrix, or an error
# in _holds() itself, passes it. The hand-written cases below catch those; the
# page's own hiding is checked in Chromium (test_browser.py, test_reader.py).
def test_hand_written_hidden_questions():
    # on premises with Gmail: Exchange Online's questions, MFA (Exchange only) and
    # the Outlook sync of appointments (not synchronized) are hidden
    assert visible_only({"deployment": "on-premises", "email_system": "gmail", "authentication": "server-to-server",
                         "tenant": "other", "app_for_outlook": True, "mfa": True, "outlook_sync_for_act": True,
                         "sync": ["email"]}) == {"deployment": "on-premises", "email_system": "gmail", "sync": ["email"]}
    # Exchange Online, same tenant: the app for Outlook question shows only across tenants
    assert visible_only({"deployment": "online", "email_system": "exchange-online", "tenant": "same",
                         "app_for_outlook": True}) == {"deployment": "online", "email_system": "exchange-online",
                                                       "tenant": "same"}
    # ... or with OAuth across tenants
    across = {"deployment": "online", "email_system": "exchange-online", "tenant": "same", "app_for_outlook": True,
              "authentication": "oauth-cross-tenant"}
    assert visible_only(across) == across


def test_hidden_questions_never_change_the_verdict():
    dropped = 0
    for config in generate(10_000, seed=7):
        shown = visible_only(config)
        dropped += len(config) - len(shown)
        # the verdict, not the open questions: a hidden question is unstated there
        hidden, full = evaluate(shown, "en"), evaluate(config, "en")
        assert (hidden.status, hidden.findings) == (full.status, full.findings), (config, shown)
    assert dropped > 1000  # the property was really put to work


def test_required_questions_are_always_shown():
    for name, spec in FIELDS.items():
        if spec["required"]:
            assert "show_when" not in spec, name
