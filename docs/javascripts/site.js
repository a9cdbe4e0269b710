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
  // The search index holds both languages; show the results in the page's own.
  function isEnglish(href) {
    return new URL(href, location.href).pathname.split("/").indexOf("en") !== -1;
  }
  function filterResults(list) {
    var english = document.documentElement.lang === "en";
    list.querySelectorAll("li.md-search-result__item").forEach(function (item) {
      var link = item.querySelector("a.md-search-result__link");
      if (link) item.hidden = isEnglish(link.getAttribute("href")) !== english;
    });
  }
  function filterSearch() {
    var list = document.querySelector(".md-search-result__list");
    if (!list || list.dataset.langFilter) return;
    list.dataset.langFilter = "1";
    new MutationObserver(function () { filterResults(list); }).observe(list, { childList: true });
  }
  function mount() {
    nameSearchDialog();
    filterSearch();
    document.querySelectorAll("a.md-select__link[hreflang]").forEach(function (link) {
      if (link.dataset.keepPlace) return;
      link.dataset.keepPlace = "1";
      link.addEventListener("click", keepPlace);
    });
  }
  if (typeof document$ !== "undefined") document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
