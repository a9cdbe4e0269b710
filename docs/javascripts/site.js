// Site-wide behaviour, on every page.
//
// Keep the reader's place when switching language: same page (the i18n plugin
// already links it), same query string (the checker's answers) and same anchor.
// The theme has its own handler for language links that drops both, so this one
// stops the event before it gets there.
(function () {
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
  function mount() {
    nameSearchDialog();
    document.querySelectorAll("a.md-select__link[hreflang]").forEach(function (link) {
      if (link.dataset.keepPlace) return;
      link.dataset.keepPlace = "1";
      link.addEventListener("click", keepPlace);
    });
  }
  if (typeof document$ !== "undefined") document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
