// Site-wide behaviour, on every page.
//
// Each language has its own search index (hooks/reader.py), so results and
// their count are in the page's language.
//
// Keep the reader's place when switching language: same page (the i18n plugin
// already links it), same query string (the checker's answers) and same anchor.
// The theme has its own handler for language links that drops both, so this one
// stops the event before it gets there.
(function () {
  // A copy served from another address than the one it was built for (a preview,
  // a test host) names its public address in the hreflang alternates. The theme
  // fetches sitemap.xml beside each alternate, which the page's own policy
  // (connect-src 'self') refuses there: point the alternates at this copy, same
  // path, before the theme reads them (this runs before DOMContentLoaded).
  Array.prototype.forEach.call(document.head.querySelectorAll('link[rel="alternate"][hreflang]'), function (link) {
    var url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin) link.setAttribute("href", location.origin + url.pathname);
  });
  function keepPlace(event) {
    var link = event.currentTarget;
    var lang = link.getAttribute("hreflang");
    var alternate = document.head.querySelector('link[rel="alternate"][hreflang="' + lang + '"]');
    var url = new URL(alternate ? alternate.getAttribute("href") : link.getAttribute("href"), location.href);
    url.search = location.search;
    url.hash = location.hash;
    link.href = url.href;
    event.stopPropagation();
  }
  // The theme's search dialog has no accessible name; give it the search label.
  function nameSearchDialog() {
    var dialog = document.querySelector('.md-search[role="dialog"]');
    var input = document.querySelector(".md-search__input");
    if (dialog && input && !dialog.hasAttribute("aria-label")) {
      dialog.setAttribute("aria-label", input.getAttribute("aria-label") || input.placeholder);
    }
  }
  // The support-matrix grids: filter rows by email system and by status,
  // without reloading. Without JavaScript the filters stay hidden and every
  // row shows.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function mountGridFilters() {
    var form = document.getElementById("sss-grid-filters");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var input = document.getElementById("sss-filter-system");
    var count = document.getElementById("sss-filter-count");
    var rows = document.querySelectorAll("table.sss-grid tbody tr[data-system]");
    function apply() {
      var wanted = fold(input.value.trim());
      var statuses = {};
      form.querySelectorAll('input[name="status"]').forEach(function (box) { statuses[box.value] = box.checked; });
      var shown = 0;
      rows.forEach(function (row) {
        var nameOk = !wanted || fold(row.dataset.label).indexOf(wanted) !== -1 || row.dataset.system.indexOf(wanted) !== -1;
        var statusOk = row.dataset.statuses.split(" ").some(function (s) { return statuses[s]; });
        row.hidden = !(nameOk && statusOk);
        if (!row.hidden) shown += 1;
      });
      count.textContent = count.dataset.template.replace("{shown}", shown).replace("{total}", rows.length);
    }
    // A search for a system opens the folded grids, so every matching row shows.
    form.addEventListener("input", function () { openGrids(); });
    form.addEventListener("change", function () { openGrids(); });
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    apply();
  }
  // On a phone the grids are long: each deployment's grid starts folded (its
  // summary names it and counts its rows). Without JavaScript, or on a wider
  // screen, they stay open; printing opens them.
  function openGrids() {
    document.querySelectorAll("details.sss-grid-fold").forEach(function (d) { d.open = true; });
  }
  function foldGrids() {
    var folds = document.querySelectorAll("details.sss-grid-fold");
    if (!folds.length || folds[0].dataset.ready) return;
    folds.forEach(function (d) { d.dataset.ready = "1"; });
    if (window.matchMedia("(max-width: 44.9375em)").matches) {
      folds.forEach(function (d) { d.open = false; });
    }
    window.addEventListener("beforeprint", openGrids);
  }
  function mount() {
    nameSearchDialog();
    foldGrids();
    mountGridFilters();
    document.querySelectorAll("a.md-select__link[hreflang]").forEach(function (link) {
      if (link.dataset.keepPlace) return;
      link.dataset.keepPlace = "1";
      link.addEventListener("click", keepPlace);
    });
  }
  if (typeof document$ !== "undefined") document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
