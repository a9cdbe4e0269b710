"""The support-matrix grid, as built: every cell's claim checked with the engine."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest

from tooling import matrix as tooling

LANG_PREFIX = {"pt-BR": "", "en": "en/"}


class Grid(HTMLParser):
    """Every grid cell on a page: (deployment, system, column) -> attributes and text."""

    def __init__(self):
        super().__init__()
        self.cells, self.rows, self.badges = {}, {}, {}
        self.deployment = self.system = self.cell = None
        self.in_grid_links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "sss-grid" in (a.get("class") or "").split():
            self.deployment = a["data-deployment"]
            self.rows[self.deployment] = []
        elif tag == "tr" and self.deployment and "data-system" in a:
            self.system = a["data-system"]
            self.rows[self.deployment].append(a)
            self.badges[self.deployment, self.system] = []
        elif tag == "td" and self.system:
            self.cell = dict(a, text="")
            self.cells[self.deployment, self.system, a["data-column"]] = self.cell
        elif tag == "a" and self.system:
            if "sss-eos" in (a.get("class") or ""):
                self.badges[self.deployment, self.system].append(a["href"])
            if self.cell is not None and "sss-fn" in (a.get("class") or ""):
                self.cell["note_href"] = a["href"]

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        elif tag == "tr":
            self.system = None
        elif tag == "table":
            self.deployment = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


def grid_of(site, lang) -> Grid:
    grid = Grid()
    grid.feed((site / LANG_PREFIX[lang] / "support-matrix" / "index.html").read_text(encoding="utf-8"))
    return grid


# Parity with the engine: the grid is built with the engine (sitegen.matrix_grids)
# and re-checked with it here, so a logic error in the engine itself (a wrong rule
# evaluation, a wrong severity order) shows on both sides and passes. The
# hand-written cells below, from the facts, are what catches that.
HAND_WRITTEN_CELLS = {
    # Exchange Server 2019 on premises, email: supported by the on-premises row
    ("on-premises", "exchange-server-2019", "email"): "supported",
    # Exchange Server 2010 SP3 online: unsupported since 2020-10-09
    ("online", "exchange-server-2010-sp3", "email"): "unsupported",
    ("online", "exchange-server-2010-sp3", "appointments-contacts-tasks"): "unsupported",
    # Gmail online: email supported, appointments, contacts and tasks not
    ("online", "gmail", "email"): "supported",
    ("online", "gmail", "appointments-contacts-tasks"): "unsupported",
    # Exchange Online online: supported
    ("online", "exchange-online", "email"): "supported",
}


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_hand_written_grid_cells(site, lang):
    cells = grid_of(site, lang).cells
    assert {k: cells[k]["data-status"] for k in HAND_WRITTEN_CELLS} == HAND_WRITTEN_CELLS


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_every_grid_cell_says_what_the_engine_says(site, engine, lang):
    grid = grid_of(site, lang)
    deployments = [v["id"] for v in engine.fields["deployment"]["values"]]
    systems = [v["id"] for v in engine.fields["email_system"]["values"]]
    assert list(grid.rows) == deployments
    for deployment in deployments:
        # every email system the matrix speaks of, in the questions' order
        assert [r["data-system"] for r in grid.rows[deployment]] == systems
    checked = 0
    for (deployment, system, column), cell in grid.cells.items():
        base = {"deployment": deployment, "email_system": system}
        if column in ("email", "appointments-contacts-tasks"):
            verdict = engine.evaluate({**base, "sync": [column]}, lang)
            assert cell["data-status"] == verdict.status, (deployment, system, column)
            # status in words, not colour alone
            assert engine.strings["status." + verdict.status][lang] in cell["text"]
            # the footnote leads to the entry of the finding that decides the status
            deciding = next(f for f in verdict.findings if f.severity == verdict.status)
            anchor = deciding.link.rsplit("#", 1)[1]
            assert cell["note_href"].endswith("#" + anchor), (deployment, system, column)
            checked += 1
        else:
            email = grid.cells[deployment, system, "email"]["data-status"]
            if "data-incoming" not in cell:
                # no row covers the pair: no protocol keeps it in the matrix
                assert email in ("unsupported", "unknown"), (deployment, system)
                for incoming in engine.fields["incoming_protocol"]["values"]:
                    status = engine.evaluate({**base, "incoming_protocol": incoming["id"]}, lang).status
                    assert status in ("unsupported", "unknown"), (deployment, system, incoming["id"])
                continue
            incoming, outgoing = cell["data-incoming"].split(), cell["data-outgoing"].split()
            for i, o in itertools.product(incoming, outgoing):
                status = engine.evaluate({**base, "incoming_protocol": i, "outgoing_protocol": o}, lang).status
                assert status == email, (deployment, system, i, o)
            for other in engine.fields["incoming_protocol"]["values"]:
                if other["id"] not in incoming:
                    status = engine.evaluate({**base, "incoming_protocol": other["id"]}, lang).status
                    assert status == "unsupported", (deployment, system, other["id"])
            checked += 1
    assert checked == len(deployments) * len(systems) * 3 - sum(
        1 for key, c in grid.cells.items() if key[2] == "protocol" and "data-incoming" not in c)


@pytest.mark.parametrize("lang", LANG_PREFIX)
def test_end_of_support_badges_match_the_lifecycle_notices(site, engine, lang):
    grid = grid_of(site, lang)
    badges = 0
    for (deployment, system), hrefs in grid.badges.items():
        verdict = engine.evaluate({"deployment": deployment, "email_system": system}, lang)
        notices = sorted(f.link.rsplit("#", 1)[1] for f in verdict.findings
                         if f.severity == "info" and "#lifecycle-" in f.link)
        assert sorted(h.rsplit("#", 1)[1] for h in hrefs) == notices, (deployment, system)
        badges += len(hrefs)
    assert badges >= 6  # 2013, 2016 and 2019 under both deployments


def test_the_on_premises_grid_is_marked_as_the_secondary_source(site, loaded):
    html = (site / "en" / "support-matrix" / "index.html").read_text(encoding="utf-8")
    online = html.index('<div class="sss-grid-box" data-deployment="online">')
    onprem = html.index('<div class="sss-grid-box sss-grid-secondary" data-deployment="on-premises">')
    assert online < onprem
    box = html[onprem:html.index("</table>", onprem)]
    assert "Secondary source · 2020-05-19" in box and "does not apply to the online apps" in box
    pt = (site / "support-matrix" / "index.html").read_text(encoding="utf-8")
    assert "Fonte secundária · 19/05/2020" in pt


def test_each_row_entry_names_its_products_as_a_list(site, loaded, engine):
    html = (site / "en" / "support-matrix" / "index.html").read_text(encoding="utf-8")
    labels = {v["id"]: v["label"]["en"] for v in engine.fields["email_system"]["values"]}
    rows = [e for _p, _s, e in tooling.iter_entries(loaded) if e.get("row")]
    assert rows
    for entry in rows:
        start = html.index(f'id="{entry["id"]}"')
        listing = html[start:html.index("</ul>", start)]
        items = re.findall(r"<li>([^<]*)</li>", listing)
        assert items == [labels[s] for s in entry["row"]["email_systems"]], entry["id"]
