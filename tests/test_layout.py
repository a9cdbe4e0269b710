"""What ships and where things are said once: the page order lives in
mkdocs.yml's nav alone; the maintainer tooling is outside the wheel."""

from __future__ import annotations

from tooling import matrix as tooling

from .conftest import REPO


def test_page_order_is_the_site_navigation(loaded):
    order = tooling.page_order()
    assert order[:2] == ["index", "support-matrix"]
    ids = [page["page"]["id"] for _doc, page in loaded.pages]
    assert set(ids) <= set(order), set(ids) - set(order)  # every matrix page is in the navigation
    assert ids == [i for i in order if i in ids]


def test_changing_the_navigation_changes_the_order(tmp_path, monkeypatch):
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    swapped = text.replace("  - support-matrix.md\n", "").replace("  - notes.md\n", "  - notes.md\n  - support-matrix.md\n")
    assert swapped != text
    config = tmp_path / "mkdocs.yml"
    config.write_text(swapped, encoding="utf-8")
    order = tooling.page_order(config)
    assert order.index("support-matrix") == order.index("notes") + 1
    monkeypatch.setattr(tooling, "MKDOCS_YML", config)
    monkeypatch.setattr(tooling.page_order, "__defaults__", (config,))
    ids = [page["page"]["id"] for _doc, page in tooling.load().pages]
    assert ids[-2:] == ["notes", "support-matrix"]


def test_site_navigation_follows_it(site):
    """The built site lists the pages in the nav's order (Material's navigation)."""
    html = (site / "en" / "index.html").read_text(encoding="utf-8")
    order = [i for i in tooling.page_order() if i != "index"]
    positions = [html.index(f'href="{i}/"') for i in order]
    assert positions == sorted(positions)
